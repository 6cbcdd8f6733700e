//! Every sentence Keuze shows a person, and the choice of language to show it in.
//!
//! The words live in [Fluent](https://projectfluent.org) files, one folder per language:
//! `locales/<language>/*.ftl`, English (`en`) being the source every other language
//! translates. Code names a message (`lang.t("me-title")`), never writes a sentence.
//!
//! - **Adding a language is adding a folder.** `build.rs` lists `locales/*/` and embeds every
//!   `.ftl` file with `include_str!`, and cargo re-runs it when anything below `locales/`
//!   changes. We chose a build script over `rust-embed` (which reads the files from disk at
//!   run time in debug builds, so a test could pass on a file the binary lacks) and over
//!   `include_dir` (a proc macro that does not notice a new file without a clean build):
//!   the script adds no dependency and the binary carries exactly what the tests read.
//! - **Parsed once.** [`Words::get`] builds one bundle per language on first use
//!   (`OnceLock`); Fluent's `concurrent` bundles are `Send + Sync`, so every request
//!   shares them.
//! - **No Unicode isolation marks.** Fluent wraps each placeable in FSI/PDI marks by
//!   default, to keep a right-to-left name from reordering a left-to-right sentence. Our
//!   words go into HTML pages and into JSON (the banner's texts, `/privacy.json`), where
//!   invisible characters would break copying, searching and comparing the texts, and
//!   every language we speak runs left to right. A right-to-left language should isolate
//!   in the markup (`<bdi>`, `dir`), where HTML does it properly.
//! - **A missing message never fails a page.** [`Lang::t`] falls back to English, then to
//!   the message id itself, logs the miss once (`tracing`) and counts it
//!   ([`Words::misses`]); the tests in `tests/` keep every language complete.
//!
//! Ids are kebab-case and grouped by the page that uses them (`me-`, `privacy-`,
//! `incident-`, `banner-`, `demo-`), or by what they name: a catalog change (`change-`,
//! `changes-`: [`changes`]), a country (`country-NL`), a TCF purpose (`tcf-`);
//! `common.ftl` holds what several pages share. `id.attribute` names an attribute, e.g.
//! `legal-basis-name.mid-sentence`. Code passes ids as string literals to [`Lang::t`] and
//! [`Lang::t_args`], so that a test can find every id the code asks for; where code used
//! to branch on a value, the message selects on a variable instead.

pub mod changes;
mod negotiate;

pub use negotiate::{best_of_accept_language, exact, negotiate};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentError, FluentResource};
use keuze_core::{LegalBasis, Locale, Period, PeriodUnit, Timestamp};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use unic_langid::LanguageIdentifier;

/// A value for a message's variable: text or a number (`"org".into()`, `3.into()`).
pub use fluent_bundle::FluentValue as Value;

/// Every locale file as `(language, [(file name, text)])`, written by `build.rs`.
const LOCALES: &[(&str, &[(&str, &str)])] = include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every other one translates, and the one spoken when nothing else fits.
pub const SOURCE_LANGUAGE: &str = "en";

type Bundle = FluentBundle<FluentResource>;

/// The words of every language, loaded once.
pub struct Words {
    /// The source language first, then the others in alphabetical order.
    languages: Vec<Locale>,
    /// One bundle per language, in the order of `languages`.
    bundles: Vec<Bundle>,
    /// What went wrong while loading: a file that does not parse, an id defined twice.
    problems: Vec<String>,
    misses: AtomicUsize,
    /// `(language, id)` pairs already logged, so a miss is logged once, not per request.
    reported: Mutex<HashSet<(String, String)>>,
}

impl Words {
    /// The words, parsed on first use.
    pub fn get() -> &'static Words {
        static WORDS: OnceLock<Words> = OnceLock::new();
        WORDS.get_or_init(Words::load)
    }

    fn load() -> Words {
        let mut problems = Vec::new();
        let mut loaded: Vec<(Locale, Bundle)> = Vec::new();
        for (folder, files) in LOCALES {
            let (Ok(locale), Ok(langid)) =
                (Locale::parse(folder), folder.parse::<LanguageIdentifier>())
            else {
                problems.push(format!(
                    "locales/{folder}: not a two-letter language code; skipped"
                ));
                continue;
            };
            let mut bundle = Bundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            for (file, text) in *files {
                let resource = match FluentResource::try_new((*text).to_owned()) {
                    Ok(r) => r,
                    Err((r, errors)) => {
                        for e in errors {
                            problems.push(format!("locales/{folder}/{file}: {e}"));
                        }
                        r
                    }
                };
                if let Err(errors) = bundle.add_resource(resource) {
                    for e in errors {
                        problems.push(format!("locales/{folder}/{file}: {e}"));
                    }
                }
            }
            loaded.push((locale, bundle));
        }
        loaded.sort_by(|(a, _), (b, _)| {
            (a.as_str() != SOURCE_LANGUAGE, a.as_str())
                .cmp(&(b.as_str() != SOURCE_LANGUAGE, b.as_str()))
        });
        for p in &problems {
            tracing::error!(problem = %p, "a locale file has an error");
        }
        let (languages, bundles) = loaded.into_iter().unzip();
        Words {
            languages,
            bundles,
            problems,
            misses: AtomicUsize::new(0),
            reported: Mutex::new(HashSet::new()),
        }
    }

    /// Every language there are words for: the source language first.
    pub fn languages(&self) -> &[Locale] {
        &self.languages
    }

    /// The words in `locale`, or in the source language for a language we do not speak.
    pub fn lang(&self, locale: &Locale) -> Lang<'_> {
        let at = self.languages.iter().position(|l| l == locale).unwrap_or(0);
        Lang { words: self, at }
    }

    /// What went wrong while loading the files; empty when all is well.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// How many times a message was missing or could not be formatted since start.
    pub fn misses(&self) -> usize {
        self.misses.load(Ordering::Relaxed)
    }

    fn missed(&self, language: &str, id: &str, what: &dyn std::fmt::Display) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        let first = self
            .reported
            .lock()
            .map(|mut seen| seen.insert((language.to_owned(), id.to_owned())))
            .unwrap_or(true);
        if first {
            tracing::error!(language, id, problem = %what, "a message is missing or broken");
        }
    }
}

