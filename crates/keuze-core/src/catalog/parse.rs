//! Reading a catalog from TOML. The document is walked by hand rather than deserialized,
//! so one run reports every problem at once, each with the exact place, what is wrong
//! and how to fix it.

use super::{
    Catalog, LegalBasis, Organisation, Period, Preset, Purpose, Recipient, Tcf, Text,
    CONSENT_MODE_SIGNALS,
};
use crate::gvl::{self, MAX_PURPOSE, MAX_SPECIAL_FEATURE};
use crate::ids::{CategoryId, CountryCode, Locale, PurposeId};
use crate::readability::{self, Readability};
use crate::taxonomy::{Category, Taxonomy};
use keuze_tcf::Gvl;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use toml_edit::{ImDocument, Item, TableLike, Value};

/// The longest description, in characters, a purpose may have in any locale.
pub const MAX_DESCRIPTION_CHARS: usize = 600;

/// The widest underline `render` draws, in bytes.
const MAX_UNDERLINE: usize = 60;

const ROOT_KEYS: &[&str] = &["organisation", "categories", "purposes", "presets", "tcf"];
const ORGANISATION_KEYS: &[&str] = &["name", "contact", "privacy_contact", "country"];
const CATEGORY_KEYS: &[&str] = &["id", "name", "sensitive"];
const PURPOSE_KEYS: &[&str] = &[
    "id",
    "legal_basis",
    "categories",
    "retention",
    "consent_lifetime",
    "gpc",
    "consent_mode",
    "revision",
    "tcf_purposes",
    "tcf_special_features",
    "title",
    "description",
    "benefit",
    "alternative",
    "recipients",
];
const RECIPIENT_KEYS: &[&str] = &["name", "country"];
const PRESET_KEYS: &[&str] = &["id", "title", "description", "grants"];
const TCF_KEYS: &[&str] = &["cmp_id", "cmp_version", "publisher_country", "vendors"];

const PERIOD_FORMS: &str =
    "write a whole number and a unit: `30 days`, `6 weeks`, `13 months` or `7 years`";

/// ISO 3166-1 alpha-2 codes in use.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH \
    BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX \
    CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM \
    GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG \
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN \
    MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK \
    PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST \
    SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI \
    VN VU WF WS YE YT ZA ZM ZW";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a catalog file, located by byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Byte range in the source.
    pub span: std::ops::Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Range<usize>, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span,
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn warning(
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            span,
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

/// Everything `keuze catalog check` reports about one file.
#[derive(Debug, Clone)]
pub struct CatalogReport {
    pub file: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
    /// The reading-ease score of every purpose text Keuze has a formula for, in the
    /// order of the file.
    pub readability: Vec<ReadabilityRow>,
}

/// How easy one purpose text in one language is to read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadabilityRow {
    /// The purpose's id as written (or `purpose number N` when it has none).
    pub purpose: String,
    /// `description`, `benefit` or `alternative`.
    pub field: &'static str,
    pub locale: Locale,
    #[serde(flatten)]
    pub readability: Readability,
    /// Where the text is in the source.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// The purpose texts whose readability is checked: titles are labels, not prose.
const SCORED_TEXTS: [&str; 3] = ["description", "benefit", "alternative"];

/// The catalog was refused; the report says why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the catalog {} has {} error(s)", .0.file, .0.diagnostics.iter().filter(|d| d.severity == Severity::Error).count())]
pub struct CatalogError(pub CatalogReport);

/// Parses and checks a catalog. `file` names the source in messages.
///
/// Returns the catalog with a report that holds only warnings (if any), or an error whose
/// report holds every problem found.
pub fn parse_catalog(file: &str, source: &str) -> Result<(Catalog, CatalogReport), CatalogError> {
    check(file, source, None)
}

/// [`parse_catalog`], and each vendor of the `[tcf]` table checked against a Global
/// Vendor List: one it does not list, or lists as deleted, is an error; one that
/// declares none of the TCF purposes or special features the catalog maps is a warning.
pub fn parse_catalog_against(
    file: &str,
    source: &str,
    vendor_list: &Gvl,
) -> Result<(Catalog, CatalogReport), CatalogError> {
    check(file, source, Some(vendor_list))
}

fn check(
    file: &str,
    source: &str,
    vendor_list: Option<&Gvl>,
) -> Result<(Catalog, CatalogReport), CatalogError> {
    let mut checker = Checker {
        source,
        diagnostics: Vec::new(),
        readability: Vec::new(),
        vendor_list,
        tcf_mappings: Vec::new(),
        tcf_keys: Vec::new(),
    };
    let catalog = match ImDocument::parse(source) {
        Ok(doc) => checker.catalog(doc.as_table()),
        Err(e) => {
            checker.syntax_error(&e);
            None
        }
    };
    let mut diagnostics = checker.diagnostics;
    // Report in reading order, whatever order the checks ran in.
    diagnostics.sort_by_key(|d| d.span.start);
    let mut readability = checker.readability;
    readability.sort_by_key(|r| r.span.start);
    let report = CatalogReport {
        file: file.to_owned(),
        source: source.to_owned(),
        diagnostics,
        readability,
    };
    match catalog {
        Some(catalog) if report.error_count() == 0 => Ok((catalog, report)),
        _ => Err(CatalogError(report)),
    }
}

impl CatalogReport {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    pub fn error_count(&self) -> usize {
        self.errors().count()
    }

    pub fn warning_count(&self) -> usize {
        self.warnings().count()
    }

    /// The reading-ease score of every purpose text Keuze has a formula for (`en` and
    /// `nl`), in the order of the file.
    pub fn readability(&self) -> &[ReadabilityRow] {
        &self.readability
    }

    /// The texts that score below [`readability::WARN_BELOW`]: each has a warning, and
    /// `keuze catalog check --strict` fails on them.
    pub fn hard_to_read(&self) -> impl Iterator<Item = &ReadabilityRow> {
        self.readability.iter().filter(|r| r.readability.is_hard())
    }

    /// The readability scores as a plain-text table, one row per text and language:
    ///
    /// ```text
    /// purpose           text         lang  score  longest sentence
    /// newsletter        description  en    100.6  10 words
    /// newsletter        description  nl     48.2  19 words  hard to read
    ///
    /// Scores: Flesch reading ease (en), Flesch–Douma (nl). Higher is easier; ...
    /// ```
    pub fn render_readability(&self) -> String {
        if self.readability.is_empty() {
            return format!("{} has no purpose texts to score\n", self.file);
        }
        let header = ["purpose", "text", "lang", "score", "longest sentence"];
        let rows: Vec<[String; 5]> = self
            .readability
            .iter()
            .map(|r| {
                let words = r.readability.longest_sentence_words;
                [
                    r.purpose.clone(),
                    r.field.to_owned(),
                    r.locale.to_string(),
                    format!("{:.1}", r.readability.score),
                    format!("{words} word{}", if words == 1 { "" } else { "s" }),
                ]
            })
            .collect();
        let width = |col: usize| {
            let head = header.get(col).map_or(0, |h| h.chars().count());
            rows.iter()
                .filter_map(|r| r.get(col))
                .map(|c| c.chars().count())
                .fold(head, usize::max)
        };
        let widths: Vec<usize> = (0..header.len()).map(width).collect();
        let w = |i: usize| widths.get(i).copied().unwrap_or(0);
        let mut out = String::new();
        let mut line = |cells: [&str; 5], hard: bool| {
            let [purpose, field, lang, score, longest] = cells;
            let mut l = format!(
                "{purpose:<pw$}  {field:<fw$}  {lang:<lw$}  {score:>sw$}  {longest:<gw$}",
                pw = w(0),
                fw = w(1),
                lw = w(2),
                sw = w(3),
                gw = w(4),
            );
            if hard {
                l.push_str("  hard to read");
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(header, false);
        for (cells, r) in rows.iter().zip(&self.readability) {
            let [a, b, c, d, e] = cells;
            line([a, b, c, d, e], r.readability.is_hard());
        }
        out.push_str(&format!(
            "\nScores: {} (en), {} (nl). Higher is easier; below {} is hard to read.\n",
            readability::Formula::FleschReadingEase.name(),
            readability::Formula::FleschDouma.name(),
            readability::WARN_BELOW
        ));
        out
    }

    /// Where a diagnostic starts, as 1-based line and column (the column counts
    /// characters, not bytes).
    pub fn line_column(&self, diagnostic: &Diagnostic) -> (usize, usize) {
        line_column(&self.source, diagnostic.span.start)
    }

    /// Every diagnostic in a compiler-like plain-text form (no colour), followed by a
    /// one-line summary:
    ///
    /// ```text
    /// error: unknown key `benfit` in purpose `newsletter`
    ///    --> catalog.toml:12:1
    ///    |
    /// 12 | benfit = { en = "...", nl = "..." }
    ///    | ^^^^^^
    ///    |
    ///    = help: did you mean `benefit`?
    ///
    /// error: catalog.toml has 1 error
    /// ```
    pub fn render(&self) -> String {
        use codespan_reporting::diagnostic::{Diagnostic as Shown, Label, Severity as Level};
        use codespan_reporting::files::SimpleFile;
        use codespan_reporting::term::{self, termcolor::NoColor, Chars, Config};

        let files = SimpleFile::new(self.file.as_str(), self.source.as_str());
        let config = Config {
            chars: Chars::ascii(),
            ..Config::default()
        };
        let mut out = NoColor::new(Vec::new());
        let mut fallback = String::new();
        for d in &self.diagnostics {
            let level = match d.severity {
                Severity::Error => Level::Error,
                Severity::Warning => Level::Warning,
            };
            let shown = Shown::new(level)
                .with_message(d.message.as_str())
                .with_labels(vec![Label::primary((), self.display_span(&d.span))])
                .with_notes(d.help.iter().map(|h| format!("help: {h}")).collect());
            if term::emit(&mut out, &config, &files, &shown).is_err() {
                // Only reachable with a span outside the source; still say what is wrong.
                let (line, column) = self.line_column(d);
                fallback.push_str(&format!(
                    "{}: {}\n --> {}:{line}:{column}\n",
                    level_word(d.severity),
                    d.message,
                    self.file
                ));
            }
        }
        let mut text = String::from_utf8_lossy(&out.into_inner()).into_owned();
        text.push_str(&fallback);
        text.push_str(&self.summary());
        text.push('\n');
        text
    }

    /// One line: how many errors and warnings the file has.
    pub fn summary(&self) -> String {
        let count = |n: usize, word: &str| {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        match (self.error_count(), self.warning_count()) {
            (0, 0) => format!("ok: {} has no errors or warnings", self.file),
            (0, w) => format!("warning: {} has {}", self.file, count(w, "warning")),
            (e, 0) => format!("error: {} has {}", self.file, count(e, "error")),
            (e, w) => format!(
                "error: {} has {} and {}",
                self.file,
                count(e, "error"),
                count(w, "warning")
            ),
        }
    }

    /// The span to underline: inside the source, on character boundaries, and cut at the
    /// end of its first line and at [`MAX_UNDERLINE`] bytes, so a long table or text does
    /// not fill the screen with carets.
    fn display_span(&self, span: &Range<usize>) -> Range<usize> {
        let src = self.source.as_str();
        let floor = |mut i: usize| {
            i = i.min(src.len());
            while !src.is_char_boundary(i) {
                i = i.saturating_sub(1);
            }
            i
        };
        let start = floor(span.start);
        let mut end = floor(span.end.max(start));
        if let Some(nl) = src.get(start..end).and_then(|s| s.find('\n')) {
            end = start + nl;
        }
        start..floor(end.min(start + MAX_UNDERLINE))
    }
}

fn level_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// 1-based line and character column of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset = offset.saturating_sub(1);
    }
    let before = source.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// A table being checked: where to point when something in it is missing, and how to
/// name it in messages.
struct Node<'a> {
    table: &'a dyn TableLike,
    span: Range<usize>,
    what: String,
}

/// One key's value, with the places to point at.
struct Field<'a> {
    item: &'a Item,
    key_span: Range<usize>,
    /// The value's own span, or the key's when the value has none.
    span: Range<usize>,
}

impl<'a> Node<'a> {
    fn field(&self, key: &str) -> Option<Field<'a>> {
        let (k, item) = self.table.get_key_value(key)?;
        let key_span = k.span().unwrap_or_else(|| self.span.clone());
        let span = item.span().unwrap_or_else(|| key_span.clone());
        Some(Field {
            item,
            key_span,
            span,
        })
    }

    /// The value of `key` if it is a string, for naming the table before it is checked.
    fn peek_str(&self, key: &str) -> Option<&'a str> {
        self.table.get(key).and_then(Item::as_str)
    }
}

