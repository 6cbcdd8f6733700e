//! `Accept-Language` negotiation: any header picks one of the languages the pages speak
//! or none, names it (or `*`), and does not care about ranges for other languages.

use keuze_core::Locale;
use keuze_server::language::{best_of_accept_language, negotiate};

pub fn accept_language(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let best = best_of_accept_language(header);
    if let Some(l) = &best {
        assert!(
            *l == Locale::en() || *l == Locale::nl(),
            "`{header}` chose {l}, which no page is written in"
        );
        let lower = header.to_ascii_lowercase();
        assert!(
            lower.contains(l.as_str()) || lower.contains('*'),
            "`{header}` chose {l} without naming it or `*`"
        );
    }
    // A range for a language no page speaks changes nothing, wherever it stands.
    assert_eq!(
        best_of_accept_language(&format!("{header},zz")),
        best,
        "`{header}`"
    );
    assert_eq!(
        best_of_accept_language(&format!("zz;q=0.5,{header}")),
        best,
        "`{header}`"
    );
    // `?lang=` wins when it names a language of ours; the header decides otherwise.
    assert_eq!(negotiate(Some("nl"), Some(header)), Locale::nl());
    assert_eq!(
        negotiate(Some(header), None),
        match header.trim().to_ascii_lowercase().as_str() {
            "en" => Locale::en(),
            "nl" => Locale::nl(),
            _ => Locale::en(),
        }
    );
    assert_eq!(
        negotiate(None, Some(header)),
        best.unwrap_or_else(Locale::en)
    );
}