/// The words of one language.
#[derive(Clone, Copy)]
pub struct Lang<'w> {
    words: &'w Words,
    at: usize,
}

impl std::fmt::Debug for Lang<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Lang").field(&self.code()).finish()
    }
}

impl<'w> Lang<'w> {
    /// The language's code, e.g. `nl`: for `<html lang>` and `Content-Language`.
    pub fn code(&self) -> &'w str {
        self.words
            .languages
            .get(self.at)
            .map_or(SOURCE_LANGUAGE, Locale::as_str)
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> Cow<'w, str> {
        self.format(id, None)
    }

    /// The message `id` with its variables.
    pub fn t_args(&self, id: &str, args: &[(&str, Value<'_>)]) -> String {
        let mut fluent = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.format(id, Some(&fluent)).into_owned()
    }

    /// The message `id` if this language or the source language has it, else `None`; for
    /// a table that may lack an entry (country names), so a gap is no miss.
    pub fn t_opt(&self, id: &str) -> Option<Cow<'w, str>> {
        let words = self.words;
        let has = |at: usize| words.bundles.get(at).and_then(|b| pattern(b, id)).is_some();
        (has(self.at) || has(0)).then(|| self.format(id, None))
    }

    /// The language as a catalog locale, for picking a catalog text to quote.
    pub fn locale(&self) -> Locale {
        self.words
            .languages
            .get(self.at)
            .cloned()
            .unwrap_or_else(Locale::en)
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> Cow<'w, str> {
        let words = self.words;
        let found = words
            .bundles
            .get(self.at)
            .and_then(|b| Some((b, pattern(b, id)?)))
            .or_else(|| {
                words.missed(self.code(), id, &"no such message");
                let source = words.bundles.first()?;
                Some((source, pattern(source, id)?))
            });
        let Some((bundle, pattern)) = found else {
            return Cow::Owned(id.to_owned());
        };
        let mut errors: Vec<FluentError> = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if let Some(e) = errors.first() {
            words.missed(self.code(), id, e);
        }
        text
    }

    /// A date as people write it: `15 January 2027`, `15 januari 2027` (UTC).
    pub fn date(&self, at: Timestamp) -> String {
        let Some(t) = utc(at) else {
            return at.to_rfc3339();
        };
        self.t_args("date-in-words", &date_args(t))
    }

    /// A date and time: `15 January 2027, 10:03 UTC`.
    pub fn moment(&self, at: Timestamp) -> String {
        let Some(t) = utc(at) else {
            return at.to_rfc3339();
        };
        let mut args = date_args(t).to_vec();
        args.push(("hour", format!("{:02}", t.hour()).into()));
        args.push(("minute", format!("{:02}", t.minute()).into()));
        self.t_args("moment-in-words", &args)
    }

    /// A period in words: `2 years`, `2 jaar`.
    pub fn period(&self, period: Period) -> String {
        self.t_args("period-in-words", &period_args(period))
    }

    /// A sentence around a period: `id` is a message with the variables `$amount` and
    /// `$unit`, e.g. "We keep it for 2 years."
    pub fn period_sentence(&self, id: &str, period: Period) -> String {
        self.t_args(id, &period_args(period))
    }

    /// Items in a sentence: `A`, `A and B`, `A, B and C`.
    pub fn list(&self, items: &[String]) -> String {
        match items.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => {
                let rest = rest.join(&self.t("list-separator"));
                self.t_args(
                    "list-and",
                    &[("rest", rest.into()), ("last", last.as_str().into())],
                )
            }
        }
    }

    /// The legal basis in plain words, e.g. "Your consent".
    pub fn legal_basis_name(&self, basis: LegalBasis) -> String {
        self.t_args("legal-basis-name", &[("basis", basis.as_str().into())])
    }

    /// What the legal basis means for the reader, in one or two short sentences.
    pub fn legal_basis_explanation(&self, basis: LegalBasis) -> String {
        self.t_args(
            "legal-basis-explanation",
            &[("basis", basis.as_str().into())],
        )
    }
}

/// The pattern of message `id`, or of its attribute for `id.attribute`.
fn pattern<'b>(bundle: &'b Bundle, id: &str) -> Option<&'b fluent_syntax::ast::Pattern<&'b str>> {
    match id.split_once('.') {
        Some((message, attribute)) => Some(
            bundle
                .get_message(message)?
                .get_attribute(attribute)?
                .value(),
        ),
        None => bundle.get_message(id)?.value(),
    }
}

fn utc(at: Timestamp) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(at.unix_millis().div_euclid(1000)).ok()
}

fn date_args(t: time::OffsetDateTime) -> [(&'static str, Value<'static>); 3] {
    [
        ("day", t.day().into()),
        ("month", u8::from(t.month()).into()),
        ("year", t.year().into()),
    ]
}

fn period_args(p: Period) -> [(&'static str, Value<'static>); 2] {
    let unit = match p.unit {
        PeriodUnit::Days => "days",
        PeriodUnit::Weeks => "weeks",
        PeriodUnit::Months => "months",
        PeriodUnit::Years => "years",
    };
    [("amount", p.amount.into()), ("unit", unit.into())]
}
