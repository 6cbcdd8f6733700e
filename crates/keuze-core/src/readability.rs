//! How easy a customer-facing text is to read: Flesch reading ease for English and
//! Flesch–Douma for Dutch, from counts of sentences, words and syllables.
//!
//! The counts are heuristics, as in every readability tool: sentences end at `.`, `!` or
//! `?` followed by a space and a word that does not start in lower case; a word is a run
//! of non-space characters with a letter or digit in it; syllables are groups of vowels,
//! with the common adjustments for each language (see [`syllables_en`] and
//! [`syllables_nl`]). They are right for the plain, short sentences the catalog asks for,
//! which is what the score is meant to encourage.

use crate::ids::Locale;
use serde::Serialize;

/// Below this score the catalog check warns, and `--strict` fails.
pub const WARN_BELOW: f64 = 50.0;

/// A text with fewer words than this and no sentence end is a label, such as a title,
/// and is not scored: the formulas describe prose.
pub const MIN_WORDS_WITHOUT_SENTENCE_END: usize = 8;

/// Which formula scored a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    /// Flesch reading ease, for English:
    /// `206.835 − 1.015 · words/sentences − 84.6 · syllables/words`.
    FleschReadingEase,
    /// Flesch–Douma, Flesch's formula refitted for Dutch:
    /// `206.835 − 0.93 · words/sentences − 77 · syllables/words`.
    FleschDouma,
}

impl Formula {
    /// The formula for `locale`, if Keuze has one.
    pub fn for_locale(locale: &Locale) -> Option<Self> {
        match locale.as_str() {
            "en" => Some(Self::FleschReadingEase),
            "nl" => Some(Self::FleschDouma),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::FleschReadingEase => "Flesch reading ease",
            Self::FleschDouma => "Flesch–Douma",
        }
    }

    fn score(self, words: usize, sentences: usize, syllables: usize) -> f64 {
        let (per_sentence, per_syllable) = match self {
            Self::FleschReadingEase => (1.015, 84.6),
            Self::FleschDouma => (0.93, 77.0),
        };
        let words = words as f64;
        206.835
            - per_sentence * (words / sentences as f64)
            - per_syllable * (syllables as f64 / words)
    }

    fn syllables(self, word: &str) -> usize {
        match self {
            Self::FleschReadingEase => syllables_en(word),
            Self::FleschDouma => syllables_nl(word),
        }
    }
}

/// The score of one text, with the counts it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readability {
    pub formula: Formula,
    /// Higher is easier: 60–70 is plain language, below 50 is hard for many readers.
    pub score: f64,
    pub words: usize,
    pub sentences: usize,
    pub syllables: usize,
    /// The number of words in the longest sentence.
    pub longest_sentence_words: usize,
    /// The longest sentence, as written.
    pub longest_sentence: String,
}

impl Readability {
    /// Whether the check warns about this text.
    pub fn is_hard(&self) -> bool {
        self.score < WARN_BELOW
    }
}

/// Flesch reading ease of an English text; `None` if it has no words.
pub fn flesch_reading_ease_en(text: &str) -> Option<Readability> {
    measure_with(Formula::FleschReadingEase, text)
}

/// Flesch–Douma reading ease of a Dutch text; `None` if it has no words.
pub fn flesch_douma_nl(text: &str) -> Option<Readability> {
    measure_with(Formula::FleschDouma, text)
}

/// The score of `text` written in `locale`: `None` when Keuze has no formula for the
/// language, or when the text is a label rather than prose (see [`is_prose`]).
pub fn measure(text: &str, locale: &Locale) -> Option<Readability> {
    let formula = Formula::for_locale(locale)?;
    if !is_prose(text) {
        return None;
    }
    measure_with(formula, text)
}

/// Whether the text is prose that a reading-ease formula describes: it ends a sentence
/// somewhere, or it is too long to be a title.
pub fn is_prose(text: &str) -> bool {
    text.contains(['.', '!', '?']) || words(text).count() >= MIN_WORDS_WITHOUT_SENTENCE_END
}

fn measure_with(formula: Formula, text: &str) -> Option<Readability> {
    let mut words_total = 0;
    let mut syllables = 0;
    let mut sentence_count = 0;
    let mut longest: (usize, &str) = (0, "");
    for sentence in sentences(text) {
        let mut in_sentence = 0;
        for word in words(sentence) {
            in_sentence += 1;
            syllables += formula.syllables(word);
        }
        if in_sentence == 0 {
            continue;
        }
        sentence_count += 1;
        words_total += in_sentence;
        if in_sentence > longest.0 {
            longest = (in_sentence, sentence);
        }
    }
    if words_total == 0 {
        return None;
    }
    Some(Readability {
        formula,
        score: formula.score(words_total, sentence_count, syllables),
        words: words_total,
        sentences: sentence_count,
        syllables,
        longest_sentence_words: longest.0,
        longest_sentence: longest.1.to_owned(),
    })
}