struct Checker<'s> {
    source: &'s str,
    diagnostics: Vec<Diagnostic>,
    readability: Vec<ReadabilityRow>,
    vendor_list: Option<&'s Gvl>,
    /// Every valid TCF id a purpose maps to, in file order.
    tcf_mappings: Vec<TcfMapping>,
    /// Where a purpose has a `tcf_purposes` or `tcf_special_features` key, valid or not,
    /// and which purpose it is.
    tcf_keys: Vec<(Range<usize>, String)>,
}

/// What a TCF id names: a purpose or a special feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcfKind {
    Purpose,
    SpecialFeature,
}

impl TcfKind {
    fn key(self) -> &'static str {
        match self {
            Self::Purpose => "tcf_purposes",
            Self::SpecialFeature => "tcf_special_features",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Purpose => "TCF purpose",
            Self::SpecialFeature => "TCF special feature",
        }
    }

    fn max(self) -> u8 {
        match self {
            Self::Purpose => MAX_PURPOSE,
            Self::SpecialFeature => MAX_SPECIAL_FEATURE,
        }
    }

    fn name(self, id: u8) -> &'static str {
        match self {
            Self::Purpose => gvl::purpose_name(id),
            Self::SpecialFeature => gvl::special_feature_name(id),
        }
        .unwrap_or("")
    }

    /// `1 (Store and/or access ...), 2 (...)`: every id with its name.
    fn list(self) -> String {
        (1..=self.max())
            .map(|id| format!("{id} ({})", self.name(id)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One TCF id a purpose maps to.
struct TcfMapping {
    kind: TcfKind,
    id: u8,
    purpose: String,
    span: Range<usize>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(span, message, help));
    }

    fn warning(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::warning(span, message, help));
    }

    fn line_of(&self, offset: usize) -> usize {
        line_column(self.source, offset).0
    }

    fn syntax_error(&mut self, e: &toml_edit::TomlError) {
        let span = e.span().unwrap_or(0..0);
        let lines: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let (expected, what): (Vec<&str>, Vec<&str>) =
            lines.iter().partition(|l| l.starts_with("expected"));
        let what = if what.is_empty() {
            "the file is not valid TOML".to_owned()
        } else {
            what.join(": ")
        };
        let hint = if what.contains("duplicate key") {
            "a key may appear only once in a table: remove or rename one of them"
        } else if what.contains("string") {
            "close the text with a `\"` on the same line, or use `\"\"\"` for text over several lines"
        } else {
            "check the quotes, brackets and `=` signs around this place"
        };
        let help = if expected.is_empty() {
            hint.to_owned()
        } else {
            format!("{} here; {hint}", expected.join("; "))
        };
        self.error(span, format!("TOML syntax error: {what}"), help);
    }

    // --- the document --------------------------------------------------------------

    fn catalog(&mut self, root: &toml_edit::Table) -> Option<Catalog> {
        let root = Node {
            table: root,
            span: 0..0,
            what: "the catalog".to_owned(),
        };
        self.unknown_keys(&root, ROOT_KEYS);
        let organisation = self.organisation(&root);
        let (taxonomy, declared) = self.taxonomy(&root);
        let purposes = self.purposes(&root, &taxonomy, &declared);
        let presets = self.presets(&root);
        let tcf = self.tcf(&root);
        Some(Catalog {
            organisation: organisation?,
            taxonomy,
            purposes: purposes?,
            presets: presets?,
            tcf: tcf?,
        })
    }

    fn organisation(&mut self, root: &Node<'_>) -> Option<Organisation> {
        let Some(field) = root.field("organisation") else {
            if !has_typo_of(root, "organisation") {
                self.error(
                    root.span.clone(),
                    "the catalog has no [organisation] table",
                    "add an [organisation] table with `name`, `contact`, `privacy_contact` and `country`",
                );
            }
            return None;
        };
        let node = self.table(&field, "organisation", root, "[organisation]".to_owned())?;
        self.unknown_keys(&node, ORGANISATION_KEYS);
        let name = self.required_string(&node, "name", r#"name = "Fietsenwinkel B.V.""#);
        let contact = self.contact(
            &node,
            "contact",
            r#"contact = "https://fietsenwinkel.example/contact""#,
        );
        let privacy_contact = self.contact(
            &node,
            "privacy_contact",
            r#"privacy_contact = "privacy@fietsenwinkel.example""#,
        );
        let country = self.country(&node, r#"country = "NL""#);
        Some(Organisation {
            name: name?.0,
            contact: contact?,
            privacy_contact: privacy_contact?,
            country: country?,
        })
    }

    /// The built-in taxonomy plus the catalog's own categories, and the ids of every
    /// category the catalog tried to declare (valid or not), so a purpose using a broken
    /// declaration does not get a second error about the same thing.
    fn taxonomy(&mut self, root: &Node<'_>) -> (Taxonomy, HashSet<String>) {
        let mut taxonomy = Taxonomy::builtin();
        let mut declared = HashSet::new();
        let Some(field) = root.field("categories") else {
            return (taxonomy, declared);
        };
        let Some(list) = self.table_list(
            &field,
            "categories",
            root,
            "category",
            "[[categories]]\nid = \"loyalty\"\nname = { en = \"Loyalty points\", nl = \"Spaarpunten\" }",
        ) else {
            return (taxonomy, declared);
        };

        let mut added: Vec<(Category, Range<usize>)> = Vec::new();
        let mut first_at: HashMap<String, Range<usize>> = HashMap::new();
        for mut node in list {
            if let Some(id) = node.peek_str("id") {
                node.what = format!("category `{id}`");
                declared.insert(id.to_owned());
            }
            self.unknown_keys(&node, CATEGORY_KEYS);
            let id = self.category_id(&node, &taxonomy, &mut first_at);
            let name = self.text(&node, "name", true);
            let sensitive = self.optional_bool(&node, "sensitive", "sensitive = true");
            if let (Some((id, span)), Some(Some(name)), Some(sensitive)) = (id, name, sensitive) {
                let category = Category {
                    id,
                    name,
                    sensitive: sensitive.unwrap_or(false),
                    builtin: false,
                };
                added.push((category, span));
            }
        }

        for (category, span) in &added {
            let missing = category
                .id
                .self_and_ancestors()
                .skip(1)
                .find(|a| !taxonomy.contains(a) && !first_at.contains_key(*a));
            if let Some(parent) = missing {
                self.error(
                    span.clone(),
                    format!(
                        "category `{}` has no parent: there is no category `{parent}`",
                        category.id
                    ),
                    format!(
                        "declare `{parent}` in a [[categories]] entry of its own too, or put the new category under an existing one"
                    ),
                );
            }
        }
        for (category, _) in added {
            taxonomy.insert(category);
        }
        (taxonomy, declared)
    }

    fn category_id(
        &mut self,
        node: &Node<'_>,
        builtin: &Taxonomy,
        first_at: &mut HashMap<String, Range<usize>>,
    ) -> Option<(CategoryId, Range<usize>)> {
        let (raw, span) = self.required_string(node, "id", r#"id = "loyalty.tier""#)?;
        let id = match CategoryId::parse(&raw) {
            Ok(id) => id,
            Err(_) => {
                self.error(
                    span,
                    format!("`{raw}` is not a valid category id"),
                    "use dot-separated parts of lower-case letters, digits and `_`, each starting with a letter, e.g. `loyalty.tier`",
                );
                return None;
            }
        };
        if builtin.contains(id.as_str()) {
            self.error(
                span,
                format!("category `{id}` is already built in"),
                format!(
                    "remove this [[categories]] entry and use the built-in `{id}` as it is, or pick a new id"
                ),
            );
            return None;
        }
        if let Some(first) = first_at.get(id.as_str()) {
            let line = self.line_of(first.start);
            self.error(
                span,
                format!("category `{id}` is declared twice"),
                format!("it was first declared on line {line}; remove one of them or give this one another id"),
            );
            return None;
        }
        first_at.insert(id.as_str().to_owned(), span.clone());
        Some((id, span))
    }

    fn purposes(
        &mut self,
        root: &Node<'_>,
        taxonomy: &Taxonomy,
        declared: &HashSet<String>,
    ) -> Option<Vec<Purpose>> {
        let Some(field) = root.field("purposes") else {
            if has_typo_of(root, "purposes") {
                return None;
            }
            self.error(
                root.span.clone(),
                "the catalog declares no purposes",
                "add at least one [[purposes]] table: every use of personal data needs a purpose",
            );
            return None;
        };
        let list = self.table_list(
            &field,
            "purposes",
            root,
            "purpose",
            "[[purposes]]\nid = \"newsletter\"\nlegal_basis = \"consent\"\n...",
        )?;
        if list.is_empty() {
            self.error(
                field.span,
                "`purposes` is empty: the catalog declares no purposes",
                "add at least one [[purposes]] table: every use of personal data needs a purpose",
            );
            return None;
        }
        let mut ids: HashMap<String, Range<usize>> = HashMap::new();
        let mut purposes = Vec::new();
        let mut all_good = true;
        for (index, mut node) in list.into_iter().enumerate() {
            node.what = match node.peek_str("id") {
                Some(id) => format!("purpose `{id}`"),
                None => format!("purpose number {}", index + 1),
            };
            match self.purpose(&node, taxonomy, declared, &mut ids) {
                Some(p) => purposes.push(p),
                None => all_good = false,
            }
        }
        all_good.then_some(purposes)
    }

    fn purpose(
        &mut self,
        node: &Node<'_>,
        taxonomy: &Taxonomy,
        declared: &HashSet<String>,
        ids: &mut HashMap<String, Range<usize>>,
    ) -> Option<Purpose> {
        self.unknown_keys(node, PURPOSE_KEYS);
        let id = self.purpose_id(node, ids);
        let legal_basis = self.legal_basis(node);
        let title = self.text(node, "title", true);
        let description = self.text(node, "description", true);
        if let Some(Some(d)) = &description {
            self.description_length(node, d);
        }
        let categories = self.categories(node, taxonomy, declared);
        let retention = self.period(node, "retention", true, r#"retention = "2 years""#);
        let consent_lifetime = self.period(
            node,
            "consent_lifetime",
            false,
            r#"consent_lifetime = "13 months""#,
        );
        let gpc = self.optional_bool(node, "gpc", "gpc = true");
        let consent_mode = self.consent_mode(node);
        let switchable = legal_basis.is_some_and(LegalBasis::is_switchable);
        let benefit = self.text(node, "benefit", switchable);
        let alternative = self.text(node, "alternative", switchable);
        let recipients = self.recipients(node);
        let revision = self.revision(node);
        let tcf_purposes = self.tcf_ids(node, TcfKind::Purpose, legal_basis);
        let tcf_special_features = self.tcf_ids(node, TcfKind::SpecialFeature, legal_basis);
        for (key, text) in SCORED_TEXTS
            .into_iter()
            .zip([&description, &benefit, &alternative])
        {
            if let Some(Some(text)) = text {
                self.readability(node, key, text);
            }
        }

        if let (Some(basis), Some(field)) = (legal_basis, node.field("consent_lifetime")) {
            if basis != LegalBasis::Consent {
                self.error(
                    field.key_span,
                    format!("{} has a `consent_lifetime` but its legal basis is `{basis}`", node.what),
                    "a consent lifetime only applies to consent: remove `consent_lifetime`, or set `legal_basis = \"consent\"`",
                );
            }
        }
        if let (Some(basis), Some(Some(true)), Some(field)) = (legal_basis, gpc, node.field("gpc"))
        {
            if !basis.is_switchable() {
                self.warning(
                    field.key_span,
                    format!("`gpc` has no effect on {}: its legal basis is `{basis}`", node.what),
                    "customers cannot switch this purpose off, so a Global Privacy Control signal changes nothing; remove `gpc`",
                );
            }
        }
        if let (Some(LegalBasis::LegitimateInterest), Some(cats)) = (legal_basis, &categories) {
            self.sensitive_on_legitimate_interest(node, taxonomy, cats);
        }

        let gpc = gpc?.unwrap_or(false);
        Some(Purpose {
            id: id?,
            legal_basis: legal_basis?,
            title: title??,
            description: description??,
            categories: categories?,
            recipients: recipients?,
            retention: retention??,
            benefit: benefit?,
            alternative: alternative?,
            consent_lifetime: consent_lifetime?,
            gpc,
            consent_mode: consent_mode?,
            revision: revision?,
            tcf_purposes: tcf_purposes?,
            tcf_special_features: tcf_special_features?,
        })
    }

    /// `[[presets]]`: each with its own id, texts, and the switchable purposes it grants.
    fn presets(&mut self, root: &Node<'_>) -> Option<Vec<Preset>> {
        let Some(field) = root.field("presets") else {
            return Some(Vec::new());
        };
        let list = self.table_list(
            &field,
            "presets",
            root,
            "preset",
            "[[presets]]\nid = \"balanced\"\ntitle = { en = \"Balanced\", nl = \"Gebalanceerd\" }\n...",
        )?;
        let purposes = declared_purposes(root);
        let mut ids: HashMap<String, Range<usize>> = HashMap::new();
        let mut presets = Vec::new();
        let mut all_good = true;
        for (index, mut node) in list.into_iter().enumerate() {
            node.what = match node.peek_str("id") {
                Some(id) => format!("preset `{id}`"),
                None => format!("preset number {}", index + 1),
            };
            self.unknown_keys(&node, PRESET_KEYS);
            let id = self.preset_id(&node, &mut ids);
            let title = self.text(&node, "title", true);
            let description = self.text(&node, "description", true);
            let grants = self.grants(&node, &purposes);
            match (id, title, description, grants) {
                (Some(id), Some(Some(title)), Some(Some(description)), Some(grants)) => presets
                    .push(Preset {
                        id,
                        title,
                        description,
                        grants,
                    }),
                _ => all_good = false,
            }
        }
        all_good.then_some(presets)
    }

    fn preset_id(
        &mut self,
        node: &Node<'_>,
        ids: &mut HashMap<String, Range<usize>>,
    ) -> Option<PurposeId> {
        let (raw, span) = self.required_string(node, "id", r#"id = "balanced""#)?;
        let Ok(id) = PurposeId::parse(&raw) else {
            let example = purpose_id_like(&raw).unwrap_or_else(|| "only_needed".to_owned());
            self.error(
                span,
                format!("`{raw}` is not a valid preset id"),
                format!(
                    "use lower-case letters, digits and `_`, starting with a letter, at most 64 characters, e.g. `{example}`"
                ),
            );
            return None;
        };
        if let Some(first) = ids.get(id.as_str()) {
            let line = self.line_of(first.start);
            self.error(
                span,
                format!("preset id `{id}` is used twice"),
                format!(
                    "the first preset with this id is on line {line}; give each preset its own id"
                ),
            );
            return None;
        }
        ids.insert(id.as_str().to_owned(), span);
        Some(id)
    }

    /// `grants`: purposes the catalog declares and customers can switch, each once.
    fn grants(
        &mut self,
        node: &Node<'_>,
        purposes: &[(String, Option<LegalBasis>)],
    ) -> Option<Vec<PurposeId>> {
        const EXAMPLE: &str = r#"grants = ["newsletter", "service_analytics"]"#;
        let Some(field) = node.field("grants") else {
            self.missing(
                node,
                "grants",
                &format!(
                    "list the purposes this preset says yes to, e.g. `{EXAMPLE}`; `grants = []` says no to everything that can be switched"
                ),
            );
            return None;
        };
        let Some(array) = field.item.as_array() else {
            self.wrong_type(&field, "grants", node, "an array of purpose ids", EXAMPLE);
            return None;
        };
        let switchable: Vec<&str> = purposes
            .iter()
            .filter(|(_, basis)| basis.is_some_and(LegalBasis::is_switchable))
            .map(|(id, _)| id.as_str())
            .collect();
        let list = switchable
            .iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out: Vec<PurposeId> = Vec::new();
        let mut all_good = true;
        for value in array.iter() {
            let span = value.span().unwrap_or_else(|| field.span.clone());
            let Some(raw) = value.as_str() else {
                self.error(
                    span,
                    format!(
                        "`grants` of {} must hold purpose ids as strings, but one is {}",
                        node.what,
                        value_type(value)
                    ),
                    format!("quote each id: `{EXAMPLE}`"),
                );
                all_good = false;
                continue;
            };
            let basis = match purposes.iter().find(|(id, _)| id == raw) {
                Some((_, basis)) => *basis,
                None => {
                    let ids = purposes.iter().map(|(id, _)| id.as_str());
                    let help = match did_you_mean(raw, ids) {
                        Some(s) => format!("did you mean `{s}`? The purposes a preset can grant are {list}"),
                        None => format!("name a purpose declared in this catalog; the purposes a preset can grant are {list}"),
                    };
                    self.error(
                        span,
                        format!(
                            "{} grants `{raw}`, but there is no purpose `{raw}`",
                            node.what
                        ),
                        help,
                    );
                    all_good = false;
                    continue;
                }
            };
            match basis {
                // The purpose itself has an error about its legal basis already.
                None => all_good = false,
                Some(basis) if !basis.is_switchable() => {
                    self.error(
                        span,
                        format!(
                            "{} grants `{raw}`, but customers cannot switch it: its legal basis is `{basis}`",
                            node.what
                        ),
                        format!(
                            "remove it: a `{basis}` purpose is always on, with or without a preset. The purposes a preset can grant are {list}"
                        ),
                    );
                    all_good = false;
                }
                Some(_) if out.iter().any(|p| p.as_str() == raw) => {
                    self.warning(
                        span,
                        format!("{} grants `{raw}` twice", node.what),
                        "remove the second one",
                    );
                }
                Some(_) => match PurposeId::parse(raw) {
                    Ok(id) => out.push(id),
                    // The purpose's own id has an error already.
                    Err(_) => all_good = false,
                },
            }
        }
        all_good.then_some(out)
    }

    /// `consent_mode`: Google Consent Mode v2 signals, each at most once.
    fn consent_mode(&mut self, node: &Node<'_>) -> Option<Vec<String>> {
        const EXAMPLE: &str = r#"consent_mode = ["ad_storage", "ad_user_data"]"#;
        let Some(field) = node.field("consent_mode") else {
            return Some(Vec::new());
        };
        let Some(array) = field.item.as_array() else {
            self.wrong_type(
                &field,
                "consent_mode",
                node,
                "an array of signal names",
                EXAMPLE,
            );
            return None;
        };
        let mut out: Vec<String> = Vec::new();
        let mut all_good = true;
        for value in array.iter() {
            let span = value.span().unwrap_or_else(|| field.span.clone());
            match value.as_str() {
                Some(s) if CONSENT_MODE_SIGNALS.contains(&s) => {
                    if out.iter().any(|o| o == s) {
                        self.warning(
                            span,
                            format!("{} lists `{s}` twice", node.what),
                            "remove the second one",
                        );
                    } else {
                        out.push(s.to_owned());
                    }
                }
                other => {
                    all_good = false;
                    let shown =
                        other.map_or_else(|| value_type(value).to_owned(), |s| format!("`{s}`"));
                    let help = match other.and_then(|s| {
                        CONSENT_MODE_SIGNALS
                            .iter()
                            .find(|c| strsim::jaro_winkler(c, s) > 0.85)
                    }) {
                        Some(s) => format!(
                            "did you mean `{s}`? The signals are: {}",
                            CONSENT_MODE_SIGNALS.join(", ")
                        ),
                        None => format!(
                            "use Google Consent Mode v2 signals: {}",
                            CONSENT_MODE_SIGNALS.join(", ")
                        ),
                    };
                    self.error(span, format!("{shown} is not a Consent Mode signal"), help);
                }
            }
        }
        all_good.then_some(out)
    }

    /// `revision`: a whole number from 1, 1 when absent.
    fn revision(&mut self, node: &Node<'_>) -> Option<u32> {
        let Some(field) = node.field("revision") else {
            return Some(1);
        };
        let Some(n) = field.item.as_integer() else {
            self.wrong_type(&field, "revision", node, "a whole number", "revision = 2");
            return None;
        };
        match u32::try_from(n) {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                self.error(
                    field.span,
                    format!("`revision` of {} is {n}; it must be 1 or more", node.what),
                    "a purpose starts at revision 1; raise it by one each time its meaning changes",
                );
                None
            }
        }
    }

    /// `tcf_purposes` or `tcf_special_features`: ids the purpose's grants consent to in TC
    /// strings. Only consent purposes map; ids are recorded for the checks across
    /// purposes ([`Checker::tcf`]).
    fn tcf_ids(
        &mut self,
        node: &Node<'_>,
        kind: TcfKind,
        basis: Option<LegalBasis>,
    ) -> Option<Vec<u8>> {
        let key = kind.key();
        let example = match kind {
            TcfKind::Purpose => "tcf_purposes = [1, 3, 4]",
            TcfKind::SpecialFeature => "tcf_special_features = [1]",
        };
        let Some(field) = node.field(key) else {
            return Some(Vec::new());
        };
        self.tcf_keys
            .push((field.key_span.clone(), node.what.clone()));
        let Some(array) = field.item.as_array() else {
            self.wrong_type(&field, key, node, "an array of whole numbers", example);
            return None;
        };
        let mut all_good = true;
        match basis {
            Some(LegalBasis::Consent) | None => {}
            Some(basis) => {
                let why = if basis == LegalBasis::LegitimateInterest {
                    "Keuze's TC strings carry consent only, never legitimate interest: customers object to this purpose, they do not opt in"
                } else {
                    "customers cannot switch this purpose, so there is no choice to pass on"
                };
                self.error(
                    field.key_span.clone(),
                    format!(
                        "{} has `{key}`, but its legal basis is `{basis}`; only consent purposes map to TCF",
                        node.what
                    ),
                    format!("{why}. Remove `{key}`, or map a consent purpose instead"),
                );
                all_good = false;
            }
        }
        let purpose = node
            .peek_str("id")
            .map_or_else(|| node.what.clone(), str::to_owned);
        let mut out: Vec<u8> = Vec::new();
        for value in array.iter() {
            let span = value.span().unwrap_or_else(|| field.span.clone());
            let id = value
                .as_integer()
                .and_then(|n| u8::try_from(n).ok())
                .filter(|n| (1..=kind.max()).contains(n));
            let Some(id) = id else {
                let shown = match value.as_integer() {
                    Some(n) => format!("{n}"),
                    None => value_type(value).to_owned(),
                };
                self.error(
                    span,
                    format!(
                        "{shown} in `{key}` of {} is not a {}: they run from 1 to {}",
                        node.what,
                        kind.noun(),
                        kind.max()
                    ),
                    match kind {
                        TcfKind::Purpose => format!(
                            "write TCF purpose ids as numbers from 1 to {}, e.g. `{example}`; docs/catalog.md says what each means",
                            kind.max()
                        ),
                        TcfKind::SpecialFeature => format!(
                            "write TCF special feature ids as numbers: {}",
                            kind.list()
                        ),
                    },
                );
                all_good = false;
                continue;
            };
            if out.contains(&id) {
                self.warning(
                    span,
                    format!("{} lists {} {id} twice", node.what, kind.noun()),
                    "remove the second one",
                );
                continue;
            }
            out.push(id);
            self.tcf_mappings.push(TcfMapping {
                kind,
                id,
                purpose: purpose.clone(),
                span,
            });
        }
        out.sort_unstable();
        all_good.then_some(out)
    }

    /// `[tcf]`, and the rules across purposes: each TCF purpose and special feature is
    /// mapped from one purpose at most, and a mapping needs the table as the table needs
    /// a mapping. `Some(None)` when there is no table and no mapping.
    fn tcf(&mut self, root: &Node<'_>) -> Option<Option<Tcf>> {
        let mut all_good = true;
        let mut first: Vec<&TcfMapping> = Vec::new();
        let mut twice: Vec<(Range<usize>, String, String)> = Vec::new();
        for m in &self.tcf_mappings {
            match first.iter().find(|f| f.kind == m.kind && f.id == m.id) {
                Some(f) => {
                    let line = line_column(self.source, f.span.start).0;
                    twice.push((
                        m.span.clone(),
                        format!(
                            "{} {} is mapped from both `{}` and `{}`",
                            m.kind.noun(),
                            m.id,
                            f.purpose,
                            m.purpose
                        ),
                        format!(
                            "a TC string has one bit per {0}, so a customer who says yes to `{1}` and no to `{2}` could not be told apart from one who says the opposite: map {0} {3} from one purpose only (`{1}` maps it on line {line}), or merge the two purposes",
                            m.kind.noun(),
                            f.purpose,
                            m.purpose,
                            m.id
                        ),
                    ));
                }
                None => first.push(m),
            }
        }
        for (span, message, help) in twice {
            self.error(span, message, help);
            all_good = false;
        }
        let Some(field) = root.field("tcf") else {
            if let Some((span, what)) = self.tcf_keys.first().cloned() {
                if !has_typo_of(root, "tcf") {
                    self.error(
                        span,
                        format!("{what} maps to TCF, but the catalog has no [tcf] table"),
                        "add a [tcf] table with `cmp_id`, `cmp_version`, `publisher_country` and `vendors` (see `[tcf]` in docs/catalog.md), or remove the purposes' `tcf_purposes` and `tcf_special_features`",
                    );
                }
                return None;
            }
            return all_good.then_some(None);
        };
        let node = self.table(&field, "tcf", root, "[tcf]".to_owned())?;
        self.unknown_keys(&node, TCF_KEYS);
        if self.tcf_keys.is_empty() {
            self.error(
                field.key_span.clone(),
                "the catalog has a [tcf] table, but no purpose maps to a TCF purpose or special feature",
                "every TC string would say no to everything: give the consent purposes whose yes is consent under the TCF `tcf_purposes = [...]` (and `tcf_special_features = [...]`), or remove [tcf]",
            );
            all_good = false;
        }
        let cmp_id = self.whole_number(
            &node,
            "cmp_id",
            2..=4095,
            "cmp_id = 300",
            "use the id the IAB assigned to your consent management platform when it was registered; 0 and 1 are not CMP ids",
        );
        let cmp_version = self.whole_number(
            &node,
            "cmp_version",
            0..=4095,
            "cmp_version = 1",
            "the version of your CMP, 0 to 4095; raise it when what customers are shown changes",
        );
        let country = self.country_at(&node, "publisher_country", r#"publisher_country = "NL""#);
        let vendors = self.vendors(&node);
        match (cmp_id, cmp_version, country, vendors, all_good) {
            (Some(cmp_id), Some(cmp_version), Some(publisher_country), Some(vendors), true) => {
                Some(Some(Tcf {
                    cmp_id,
                    cmp_version,
                    publisher_country,
                    vendors,
                }))
            }
            _ => None,
        }
    }

    /// A required whole number in `range`.
    fn whole_number(
        &mut self,
        node: &Node<'_>,
        key: &str,
        range: std::ops::RangeInclusive<u16>,
        example: &str,
        help: &str,
    ) -> Option<u16> {
        let Some(field) = node.field(key) else {
            self.missing(node, key, &format!("add `{example}`: {help}"));
            return None;
        };
        let Some(n) = field.item.as_integer() else {
            self.wrong_type(&field, key, node, "a whole number", example);
            return None;
        };
        match u16::try_from(n) {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    field.span,
                    format!(
                        "`{key}` in {} is {n}; it runs from {} to {}",
                        node.what,
                        range.start(),
                        range.end()
                    ),
                    help,
                );
                None
            }
        }
    }

    /// `vendors` of `[tcf]`: Global Vendor List ids, each once, checked against the
    /// vendor list if there is one.
    fn vendors(&mut self, node: &Node<'_>) -> Option<Vec<u16>> {
        const EXAMPLE: &str = "vendors = [755, 793]";
        let Some(field) = node.field("vendors") else {
            self.missing(
                node,
                "vendors",
                &format!("list the ids (on the IAB's Global Vendor List) of the vendors you work with and show your customers: `{EXAMPLE}`"),
            );
            return None;
        };
        let Some(array) = field.item.as_array() else {
            self.wrong_type(&field, "vendors", node, "an array of vendor ids", EXAMPLE);
            return None;
        };
        if array.is_empty() {
            self.error(
                field.span,
                "`vendors` of [tcf] is empty",
                format!("a TC string tells vendors what they may do; list the ids of the vendors you work with, e.g. `{EXAMPLE}`"),
            );
            return None;
        }
        let mapped: Vec<(TcfKind, u8)> = self.tcf_mappings.iter().map(|m| (m.kind, m.id)).collect();
        let mut out: Vec<(u16, Range<usize>)> = Vec::new();
        let mut all_good = true;
        for value in array.iter() {
            let span = value.span().unwrap_or_else(|| field.span.clone());
            let Some(id) = value
                .as_integer()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n >= 1)
            else {
                let shown = match value.as_integer() {
                    Some(n) => format!("{n}"),
                    None => value_type(value).to_owned(),
                };
                self.error(
                    span,
                    format!("{shown} in `vendors` of [tcf] is not a vendor id: they run from 1 to 65535"),
                    format!("write the ids as numbers, as the IAB's Global Vendor List has them: `{EXAMPLE}`"),
                );
                all_good = false;
                continue;
            };
            if let Some((_, first)) = out.iter().find(|(v, _)| *v == id) {
                let line = line_column(self.source, first.start).0;
                self.error(
                    span,
                    format!("vendor {id} is listed twice in `vendors` of [tcf]"),
                    format!("it is listed first on line {line}; remove this one"),
                );
                all_good = false;
                continue;
            }
            if let Some(gvl) = self.vendor_list {
                if let Some(problem) = gvl::vendor_problem(id, gvl) {
                    let help = match problem {
                        gvl::VendorProblem::NotOnList { .. } => "check the id on the IAB's Global Vendor List, or remove it; a newer vendor list (--tcf-vendor-list) may have it",
                        gvl::VendorProblem::Deleted { .. } => "remove it: a vendor deleted from the list may no longer receive signals",
                    };
                    self.error(span.clone(), problem.to_string(), help);
                    all_good = false;
                } else if let Some(v) = gvl.active_vendor(id) {
                    let on_consent = !v.purposes.is_empty() || !v.flexible_purposes.is_empty();
                    let takes = mapped.iter().any(|&(kind, m)| match kind {
                        TcfKind::Purpose => {
                            v.purposes.contains(&m) || v.flexible_purposes.contains(&m)
                        }
                        TcfKind::SpecialFeature => on_consent && v.special_features.contains(&m),
                    });
                    if !takes && !mapped.is_empty() {
                        let help = if on_consent {
                            let declared: std::collections::BTreeSet<u8> = v
                                .purposes
                                .iter()
                                .chain(&v.flexible_purposes)
                                .copied()
                                .collect();
                            let declared: Vec<String> =
                                declared.iter().map(u8::to_string).collect();
                            format!(
                                "it takes consent for TCF purposes {}: map one of them from a consent purpose, or remove the vendor",
                                declared.join(", ")
                            )
                        } else {
                            "it declares no purpose on consent, so it can never receive consent: remove it".to_owned()
                        };
                        self.warning(
                            span.clone(),
                            format!(
                                "vendor {id} ({}) declares none of the TCF purposes and special features this catalog maps, so no TC string will ever give it consent",
                                v.name
                            ),
                            help,
                        );
                    }
                }
            }
            out.push((id, span));
        }
        let mut ids: Vec<u16> = out.into_iter().map(|(id, _)| id).collect();
        ids.sort_unstable();
        all_good.then_some(ids)
    }

    /// Scores each language of a purpose text, and warns when one is hard to read.
    fn readability(&mut self, node: &Node<'_>, key: &'static str, text: &Text) {
        for locale in text.locales() {
            let Some(r) = readability::measure(text.get(locale), locale) else {
                continue;
            };
            let span = self.text_value_span(node, key, locale.as_str());
            if r.is_hard() {
                self.warning(
                    span.clone(),
                    format!(
                        "the `{locale}` {key} of {} is hard to read: {} {:.1}, below {}",
                        node.what,
                        r.formula.name(),
                        r.score,
                        readability::WARN_BELOW
                    ),
                    format!(
                        "use shorter sentences and shorter, everyday words; aim for 60 or more. Its longest sentence has {} words: \"{}\"",
                        r.longest_sentence_words,
                        shorten(&r.longest_sentence, 100)
                    ),
                );
            }
            self.readability.push(ReadabilityRow {
                purpose: node
                    .peek_str("id")
                    .map_or_else(|| node.what.clone(), str::to_owned),
                field: key,
                locale: locale.clone(),
                readability: r,
                span,
            });
        }
    }

    fn purpose_id(
        &mut self,
        node: &Node<'_>,
        ids: &mut HashMap<String, Range<usize>>,
    ) -> Option<PurposeId> {
        let (raw, span) = self.required_string(node, "id", r#"id = "newsletter""#)?;
        let id = match PurposeId::parse(&raw) {
            Ok(id) => id,
            Err(_) => {
                let fixed = purpose_id_like(&raw);
                let example = match &fixed {
                    Some(f) => format!(", e.g. `{f}`"),
                    None => ", e.g. `newsletter`".to_owned(),
                };
                self.error(
                    span,
                    format!("`{raw}` is not a valid purpose id"),
                    format!(
                        "use lower-case letters, digits and `_`, starting with a letter, at most 64 characters{example}"
                    ),
                );
                return None;
            }
        };
        if let Some(first) = ids.get(id.as_str()) {
            let line = self.line_of(first.start);
            self.error(
                span,
                format!("purpose id `{id}` is used twice"),
                format!("the first purpose with this id is on line {line}; give each purpose its own id"),
            );
            return None;
        }
        ids.insert(id.as_str().to_owned(), span);
        Some(id)
    }

    fn legal_basis(&mut self, node: &Node<'_>) -> Option<LegalBasis> {
        let (raw, span) =
            self.required_string(node, "legal_basis", r#"legal_basis = "consent""#)?;
        if let Some(basis) = LegalBasis::parse(&raw) {
            return Some(basis);
        }
        let all: Vec<&str> = LegalBasis::ALL.iter().map(|b| b.as_str()).collect();
        let list = all
            .iter()
            .map(|b| format!("`{b}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match did_you_mean(&raw, all.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? The legal bases are {list}"),
            None => format!("use one of {list}"),
        };
        self.error(
            span,
            format!("`{raw}` is not a legal basis Keuze knows"),
            help,
        );
        None
    }

    fn description_length(&mut self, node: &Node<'_>, description: &Text) {
        for locale in description.locales() {
            let chars = description.get(locale).chars().count();
            if chars > MAX_DESCRIPTION_CHARS {
                let span = self.text_value_span(node, "description", locale.as_str());
                self.error(
                    span,
                    format!(
                        "the `{locale}` description of {} is {chars} characters long; the limit is {MAX_DESCRIPTION_CHARS}",
                        node.what
                    ),
                    "say what you do in a few short sentences, and leave the details to your privacy statement",
                );
            }
        }
    }

    fn text_value_span(&self, node: &Node<'_>, key: &str, locale: &str) -> Range<usize> {
        let Some(field) = node.field(key) else {
            return node.span.clone();
        };
        field
            .item
            .as_table_like()
            .and_then(|t| t.get(locale))
            .and_then(Item::span)
            .unwrap_or(field.span)
    }

    fn categories(
        &mut self,
        node: &Node<'_>,
        taxonomy: &Taxonomy,
        declared: &HashSet<String>,
    ) -> Option<Vec<CategoryId>> {
        const EXAMPLE: &str = r#"categories = ["contact.email", "contact.name"]"#;
        let Some(field) = node.field("categories") else {
            self.missing(
                node,
                "categories",
                &format!("list the data this purpose uses: `{EXAMPLE}`"),
            );
            return None;
        };
        let Some(array) = field.item.as_array() else {
            self.wrong_type(
                &field,
                "categories",
                node,
                "an array of category ids",
                EXAMPLE,
            );
            return None;
        };
        if array.is_empty() {
            self.error(
                field.span,
                format!("{} lists no data categories", node.what),
                format!(
                    "name the data this purpose uses, e.g. `{EXAMPLE}`; if it uses no personal data, it needs no purpose"
                ),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut all_good = true;
        let mut seen: HashSet<String> = HashSet::new();
        for value in array.iter() {
            let span = value.span().unwrap_or_else(|| field.span.clone());
            let Some(raw) = value.as_str() else {
                self.error(
                    span,
                    format!(
                        "`categories` of {} must hold category ids as strings, but one is {}",
                        node.what,
                        value_type(value)
                    ),
                    format!("quote each id: `{EXAMPLE}`"),
                );
                all_good = false;
                continue;
            };
            if !seen.insert(raw.to_owned()) {
                self.warning(
                    span,
                    format!("{} lists category `{raw}` twice", node.what),
                    "remove the second one",
                );
                continue;
            }
            match CategoryId::parse(raw) {
                Ok(id) if taxonomy.contains(raw) => out.push(id),
                // Its [[categories]] entry already has an error; one is enough.
                Ok(_) if declared.contains(raw) => all_good = false,
                _ => {
                    all_good = false;
                    let help = match taxonomy.suggest(raw) {
                        Some(s) => format!("did you mean `{s}`? The data categories are listed in docs/catalog.md"),
                        None => "use a built-in category (see docs/catalog.md), or declare a new one in a [[categories]] table".to_owned(),
                    };
                    self.error(span, format!("unknown data category `{raw}`"), help);
                }
            }
        }
        all_good.then_some(out)
    }

    fn sensitive_on_legitimate_interest(
        &mut self,
        node: &Node<'_>,
        taxonomy: &Taxonomy,
        categories: &[CategoryId],
    ) {
        if let Some(c) = categories.iter().find(|c| taxonomy.is_sensitive(c)) {
            let span = node
                .field("legal_basis")
                .map_or(node.span.clone(), |f| f.span);
            self.warning(
                span,
                format!(
                    "{} uses sensitive data (`{c}`) on the basis of legitimate interest",
                    node.what
                ),
                "special categories of data (GDPR art. 9) need explicit consent or another art. 9 exception; consider `legal_basis = \"consent\"`",
            );
        }
    }

    /// `Some(None)` when the optional key is absent, `None` when it is present but wrong.
    fn period(
        &mut self,
        node: &Node<'_>,
        key: &str,
        required: bool,
        example: &str,
    ) -> Option<Option<Period>> {
        let Some(field) = node.field(key) else {
            if required {
                let help = format!("say how long the data is kept: `{example}`");
                self.missing(node, key, &help);
                return None;
            }
            return Some(None);
        };
        let Some(raw) = field.item.as_str() else {
            self.wrong_type(&field, key, node, "a string such as \"2 years\"", example);
            return None;
        };
        match Period::parse(raw) {
            Some(p) => Some(Some(p)),
            None => {
                self.error(
                    field.span,
                    format!(
                        "`{raw}` is not a period Keuze understands ({key} of {})",
                        node.what
                    ),
                    PERIOD_FORMS,
                );
                None
            }
        }
    }

    fn recipients(&mut self, node: &Node<'_>) -> Option<Vec<Recipient>> {
        let Some(field) = node.field("recipients") else {
            return Some(Vec::new());
        };
        let list = self.table_list(
            &field,
            "recipients",
            node,
            "recipient",
            "[[purposes.recipients]]\nname = \"Mailjet\"\ncountry = \"FR\"",
        )?;
        let mut out = Vec::new();
        let mut all_good = true;
        for mut r in list {
            r.what = match r.peek_str("name") {
                Some(name) => format!("recipient `{name}` of {}", node.what),
                None => format!("a recipient of {}", node.what),
            };
            self.unknown_keys(&r, RECIPIENT_KEYS);
            let name = self.required_string(&r, "name", r#"name = "Mailjet""#);
            let country = self.country(&r, r#"country = "FR""#);
            match (name, country) {
                (Some((name, _)), Some(country)) => out.push(Recipient { name, country }),
                _ => all_good = false,
            }
        }
        all_good.then_some(out)
    }

    // --- values ----------------------------------------------------------------------

    fn country(&mut self, node: &Node<'_>, example: &str) -> Option<CountryCode> {
        self.country_at(node, "country", example)
    }

    fn country_at(&mut self, node: &Node<'_>, key: &str, example: &str) -> Option<CountryCode> {
        let (raw, span) = self.required_string(node, key, example)?;
        if let Ok(code) = CountryCode::parse(&raw) {
            if is_country(code.as_str()) {
                return Some(code);
            }
        }
        let upper = raw.to_ascii_uppercase();
        let help = if upper != raw && is_country(&upper) {
            format!("did you mean `{upper}`? Country codes are written in capitals")
        } else {
            "use a two-letter ISO 3166-1 code in capitals, e.g. `NL` (the Netherlands), `DE` (Germany) or `US` (the United States)".to_owned()
        };
        self.error(
            span,
            format!("`{raw}` is not a country code ({key} of {})", node.what),
            help,
        );
        None
    }

    /// A contact is where people reach the organisation: an e-mail or web address.
    fn contact(&mut self, node: &Node<'_>, key: &str, example: &str) -> Option<String> {
        let (raw, span) = self.required_string(node, key, example)?;
        let is_web = raw.starts_with("https://") || raw.starts_with("http://");
        let is_mail = raw
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !raw.contains(char::is_whitespace);
        if is_web || is_mail {
            return Some(raw);
        }
        self.error(
            span,
            format!(
                "`{key}` in {} is neither an e-mail address nor a web address",
                node.what
            ),
            format!("give an address people can use, e.g. `{example}`"),
        );
        None
    }

    /// A required, non-empty string, trimmed.
    fn required_string(
        &mut self,
        node: &Node<'_>,
        key: &str,
        example: &str,
    ) -> Option<(String, Range<usize>)> {
        let Some(field) = node.field(key) else {
            self.missing(node, key, &format!("add `{example}`"));
            return None;
        };
        let Some(s) = field.item.as_str() else {
            self.wrong_type(&field, key, node, "a string", example);
            return None;
        };
        let s = s.trim();
        if s.is_empty() {
            self.error(
                field.span,
                format!("`{key}` in {} is empty", node.what),
                format!("fill it in, e.g. `{example}`"),
            );
            return None;
        }
        Some((s.to_owned(), field.span))
    }

    /// `Some(None)` when absent, `None` when present but not a boolean.
    fn optional_bool(&mut self, node: &Node<'_>, key: &str, example: &str) -> Option<Option<bool>> {
        let Some(field) = node.field(key) else {
            return Some(None);
        };
        match field.item.as_bool() {
            Some(b) => Some(Some(b)),
            None => {
                self.wrong_type(&field, key, node, "`true` or `false`", example);
                None
            }
        }
    }

    /// A text per locale. `Some(None)` when the optional key is absent, `None` when it
    /// is wrong (or required and absent).
    fn text(&mut self, node: &Node<'_>, key: &str, required: bool) -> Option<Option<Text>> {
        let example = format!("{key} = {{ en = \"...\", nl = \"...\" }}");
        let Some(field) = node.field(key) else {
            if required {
                let help = match key {
                    "benefit" => format!(
                        "say what the customer gets in return; consent and legitimate-interest purposes need it: `{example}`"
                    ),
                    "alternative" => format!(
                        "say what happens if the customer says no; consent and legitimate-interest purposes need it: `{example}`"
                    ),
                    _ => format!("add `{example}`"),
                };
                self.missing(node, key, &help);
                return None;
            }
            return Some(None);
        };
        let Some(table) = field.item.as_table_like() else {
            self.wrong_type(
                &field,
                key,
                node,
                "a table with a text per language",
                &example,
            );
            return None;
        };
        let mut texts = BTreeMap::new();
        let mut all_good = true;
        for (lang, item) in table.iter() {
            let key_span = table
                .key(lang)
                .and_then(toml_edit::Key::span)
                .unwrap_or_else(|| field.span.clone());
            let span = item.span().unwrap_or_else(|| key_span.clone());
            let Ok(locale) = Locale::parse(lang) else {
                let lower = lang.to_ascii_lowercase();
                let help = if Locale::parse(&lower).is_ok() {
                    format!(
                        "did you mean `{lower}`? Languages are written as two lower-case letters"
                    )
                } else {
                    "use a two-letter lower-case language code such as `en`, `nl` or `de`"
                        .to_owned()
                };
                self.error(
                    key_span,
                    format!(
                        "`{lang}` in `{key}` of {} is not a language code",
                        node.what
                    ),
                    help,
                );
                all_good = false;
                continue;
            };
            let Some(s) = item.as_str() else {
                self.error(
                    span,
                    format!(
                        "the `{lang}` text of `{key}` in {} must be a string, not {}",
                        node.what,
                        item_type(item)
                    ),
                    format!("write it in quotes: `{lang} = \"...\"`"),
                );
                all_good = false;
                continue;
            };
            let s = s.trim();
            if s.is_empty() {
                self.error(
                    span,
                    format!("the `{lang}` text of `{key}` in {} is empty", node.what),
                    "write the text, in plain words",
                );
                all_good = false;
                continue;
            }
            texts.insert(locale, s.to_owned());
        }
        for required in Text::REQUIRED {
            if table.get(required).is_none() {
                let language = if required == "en" { "English" } else { "Dutch" };
                self.error(
                    field.key_span.clone(),
                    format!("`{key}` in {} has no `{required}` text", node.what),
                    format!(
                        "add `{required} = \"...\"` with the {language} text: every text needs English (`en`) and Dutch (`nl`)"
                    ),
                );
                all_good = false;
            }
        }
        all_good.then(|| Some(Text::from_map(texts)))
    }

    // --- structure -------------------------------------------------------------------

    fn table<'a>(
        &mut self,
        field: &Field<'a>,
        key: &str,
        parent: &Node<'_>,
        what: String,
    ) -> Option<Node<'a>> {
        match field.item.as_table_like() {
            Some(table) => Some(Node {
                table,
                span: field.item.span().unwrap_or_else(|| field.key_span.clone()),
                what,
            }),
            None => {
                self.wrong_type(field, key, parent, "a table", &format!("[{key}]"));
                None
            }
        }
    }

    /// A list of tables, written either as `[[key]]` sections or as an array of inline
    /// tables.
    fn table_list<'a>(
        &mut self,
        field: &Field<'a>,
        key: &str,
        parent: &Node<'_>,
        element: &str,
        example: &str,
    ) -> Option<Vec<Node<'a>>> {
        let what = |n: usize| format!("{element} number {n}");
        match field.item {
            Item::ArrayOfTables(tables) => Some(
                tables
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Node {
                        table: t,
                        span: t.span().unwrap_or_else(|| field.key_span.clone()),
                        what: what(i + 1),
                    })
                    .collect(),
            ),
            Item::Value(Value::Array(array)) => {
                let mut out = Vec::new();
                for (i, value) in array.iter().enumerate() {
                    match value.as_inline_table() {
                        Some(t) => out.push(Node {
                            table: t,
                            span: t.span().unwrap_or_else(|| field.span.clone()),
                            what: what(i + 1),
                        }),
                        None => {
                            self.error(
                                value.span().unwrap_or_else(|| field.span.clone()),
                                format!(
                                    "each entry of `{key}` in {} must be a table, but this one is {}",
                                    parent.what,
                                    value_type(value)
                                ),
                                format!("write each {element} as a table:\n{example}"),
                            );
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Item::Table(_) => {
                self.error(
                    field.key_span.clone(),
                    format!("`{key}` must be a list of tables, but it is a single table"),
                    format!(
                        "use double brackets, one section per {element}: [[{}]]",
                        full_key(parent, key)
                    ),
                );
                None
            }
            _ => {
                self.wrong_type(field, key, parent, "a list of tables", example);
                None
            }
        }
    }

    fn unknown_keys(&mut self, node: &Node<'_>, allowed: &[&str]) {
        for (key, item) in node.table.iter() {
            if allowed.contains(&key) {
                continue;
            }
            let span = node
                .table
                .key(key)
                .and_then(toml_edit::Key::span)
                .or_else(|| item.span())
                .unwrap_or_else(|| node.span.clone());
            let list = allowed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match did_you_mean(key, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                // TOML puts every key below a [header] into that table, which surprises
                // people who add `purposes = ...` at the end of the file.
                None if allowed != ROOT_KEYS && ROOT_KEYS.contains(&key) => format!(
                    "`{key}` belongs at the top level, but keys below a [table] header belong to that table: move it above the first header, or write it as [[{key}]] sections"
                ),
                None => format!("remove it; the keys allowed here are {list}"),
            };
            self.error(span, format!("unknown key `{key}` in {}", node.what), help);
        }
    }

    fn missing(&mut self, node: &Node<'_>, key: &str, help: &str) {
        // `benfit` already got "did you mean `benefit`?"; a second error would only repeat it.
        if has_typo_of(node, key) {
            return;
        }
        self.error(
            node.span.clone(),
            format!("{} is missing `{key}`", node.what),
            help,
        );
    }

    fn wrong_type(
        &mut self,
        field: &Field<'_>,
        key: &str,
        node: &Node<'_>,
        expected: &str,
        example: &str,
    ) {
        self.error(
            field.span.clone(),
            format!(
                "`{key}` in {} must be {expected}, but it is {}",
                node.what,
                item_type(field.item)
            ),
            if example.contains('\n') {
                format!("write it like this:\n{example}")
            } else {
                format!("write it like this: `{example}`")
            },
        );
    }
}

/// The id and legal basis of every purpose as written, whether or not the purpose passed
/// its own checks, so a preset naming a purpose with an error gets no second error.
fn declared_purposes(root: &Node<'_>) -> Vec<(String, Option<LegalBasis>)> {
    let tables: Vec<&dyn TableLike> = match root.table.get("purposes") {
        Some(Item::ArrayOfTables(tables)) => tables.iter().map(|t| t as &dyn TableLike).collect(),
        Some(Item::Value(Value::Array(array))) => array
            .iter()
            .filter_map(|v| v.as_inline_table().map(|t| t as &dyn TableLike))
            .collect(),
        _ => Vec::new(),
    };
    tables
        .into_iter()
        .filter_map(|t| {
            let id = t.get("id").and_then(Item::as_str)?.trim().to_owned();
            let basis = t
                .get("legal_basis")
                .and_then(Item::as_str)
                .and_then(|b| LegalBasis::parse(b.trim()));
            Some((id, basis))
        })
        .collect()
}

/// Whether the table has an unknown key that is a typo of `key`.
fn has_typo_of(node: &Node<'_>, key: &str) -> bool {
    node.table.iter().any(|(k, _)| {
        let known = [
            ROOT_KEYS,
            ORGANISATION_KEYS,
            CATEGORY_KEYS,
            PURPOSE_KEYS,
            RECIPIENT_KEYS,
            PRESET_KEYS,
            TCF_KEYS,
        ]
        .iter()
        .any(|keys| keys.contains(&k));
        !known && did_you_mean(k, [key]).is_some()
    })
}

/// The dotted path of `key` inside `parent`, for `[[...]]` headers in help texts.
fn full_key(parent: &Node<'_>, key: &str) -> String {
    if parent.what.starts_with("purpose") {
        format!("purposes.{key}")
    } else {
        key.to_owned()
    }
}

fn item_type(item: &Item) -> &'static str {
    match item {
        Item::None => "missing",
        Item::Value(v) => value_type(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "a list of tables",
    }
}

fn value_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) | Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

/// `text` cut to at most `max` characters at a word boundary, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split_whitespace().any(|c| c == code)
}

/// The closest candidate, if it is close enough to be a typo of `word`.
fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word, c), c))
        .filter(|&(d, c)| d <= (c.chars().count() / 4).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `Personalised Ads` -> `personalised_ads`, if that makes a valid purpose id.
fn purpose_id_like(raw: &str) -> Option<String> {
    let mut s: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            ' ' | '-' | '.' => '_',
            c => c,
        })
        .collect();
    s = s.trim_matches('_').to_owned();
    PurposeId::parse(&s).ok().map(|id| id.as_str().to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let src = "a = 1\nnaïve = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        let e = src.rfind('=').unwrap();
        assert_eq!(line_column(src, e), (2, 7));
        assert_eq!(line_column(src, 10_000), (3, 1));
    }

    #[test]
    fn suggestions_for_typos_only() {
        assert_eq!(
            did_you_mean("benfit", PURPOSE_KEYS.iter().copied()),
            Some("benefit")
        );
        assert_eq!(
            did_you_mean("Title", PURPOSE_KEYS.iter().copied()),
            Some("title")
        );
        assert_eq!(did_you_mean("colour", PURPOSE_KEYS.iter().copied()), None);
        assert_eq!(
            did_you_mean("legitimate interest", ["consent", "legitimate_interest"]),
            Some("legitimate_interest")
        );
    }

    #[test]
    fn purpose_id_fix_ups() {
        assert_eq!(
            purpose_id_like("Personalised Ads").as_deref(),
            Some("personalised_ads")
        );
        assert_eq!(
            purpose_id_like("news-letter").as_deref(),
            Some("news_letter")
        );
        assert_eq!(purpose_id_like("1st"), None);
    }

    #[test]
    fn countries_are_iso_codes() {
        assert!(is_country("NL"));
        assert!(is_country("US"));
        assert!(!is_country("XX"));
        assert!(!is_country("EU"));
        assert_eq!(COUNTRIES.split_whitespace().count(), 249);
    }
}
