//! The catalog parser: whatever the bytes, `parse_catalog` answers without panicking, its
//! diagnostics point into the source, and an accepted catalog has one canonical form
//! whose digest does not depend on comments or on parsing twice.

use keuze_core::catalog::{parse_catalog, Digest256};
use keuze_core::receipt::NoticeContext;
use keuze_core::Locale;

pub fn catalog_toml(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let result = parse_catalog("fuzz.toml", source);
    let report = match &result {
        Ok((_, report)) => report,
        Err(e) => &e.0,
    };
    for d in &report.diagnostics {
        assert!(
            d.span.start <= d.span.end && d.span.end <= source.len(),
            "diagnostic `{}` has span {:?} outside a source of {} bytes",
            d.message,
            d.span,
            source.len()
        );
        assert!(
            source.is_char_boundary(d.span.start) && source.is_char_boundary(d.span.end),
            "diagnostic `{}` has span {:?} inside a character",
            d.message,
            d.span
        );
        let (line, column) = report.line_column(d);
        assert!(line >= 1 && column >= 1);
    }
    let rendered = report.render();
    assert!(rendered.ends_with(&format!("{}\n", report.summary())));
    let _ = report.render_readability();

    let Ok((catalog, report)) = result else {
        assert!(report.error_count() > 0, "a refused catalog names no error");
        return;
    };
    assert_eq!(report.error_count(), 0);
    let canonical = catalog.canonical_json();
    let value: serde_json::Value =
        serde_json::from_str(&canonical).expect("the canonical form is JSON");
    assert!(value.is_object());
    assert_eq!(catalog.digest(), Digest256::of(canonical.as_bytes()));

    // Parsing is a function of the text, and comments are not part of what it means.
    let again = parse_catalog("fuzz.toml", source).expect("the same text parses twice");
    assert_eq!(again.0.digest(), catalog.digest());
    let commented = format!("# a comment\n{source}\n# another\n");
    match parse_catalog("fuzz.toml", &commented) {
        Ok((c, _)) => assert_eq!(
            c.canonical_json(),
            canonical,
            "comments changed the catalog's canonical form"
        ),
        Err(e) => panic!(
            "adding comments made an accepted catalog invalid:\n{}",
            e.0.render()
        ),
    }

    // Every purpose has a notice in every language the pages speak, and a receipt context.
    for purpose in &catalog.purposes {
        for locale in [Locale::en(), Locale::nl()] {
            let notice = purpose.notice(&locale, &catalog.taxonomy);
            assert!(notice.starts_with(&format!("purpose: {}\n", purpose.id)));
            assert_eq!(
                purpose.notice_digest(&locale, &catalog.taxonomy),
                Digest256::of(notice.as_bytes())
            );
        }
        let context = NoticeContext::from_catalog(&catalog, &purpose.id)
            .expect("every declared purpose has a context");
        let ctx: serde_json::Value =
            serde_json::from_str(&context.canonical_json()).expect("the context is JSON");
        assert!(ctx.is_object());
    }
}