/// The sentences of a text, trimmed. A sentence ends at `.`, `!`, `?` or `…` (possibly
/// repeated, possibly followed by a closing quote or bracket) followed by white space and
/// then something that does not start in lower case, so `e.g. a card` stays one
/// sentence; an empty line also ends a sentence.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end_of_paragraph = c == '\n'
            && text
                .get(i + 1..)
                .is_some_and(|r| r.trim_start_matches([' ', '\t', '\r']).starts_with('\n'));
        if !is_terminator(c) && !end_of_paragraph {
            continue;
        }
        // Take the rest of the punctuation: `?!`, `...`, `."`, `.)`.
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if is_terminator(d) || matches!(d, '"' | '\'' | ')' | ']' | '”' | '’' | '»') {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let rest = text.get(end..).unwrap_or_default();
        if !end_of_paragraph && !rest.starts_with(char::is_whitespace) && !rest.is_empty() {
            // `1.5`, `B.V.`, `fietsenwinkel.example`: not the end of a sentence.
            continue;
        }
        let next = rest.trim_start().chars().next();
        if !end_of_paragraph && next.is_some_and(char::is_lowercase) {
            continue;
        }
        push_trimmed(&mut out, text.get(start..end).unwrap_or_default());
        start = end;
    }
    push_trimmed(&mut out, text.get(start..).unwrap_or_default());
    out
}

fn push_trimmed<'t>(out: &mut Vec<&'t str>, sentence: &'t str) {
    let sentence = sentence.trim();
    if words(sentence).next().is_some() {
        out.push(sentence);
    }
}

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

/// The words of a text: runs of characters between spaces (or `/` and dashes), with the
/// punctuation around them removed, that hold at least one letter or digit.
/// `e-mail` and `pagina's` are one word each.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '/' | '–' | '—'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().any(char::is_alphanumeric))
}

/// Syllables of an English word, counted as groups of vowels (`y` is a vowel unless a
/// vowel follows it, as in `you`), less a silent ending: a final `e` after a consonant
/// (`make`, but not `table`), `-es` after a consonant other than s, x, z, c, g, ch and sh
/// (`makes`, but not `places`), and `-ed` after a consonant other than t and d (`used`,
/// but not `wanted`). Every word has at least one syllable; a number has one per digit.
pub fn syllables_en(word: &str) -> usize {
    word.split('-').map(syllables_en_part).sum::<usize>().max(1)
}

fn syllables_en_part(part: &str) -> usize {
    if let Some(n) = digits(part) {
        return n;
    }
    let w: Vec<char> = part
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .collect();
    if w.is_empty() {
        return 0;
    }
    let at = |i: usize| w.get(i).copied();
    let vowel = |i: usize| match at(i) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => true,
        Some('y') => !matches!(at(i + 1), Some('a' | 'e' | 'i' | 'o' | 'u')),
        _ => false,
    };
    let consonant = |i: usize| at(i).is_some() && !vowel(i);
    let mut groups: usize = 0;
    for i in 0..w.len() {
        if vowel(i) && (i == 0 || !vowel(i - 1)) {
            groups += 1;
        }
    }
    let n = w.len();
    let ends = |s: &str| {
        let tail: Vec<char> = s.chars().collect();
        n >= tail.len() && w.get(n - tail.len()..) == Some(tail.as_slice())
    };
    // `table`, `tables`, `handled`: the e is heard after a consonant and `l`.
    let consonant_le = |l: usize| at(l) == Some('l') && l >= 1 && consonant(l - 1);
    let silent = if n > 1 && ends("e") {
        consonant(n - 2) && !consonant_le(n - 2)
    } else if n > 3 && ends("es") {
        consonant(n - 3)
            && !matches!(at(n - 3), Some('s' | 'x' | 'z' | 'c' | 'g'))
            && !ends("ches")
            && !ends("shes")
            && !consonant_le(n - 3)
    } else if n > 3 && ends("ed") {
        consonant(n - 3) && !matches!(at(n - 3), Some('t' | 'd')) && !consonant_le(n - 3)
    } else {
        false
    };
    if silent {
        groups = groups.saturating_sub(1);
    }
    groups.max(1)
}

