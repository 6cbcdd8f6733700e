//! The operator's language and the command line's words in it. The language is chosen
//! once, on first use: `KEUZE_LANG`, else the POSIX locale (`LC_ALL`, `LC_MESSAGES`,
//! `LANG`), else English; the sentences are the `cli-` messages of keuze-words' `cli.ftl`.

use keuze_core::Locale;
use keuze_words::{Lang, Words};
use std::sync::OnceLock;

/// The words in the operator's language.
pub fn lang() -> Lang<'static> {
    static LANG: OnceLock<Lang<'static>> = OnceLock::new();
    *LANG.get_or_init(|| {
        let words = Words::get();
        words.lang(&operator_language(
            |name| std::env::var(name).ok(),
            words.languages(),
        ))
    })
}

/// The operator's language as a locale, to pick one of a text's languages (an incident's
/// title).
pub fn locale() -> Locale {
    Locale::parse(lang().code()).unwrap_or_else(|_| Locale::en())
}

/// The language of `available` to speak to the operator, from the environment `var` reads.
///
/// `KEUZE_LANG` wins when it names a language we speak (`nl`, `nl-BE`, `nl_BE.UTF-8`).
/// Otherwise the POSIX locale decides as the C library would: the first of `LC_ALL`,
/// `LC_MESSAGES`, `LANG` that is set and not empty, so `LC_ALL=C` gives English whatever
/// `LANG` says. A language we do not speak gives English.
pub fn operator_language(var: impl Fn(&str) -> Option<String>, available: &[Locale]) -> Locale {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let spoken = |value: &str| keuze_words::best_of_accept_language(&tag(value), available);
    set("KEUZE_LANG")
        .and_then(|v| spoken(&v))
        .or_else(|| {
            ["LC_ALL", "LC_MESSAGES", "LANG"]
                .into_iter()
                .find_map(set)
                .and_then(|v| spoken(&v))
        })
        .unwrap_or_else(|| keuze_words::negotiate(None, None, available))
}

/// A POSIX locale name as a language tag: `nl_NL.UTF-8@euro` → `nl-NL`. The tag is read
/// as one range of an Accept-Language header, so a comma or weight in it matches nothing.
fn tag(locale: &str) -> String {
    let name = locale.split(['.', '@']).next().unwrap_or_default().trim();
    name.replace('_', "-").replace([',', ';'], " ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pick(vars: &[(&str, &str)]) -> String {
        let ours = [Locale::en(), Locale::nl()];
        operator_language(
            |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            },
            &ours,
        )
        .to_string()
    }

    #[test]
    fn keuze_lang_wins_then_the_posix_locale_then_english() {
        assert_eq!(pick(&[]), "en");
        assert_eq!(pick(&[("LANG", "nl_NL.UTF-8")]), "nl");
        assert_eq!(pick(&[("LANG", "nl_BE.UTF-8@euro")]), "nl");
        assert_eq!(pick(&[("LANG", "en_US.UTF-8")]), "en");
        assert_eq!(pick(&[("KEUZE_LANG", "nl"), ("LANG", "en_GB")]), "nl");
        assert_eq!(pick(&[("KEUZE_LANG", "NL-be"), ("LANG", "en_GB")]), "nl");
        assert_eq!(pick(&[("KEUZE_LANG", "en"), ("LC_ALL", "nl_NL")]), "en");
        assert_eq!(pick(&[("LC_MESSAGES", "nl_NL"), ("LANG", "en_US")]), "nl");
        assert_eq!(pick(&[("LC_ALL", "nl_NL"), ("LC_MESSAGES", "en_US")]), "nl");
    }

    #[test]
    fn the_first_posix_variable_set_decides_even_when_it_says_c() {
        // Scripts set LC_ALL=C to get untranslated output, whatever LANG says.
        assert_eq!(pick(&[("LC_ALL", "C"), ("LANG", "nl_NL.UTF-8")]), "en");
        assert_eq!(pick(&[("LC_ALL", "POSIX"), ("LANG", "nl_NL.UTF-8")]), "en");
        assert_eq!(
            pick(&[("LC_ALL", "C.UTF-8"), ("LANG", "nl_NL.UTF-8")]),
            "en"
        );
        assert_eq!(pick(&[("LC_ALL", "de_DE"), ("LANG", "nl_NL")]), "en");
        // An empty variable counts as not set.
        assert_eq!(pick(&[("LC_ALL", ""), ("LANG", "nl_NL")]), "nl");
    }

    #[test]
    fn a_keuze_lang_we_do_not_speak_leaves_it_to_the_locale() {
        assert_eq!(pick(&[("KEUZE_LANG", "de"), ("LANG", "nl_NL.UTF-8")]), "nl");
        assert_eq!(pick(&[("KEUZE_LANG", "klingon"), ("LANG", "C")]), "en");
        assert_eq!(pick(&[("KEUZE_LANG", "  ")]), "en");
        // Not a header: a comma or weight in the value does not smuggle in a language.
        assert_eq!(pick(&[("KEUZE_LANG", "de,nl")]), "en");
        assert_eq!(pick(&[("KEUZE_LANG", "de;q=0.5,nl")]), "en");
    }
}