/// Syllables of a Dutch word, counted as vowel sounds: the digraphs and trigraphs that
/// spell one sound (aa, ee, oo, uu, ie, oe, ou, au, ei, ij, ui, eu, and ai as in `mail`;
/// aai, ooi, oei, eeu, ieu) count once, and a letter with a diaeresis (`ideeën`,
/// `geïnteresseerd`) starts a new syllable. Accents are otherwise ignored (`één`).
/// Every word has at least one syllable; a number has one per digit.
pub fn syllables_nl(word: &str) -> usize {
    word.split('-').map(syllables_nl_part).sum::<usize>().max(1)
}

fn syllables_nl_part(part: &str) -> usize {
    const TRIGRAPHS: [&str; 5] = ["aai", "ooi", "oei", "eeu", "ieu"];
    const DIGRAPHS: [&str; 13] = [
        "aa", "ee", "oo", "uu", "ie", "oe", "ou", "au", "ei", "ij", "ui", "eu", "ai",
    ];
    if let Some(n) = digits(part) {
        return n;
    }
    let w: Vec<char> = part
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    let mut count = 0;
    let mut i = 0;
    while let Some(&c) = w.get(i) {
        if !is_dutch_vowel(c) {
            i += 1;
            continue;
        }
        count += 1;
        // A diaeresis letter stands alone and is never the second letter of a digraph,
        // so the digraph is looked for only among letters without one.
        let plain: String = w
            .iter()
            .skip(i)
            .take(3)
            .take_while(|&&d| !has_diaeresis(d))
            .map(|&d| fold_accent(d))
            .collect();
        let len = if has_diaeresis(c) {
            1
        } else if TRIGRAPHS.iter().any(|t| plain.starts_with(t)) {
            3
        } else if DIGRAPHS.iter().any(|d| plain.starts_with(d)) {
            2
        } else {
            1
        };
        i += len;
    }
    count.max(1)
}

fn is_dutch_vowel(c: char) -> bool {
    matches!(fold_accent(c), 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

fn has_diaeresis(c: char) -> bool {
    matches!(c, 'ä' | 'ë' | 'ï' | 'ö' | 'ü' | 'ÿ')
}

/// `é` -> `e`, `ï` -> `i`: the vowel without its accent.
fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        c => c,
    }
}

/// A number is read out with about one syllable per digit (`13`, `600`).
fn digits(part: &str) -> Option<usize> {
    let has_letter = part.chars().any(char::is_alphabetic);
    let n = part.chars().filter(char::is_ascii_digit).count();
    (!has_letter && n > 0).then_some(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 0.01,
            "score {actual}, expected {expected}"
        );
    }

    fn syllables_of(f: fn(&str) -> usize, text: &str) -> Vec<usize> {
        words(text).map(f).collect()
    }

    #[test]
    fn english_short_sentence() {
        let text = "The cat sat on the mat.";
        // The cat sat on the mat: one syllable each.
        assert_eq!(syllables_of(syllables_en, text), [1, 1, 1, 1, 1, 1]);
        let r = flesch_reading_ease_en(text).unwrap();
        assert_eq!((r.words, r.sentences, r.syllables), (6, 1, 6));
        // 206.835 − 1.015·(6/1) − 84.6·(6/6) = 206.835 − 6.09 − 84.6 = 116.145
        close(r.score, 116.145);
    }

    #[test]
    fn english_two_sentences() {
        let text =
            "We use your email address to send you our newsletter. You can stop it at any time.";
        // we 1, use 1 (silent e), your 1, e·mail 2, ad·dress 2, to 1, send 1, you 1,
        // our 1, news·let·ter 3 = 14; you 1, can 1, stop 1, it 1, at 1, an·y 2,
        // time 1 (silent e) = 8.
        assert_eq!(
            syllables_of(syllables_en, text),
            [1, 1, 1, 2, 2, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 2, 1]
        );
        let r = flesch_reading_ease_en(text).unwrap();
        assert_eq!((r.words, r.sentences, r.syllables), (17, 2, 22));
        // 206.835 − 1.015·(17/2) − 84.6·(22/17)
        //   = 206.835 − 8.6275 − 109.482353 = 88.725147
        close(r.score, 88.725147);
        assert_eq!(r.longest_sentence_words, 10);
        assert_eq!(
            r.longest_sentence,
            "We use your email address to send you our newsletter."
        );
    }

    #[test]
    fn english_hard_sentence() {
        let text = "Personal information is processed only for legitimate organisational purposes.";
        // per·son·al 3, in·for·ma·tion 4, is 1, pro·cessed 2 (silent -ed), on·ly 2, for 1,
        // le·git·i·mate 4 (silent e), or·gan·i·sa·tion·al 6, pur·pos·es 3 = 26.
        assert_eq!(
            syllables_of(syllables_en, text),
            [3, 4, 1, 2, 2, 1, 4, 6, 3]
        );
        let r = flesch_reading_ease_en(text).unwrap();
        // 206.835 − 1.015·(9/1) − 84.6·(26/9) = 206.835 − 9.135 − 244.4 = −46.7
        close(r.score, -46.7);
        assert!(r.is_hard());
    }

    #[test]
    fn english_endings() {
        for (word, n) in [
            ("make", 1),
            ("table", 2),
            ("whole", 1),
            ("makes", 1),
            ("places", 2),
            ("tables", 2),
            ("used", 1),
            ("wanted", 2),
            ("agreed", 2),
            ("handled", 2),
            ("the", 1),
            ("you", 1),
            ("every", 3),
            ("e-mail", 2),
            ("don't", 1),
            ("600", 3),
        ] {
            assert_eq!(syllables_en(word), n, "{word}");
        }
    }

    #[test]
    fn dutch_short_sentence() {
        let text = "We sturen je elke maand een mail.";
        // we 1, stu·ren 2, je 1, el·ke 2, maand 1 (aa), een 1 (ee), mail 1 (ai) = 9.
        assert_eq!(syllables_of(syllables_nl, text), [1, 2, 1, 2, 1, 1, 1]);
        let r = flesch_douma_nl(text).unwrap();
        // 206.835 − 0.93·(7/1) − 77·(9/7) = 206.835 − 6.51 − 99 = 101.325
        close(r.score, 101.325);
    }

    #[test]
    fn dutch_diphthongs_and_diaeresis() {
        let text = "Onze nieuwe ideeën zijn mooi.";
        // on·ze 2, nieu·we 2 (ieu), i·dee·ën 3 (ee, then ë), zijn 1 (ij), mooi 1 (ooi) = 9.
        assert_eq!(syllables_of(syllables_nl, text), [2, 2, 3, 1, 1]);
        let r = flesch_douma_nl(text).unwrap();
        // 206.835 − 0.93·(5/1) − 77·(9/5) = 206.835 − 4.65 − 138.6 = 63.585
        close(r.score, 63.585);
    }

    #[test]
    fn dutch_hard_sentence() {
        let text =
            "Wij verwerken persoonsgegevens uitsluitend voor gerechtvaardigde bedrijfsdoeleinden.";
        // wij 1, ver·wer·ken 3, per·soons·ge·ge·vens 5, uit·slui·tend 3, voor 1,
        // ge·recht·vaar·dig·de 5, be·drijfs·doel·ein·den 5 = 23.
        assert_eq!(syllables_of(syllables_nl, text), [1, 3, 5, 3, 1, 5, 5]);
        let r = flesch_douma_nl(text).unwrap();
        // 206.835 − 0.93·(7/1) − 77·(23/7) = 206.835 − 6.51 − 253 = −52.675
        close(r.score, -52.675);
    }

    #[test]
    fn dutch_words() {
        for (word, n) in [
            ("één", 1),
            ("geïnteresseerd", 5),
            ("pagina's", 3),
            ("moeilijk", 2),
            ("informatie", 4),
            ("ideaal", 3),
            ("e-mail", 2),
        ] {
            assert_eq!(syllables_nl(word), n, "{word}");
        }
    }

    #[test]
    fn sentences_split_where_a_new_sentence_starts() {
        assert_eq!(
            sentences("We check orders, e.g. for a stolen card. It is quick! Is it? Yes."),
            [
                "We check orders, e.g. for a stolen card.",
                "It is quick!",
                "Is it?",
                "Yes."
            ]
        );
        assert_eq!(
            sentences("Mail privacy@fietsenwinkel.example. Or call."),
            ["Mail privacy@fietsenwinkel.example.", "Or call."]
        );
        assert_eq!(sentences("No end"), ["No end"]);
        assert_eq!(sentences("One.\n\nTwo"), ["One.", "Two"]);
        assert_eq!(sentences("A list\n\nof lines"), ["A list", "of lines"]);
        assert!(sentences("  ... ").is_empty());
    }

    #[test]
    fn titles_are_not_scored() {
        assert_eq!(measure("Newsletter", &Locale::en()), None);
        assert_eq!(measure("Tips die bij je passen", &Locale::nl()), None);
        assert!(measure("We send you news.", &Locale::en()).is_some());
        assert_eq!(
            measure(
                "Wir senden Ihnen Neuigkeiten.",
                &Locale::parse("de").unwrap()
            ),
            None
        );
        assert_eq!(flesch_reading_ease_en(" -- "), None);
    }
}
