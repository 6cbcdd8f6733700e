//! The public transparency pages: `/privacy`, `/privacy.json` and `/privacy/changes`, in
//! English and Dutch, without an account, and as well-formed, accessible HTML.

use crate::helpers::{cli_at, spawn_app, TestApp, T0};
use html5ever::tendril::TendrilSink;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, EndTag, ParseError, StartTag, TagToken, Token, TokenSink, TokenSinkResult,
    Tokenizer, TokenizerOpts,
};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{Catalog, CatalogVersion, Locale};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashSet;

// --- the HTML checker ------------------------------------------------------------------

const VOID: [&str; 13] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Follows the tags as written: every element that is opened is closed, in order, even
/// where HTML would let a closing tag be left out.
#[derive(Default)]
struct TagBalance {
    open: RefCell<Vec<(String, u64)>>,
    problems: RefCell<Vec<String>>,
}

impl TokenSink for TagBalance {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        let mut problems = self.problems.borrow_mut();
        match token {
            TagToken(tag) => {
                let name = tag.name.to_string();
                let void = VOID.contains(&name.as_str());
                match tag.kind {
                    StartTag if void => {}
                    StartTag if tag.self_closing => {
                        problems.push(format!("line {line}: <{name}/> is not a void element"));
                    }
                    StartTag => {
                        self.open.borrow_mut().push((name.clone(), line));
                        // The tree builder would switch the tokenizer for these; alone, we do.
                        match name.as_str() {
                            "style" => return TokenSinkResult::RawData(RawKind::Rawtext),
                            "title" | "textarea" => {
                                return TokenSinkResult::RawData(RawKind::Rcdata)
                            }
                            "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                            _ => {}
                        }
                    }
                    EndTag if void => {
                        problems.push(format!("line {line}: </{name}> for a void element"))
                    }
                    EndTag => match self.open.borrow_mut().pop() {
                        Some((open, _)) if open == name => {}
                        Some((open, at)) => problems.push(format!(
                            "line {line}: </{name}> closes <{open}> opened on line {at}"
                        )),
                        None => problems.push(format!("line {line}: </{name}> closes nothing")),
                    },
                }
            }
            ParseError(e) => problems.push(format!("line {line}: {e}")),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn exact() -> TokenizerOpts {
    TokenizerOpts {
        exact_errors: true,
        ..TokenizerOpts::default()
    }
}

pub(crate) fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Every problem that makes `page` broken or hard to use; empty for a good page.
fn html_problems(page: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !page.starts_with("<!DOCTYPE html>") {
        problems.push("the page does not start with <!DOCTYPE html>".to_owned());
    }

    let input = BufferQueue::default();
    input.push_back(page.into());
    let tokenizer = Tokenizer::new(TagBalance::default(), exact());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    problems.extend(tokenizer.sink.problems.take());
    for (name, line) in tokenizer.sink.open.take() {
        problems.push(format!("<{name}> opened on line {line} is never closed"));
    }

    // The HTML5 tree builder: misnested or misplaced elements.
    let doc = html5ever::driver::parse_document(
        scraper::HtmlTreeSink::new(Html::new_document()),
        html5ever::ParseOpts {
            tokenizer: exact(),
            ..Default::default()
        },
    )
    .one(page);
    problems.extend(doc.errors.iter().map(|e| format!("tree: {e}")));

    let count = |s: &str| doc.select(&sel(s)).count();
    let html: Vec<ElementRef> = doc.select(&sel("html")).collect();
    if html.len() != 1 || html[0].value().attr("lang").is_none_or(str::is_empty) {
        problems.push("there must be one <html> with a lang attribute".to_owned());
    }
    let titles: Vec<String> = doc.select(&sel("head > title")).map(text).collect();
    if titles.len() != 1 || titles[0].is_empty() {
        problems.push(format!(
            "there must be one non-empty <title>, found {titles:?}"
        ));
    }
    if count("meta[charset]") != 1 || count("meta[name=viewport]") != 1 {
        problems.push("the page must declare its charset and a viewport".to_owned());
    }
    if count("h1") != 1 {
        problems.push(format!("there must be one <h1>, found {}", count("h1")));
    }
    for landmark in ["header", "main", "footer"] {
        if count(landmark) != 1 {
            problems.push(format!("there must be one <{landmark}>"));
        }
    }
    let mut level = 0;
    for h in doc.select(&sel("h1, h2, h3, h4, h5, h6")) {
        let this: usize = h.value().name()[1..].parse().unwrap();
        if this > level + 1 {
            problems.push(format!("<h{this}> \"{}\" follows <h{level}>", text(h)));
        }
        if text(h).is_empty() {
            problems.push(format!("an empty <h{this}>"));
        }
        level = this;
    }
    let mut ids = HashSet::new();
    for e in doc.select(&sel("[id]")) {
        let id = e.value().id().unwrap_or_default().to_owned();
        if !ids.insert(id.clone()) {
            problems.push(format!("the id `{id}` is used twice"));
        }
    }
    for e in doc.select(&sel("[aria-labelledby]")) {
        let target = e.value().attr("aria-labelledby").unwrap_or_default();
        if !ids.contains(target) {
            problems.push(format!("aria-labelledby=\"{target}\" names no element"));
        }
    }
    for a in doc.select(&sel("a")) {
        match a.value().attr("href") {
            Some(href) if href.starts_with('#') && !ids.contains(&href[1..]) => {
                problems.push(format!("the link {href} leads nowhere"));
            }
            None | Some("") => problems.push(format!("the link \"{}\" has no href", text(a))),
            _ => {}
        }
        if text(a).is_empty() {
            problems.push("a link without text".to_owned());
        }
    }
    for img in doc.select(&sel("img")) {
        if img.value().attr("alt").is_none() {
            problems.push("an <img> without alt".to_owned());
        }
    }
    problems
}

#[track_caller]
pub(crate) fn assert_valid_html(page: &str) -> Html {
    let problems = html_problems(page);
    assert!(problems.is_empty(), "{problems:#?}\n\n{page}");
    Html::parse_document(page)
}

/// An element's text with whitespace collapsed, as a reader sees it.
pub(crate) fn text(e: ElementRef) -> String {
    e.text()
        .collect::<Vec<_>>()
        .join("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn one(doc: &Html, selector: &str) -> String {
    let found: Vec<String> = doc.select(&sel(selector)).map(text).collect();
    assert_eq!(found.len(), 1, "{selector}: {found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn the_checker_finds_broken_markup() {
    let good = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>T</title></head><body><header><p>Org</p></header><main><h1>A</h1><h2 id=\"x\">B</h2><p>x <a href=\"#x\">B</a></p><img src=\"a.png\" alt=\"\"></main><footer><p>f</p></footer></body></html>";
    assert_eq!(html_problems(good), Vec::<String>::new());
    let broken = |from: &str, to: &str| {
        let page = good.replacen(from, to, 1);
        assert_ne!(page, good, "{from}");
        let problems = html_problems(&page);
        assert!(!problems.is_empty(), "{to} passed");
        problems
    };
    broken("<p>f</p>", "<p>f");
    broken("<p>f</p>", "<div><p>f</div></p>");
    broken("</main>", "");
    broken("<h2 id=\"x\">B</h2>", "<h3 id=\"x\">B</h3>");
    broken("<h2 id=\"x\">B</h2>", "<h2 id=\"x\">B</h2><h1>C</h1>");
    broken("<p>f</p>", "<p id=\"x\">f</p>");
    broken(" alt=\"\"", "");
    broken(" lang=\"en\"", "");
    broken("<title>T</title>", "");
    broken("href=\"#x\"", "href=\"#y\"");
    broken("<p>f</p>", "<span/>");
    broken("<footer>", "<footer><footer></footer>");
}

// --- the pages -------------------------------------------------------------------------

fn sample() -> Catalog {
    parse_catalog("sample", SAMPLE_CATALOG).unwrap().0
}

/// A GET without any credentials: the pages are public.
async fn public_get(app: &TestApp, path: &str, accept_language: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(al) = accept_language {
        req = req.header("accept-language", al);
    }
    req.send().await.unwrap()
}

/// Fetches an HTML page, checks its headers and markup, and returns it parsed.
async fn page(app: &TestApp, path: &str, accept_language: Option<&str>, lang: &str) -> Html {
    let res = public_get(app, path, accept_language).await;
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        headers["content-language"], lang,
        "{path} {accept_language:?}"
    );
    assert_eq!(headers["vary"], "Accept-Language");
    let body = res.text().await.unwrap();
    let doc = assert_valid_html(&body);
    assert_eq!(
        doc.select(&sel("html"))
            .next()
            .unwrap()
            .value()
            .attr("lang"),
        Some(lang)
    );
    doc
}

struct Words {
    lang: &'static str,
    other: &'static str,
    country: &'static str,
    us: &'static str,
    outside: &'static str,
    sensitive: &'static str,
    consent: &'static str,
    objection: &'static str,
    contract: &'static str,
    law: &'static str,
    keep_2_years: &'static str,
    keep_90_days: &'static str,
    ask_again: &'static str,
    gpc: &'static str,
    version: &'static str,
    published: &'static str,
    shared_outside: &'static str,
}

const EN: Words = Words {
    lang: "en",
    other: "nl",
    country: "the Netherlands",
    us: "United States",
    outside: "outside the EEA",
    sensitive: "(sensitive)",
    consent: "Only with your permission. You can say no, and change your mind at any time.",
    objection: "We do this unless you object.",
    contract: "We need this to deliver what you asked for.",
    law: "The law requires this.",
    keep_2_years: "We keep it for 2 years.",
    keep_90_days: "We keep it for 90 days.",
    ask_again: "We ask again after 13 months.",
    gpc: "Global Privacy Control",
    version: "Catalog version 1",
    published: "published on 15 January 2027",
    shared_outside: "We now also share this data with Acme Mail (United States). That is outside the EEA. (important)",
};

const NL: Words = Words {
    lang: "nl",
    other: "en",
    country: "Nederland",
    us: "Verenigde Staten",
    outside: "buiten de EER",
    sensitive: "(gevoelig)",
    consent: "Alleen met jouw toestemming. Je kunt nee zeggen, en je kunt altijd van gedachten veranderen.",
    objection: "We doen dit, tenzij je bezwaar maakt.",
    contract: "We hebben dit nodig om te leveren wat je vroeg.",
    law: "De wet verplicht ons hiertoe.",
    keep_2_years: "We bewaren deze gegevens 2 jaar.",
    keep_90_days: "We bewaren deze gegevens 90 dagen.",
    ask_again: "Na 13 maanden vragen we het je opnieuw.",
    gpc: "Global Privacy Control",
    version: "Catalogusversie 1",
    published: "gepubliceerd op 15 januari 2027",
    shared_outside: "We delen deze gegevens nu ook met Acme Mail (Verenigde Staten). Dat is buiten de EER. (belangrijk)",
};

#[tokio::test]
async fn the_page_says_per_purpose_what_happens_in_english_and_dutch() {
    let app = spawn_app().await;
    let catalog = sample();
    for w in [EN, NL] {
        let locale = Locale::parse(w.lang).unwrap();
        let doc = page(&app, &format!("/privacy?lang={}", w.lang), None, w.lang).await;
        let all = text(doc.root_element());

        assert!(one(&doc, "h1").contains("Fietsenwinkel B.V."));
        assert!(one(&doc, "title").contains("Fietsenwinkel B.V."));
        assert!(all.contains(w.country), "{}", w.lang);
        assert!(all.contains("privacy@fietsenwinkel.example"));
        assert_eq!(
            doc.select(&sel("a[href=\"mailto:privacy@fietsenwinkel.example\"]"))
                .count(),
            1
        );
        // The sample uses no sensitive category, so nothing is marked.
        assert!(!all.contains(w.sensitive), "{}", w.lang);

        for p in &catalog.purposes {
            let at = format!("section#{}", p.id);
            assert_eq!(one(&doc, &format!("{at} > h3")), p.title.get(&locale));
            assert_eq!(one(&doc, &format!("{at} > p")), p.description.get(&locale));
            let section = one(&doc, &at);
            for c in &p.categories {
                assert!(
                    section.contains(catalog.taxonomy.name(c, &locale).unwrap()),
                    "{c}"
                );
            }
            for r in &p.recipients {
                assert!(section.contains(&r.name), "{}", r.name);
            }
            for t in [&p.benefit, &p.alternative].into_iter().flatten() {
                assert!(section.contains(t.get(&locale)), "{}", p.id);
            }
            let explained = match p.legal_basis.as_str() {
                "consent" => w.consent,
                "legitimate_interest" => w.objection,
                "contract" => w.contract,
                _ => w.law,
            };
            assert!(section.contains(explained), "{} {}", p.id, w.lang);
            assert_eq!(section.contains(w.gpc), p.gpc, "{}", p.id);
            // Every purpose is in the table of contents.
            assert_eq!(
                doc.select(&sel(&format!("nav a[href=\"#{}\"]", p.id)))
                    .count(),
                1
            );
        }

        let ads: Vec<String> = doc
            .select(&sel("section#advertising_partners li"))
            .map(text)
            .filter(|t| t.starts_with("Google") || t.starts_with("Meta"))
            .collect();
        assert_eq!(ads.len(), 2, "{ads:?}");
        assert!(!ads[0].contains(w.outside), "{ads:?}");
        assert_eq!(
            ads[1],
            format!(
                "Meta Platforms, {}: {} ({})",
                w.us,
                w.outside,
                match w.lang {
                    "nl" => "Europese Economische Ruimte",
                    _ => "European Economic Area",
                }
            )
        );
        assert!(one(&doc, "section#order_fulfilment").contains(w.keep_2_years));
        assert!(one(&doc, "section#advertising_partners").contains(w.keep_90_days));
        assert!(one(&doc, "section#newsletter").contains(w.ask_again));
        // Recipients inside the EEA carry no note.
        assert!(!one(&doc, "section#order_fulfilment").contains(w.outside));

        let footer = one(&doc, "footer");
        assert!(footer.contains(w.version), "{footer}");
        assert!(footer.contains(&catalog.digest().to_string()));
        assert!(footer.contains(w.published), "{footer}");
        for href in [
            format!("/privacy.json?lang={}", w.lang),
            format!("/privacy/changes?lang={}", w.lang),
            format!("/privacy/incidents?lang={}", w.lang),
        ] {
            assert_eq!(
                doc.select(&sel(&format!("footer a[href=\"{href}\"]")))
                    .count(),
                1
            );
        }
        let switch = doc
            .select(&sel(&format!("header a[hreflang=\"{}\"]", w.other)))
            .next()
            .unwrap();
        assert_eq!(
            switch.value().attr("href"),
            Some(format!("/privacy?lang={}", w.other).as_str())
        );
    }
}

#[tokio::test]
async fn the_language_follows_lang_then_accept_language_then_english() {
    let app = spawn_app().await;
    let cases = [
        ("/privacy", Some("nl-NL,nl;q=0.9"), "nl"),
        ("/privacy?lang=en", Some("nl-NL,nl;q=0.9"), "en"),
        ("/privacy?lang=nl", Some("en"), "nl"),
        ("/privacy", Some("nl-NL,nl;q=0.9,en;q=0.8"), "nl"),
        ("/privacy", Some("de-DE, en;q=0.5, nl;q=0.8"), "nl"),
        ("/privacy", Some("en-GB,en;q=0.9,nl;q=0.8"), "en"),
        ("/privacy", Some("fr, *;q=0.1"), "en"),
        ("/privacy", Some("nl;q=0"), "en"),
        ("/privacy", Some("de"), "en"),
        ("/privacy", Some("nl;q=2, en;q=0.1"), "en"),
        ("/privacy", None, "en"),
        ("/privacy?lang=xx", Some("nl"), "nl"),
        ("/privacy/changes", Some("nl-BE"), "nl"),
        ("/privacy/changes?lang=en", Some("nl-BE"), "en"),
        ("/privacy/incidents", Some("nl-BE"), "nl"),
        ("/privacy/incidents?lang=en", Some("nl-BE"), "en"),
    ];
    for (path, accept_language, lang) in cases {
        page(&app, path, accept_language, lang).await;
    }
    for (path, accept_language, lang) in [
        ("/privacy.json", Some("nl-NL,nl;q=0.9"), "nl"),
        ("/privacy.json?lang=en", Some("nl-NL,nl;q=0.9"), "en"),
        ("/privacy.json", None, "en"),
    ] {
        let res = public_get(&app, path, accept_language).await;
        assert_eq!(res.headers()["content-language"], lang);
        assert_eq!(res.headers()["vary"], "Accept-Language");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["locale"], lang, "{path} {accept_language:?}");
    }
}

#[tokio::test]
async fn the_pages_need_no_account() {
    let app = spawn_app().await;
    for path in ["/privacy", "/privacy.json", "/privacy/changes"] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        // A page the organisation does not want framed or scripted.
        if path != "/privacy.json" {
            let csp = res.headers()["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("default-src 'none'"), "{csp}");
        }
    }
}

#[tokio::test]
async fn the_json_twin_has_every_purpose_in_both_languages() {
    let app = spawn_app().await;
    let catalog = sample();
    for w in [EN, NL] {
        let locale = Locale::parse(w.lang).unwrap();
        let res = public_get(&app, &format!("/privacy.json?lang={}", w.lang), None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["content-language"], w.lang);
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["digest"], catalog.digest().to_string());
        assert_eq!(doc["published_at"], T0.to_rfc3339());
        assert_eq!(doc["locale"], w.lang);
        assert_eq!(doc["organisation"]["name"], "Fietsenwinkel B.V.");
        assert_eq!(doc["organisation"]["country"], "NL");
        assert_eq!(doc["organisation"]["country_name"], w.country);

        let purposes = doc["purposes"].as_array().unwrap();
        assert_eq!(purposes.len(), catalog.purposes.len());
        for (p, j) in catalog.purposes.iter().zip(purposes) {
            assert_eq!(j["id"], p.id.as_str());
            assert_eq!(j["title"], p.title.get(&locale));
            assert_eq!(j["description"], p.description.get(&locale));
            assert_eq!(j["legal_basis"]["code"], p.legal_basis.as_str());
            assert!(!j["legal_basis"]["explanation"].as_str().unwrap().is_empty());
            let data = j["data"].as_array().unwrap();
            assert_eq!(data.len(), p.categories.len());
            for (c, d) in p.categories.iter().zip(data) {
                assert_eq!(d["category"], c.as_str());
                assert_eq!(d["name"], catalog.taxonomy.name(c, &locale).unwrap());
                assert_eq!(d["sensitive"], false);
            }
            let recipients = j["recipients"].as_array().unwrap();
            assert_eq!(recipients.len(), p.recipients.len());
            for (r, v) in p.recipients.iter().zip(recipients) {
                assert_eq!(v["name"], r.name.as_str());
                assert_eq!(v["country"], r.country.as_str());
                assert!(v["country_name"].is_string());
                assert_eq!(v["outside_eea"], r.country.as_str() == "US", "{}", r.name);
            }
            assert_eq!(j["retention"]["period"], p.retention.to_string());
            assert_eq!(j["retention"]["days"], p.retention.days());
            assert!(j["retention"]["text"].is_string());
            match p.consent_lifetime {
                Some(l) => assert_eq!(j["consent_lifetime"]["period"], l.to_string()),
                None => assert!(j["consent_lifetime"].is_null()),
            }
            assert_eq!(j["gpc"], p.gpc);
            assert_eq!(
                j["benefit"].as_str(),
                p.benefit.as_ref().map(|b| b.get(&locale))
            );
            assert_eq!(
                j["alternative"].as_str(),
                p.alternative.as_ref().map(|a| a.get(&locale))
            );
        }
        let ads = purposes
            .iter()
            .find(|p| p["id"] == "advertising_partners")
            .unwrap();
        assert_eq!(ads["recipients"][1]["country_name"], w.us);
        assert_eq!(ads["retention"]["text"], w.keep_90_days);
        let orders = purposes
            .iter()
            .find(|p| p["id"] == "order_fulfilment")
            .unwrap();
        assert_eq!(orders["retention"]["text"], w.keep_2_years);
        assert_eq!(orders["legal_basis"]["explanation"], w.contract);
        let news = purposes.iter().find(|p| p["id"] == "newsletter").unwrap();
        assert_eq!(news["consent_lifetime"]["text"], w.ask_again);
        assert_eq!(news["legal_basis"]["explanation"], w.consent);

        if w.lang == "en" {
            insta::assert_json_snapshot!("privacy_json_en", doc);
        }
    }

    // Every text in both languages at once.
    let res = public_get(&app, "/privacy.json?lang=all", Some("nl")).await;
    assert_eq!(res.headers()["content-language"], "en, nl");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["locale"], "all");
    let news = &doc["purposes"][5];
    assert_eq!(news["id"], "newsletter");
    assert_eq!(news["title"]["en"], "Newsletter");
    assert_eq!(news["title"]["nl"], "Nieuwsbrief");
    assert_eq!(news["retention"]["text"]["nl"], NL.keep_2_years);
    assert_eq!(news["data"][0]["name"]["en"], "E-mail address");
    assert_eq!(doc["organisation"]["country_name"]["nl"], "Nederland");
}

/// Publishes `catalog` as the next version through the store and puts it in force.
async fn publish(app: &TestApp, source: &str, days_later: i64) -> Catalog {
    let (catalog, _) = parse_catalog("next", source).unwrap();
    let at = T0.plus_days(days_later);
    let stored = app
        .store
        .publish_catalog(
            catalog.digest(),
            catalog.canonical_json(),
            source.into(),
            &cli_at(at),
        )
        .await
        .unwrap();
    app.state
        .adopt(vec![CatalogVersion {
            number: stored.number,
            digest: catalog.digest(),
            catalog: catalog.clone(),
            published_at: at,
        }])
        .unwrap();
    catalog
}

#[tokio::test]
async fn the_changes_page_lists_every_version_newest_first() {
    let app = spawn_app().await;
    for (lang, first) in [
        ("en", "The first version we published."),
        ("nl", "De eerste versie die we publiceerden."),
    ] {
        let doc = page(&app, &format!("/privacy/changes?lang={lang}"), None, lang).await;
        let versions: Vec<String> = doc.select(&sel("main h2")).map(text).collect();
        assert_eq!(versions.len(), 1, "{versions:?}");
        assert!(
            versions[0].ends_with(" 1 (in force now)")
                || versions[0].ends_with(" 1 (nu van kracht)")
        );
        assert!(one(&doc, "main section").contains(first));
    }

    // Version 2: fraud checks are kept longer, the newsletter goes to a firm in the United
    // States, recommendations use heart-rate data (sensitive), and the English reviews text
    // is reworded.
    let source = SAMPLE_CATALOG
        .replacen(
            "name = \"Mailjet\"\ncountry = \"FR\"\n",
            "name = \"Mailjet\"\ncountry = \"FR\"\n\n[[purposes.recipients]]\nname = \"Acme Mail\"\ncountry = \"US\"\n",
            1,
        )
        .replacen(
            "\"behaviour.preferences\", \"bike_fit\"]",
            "\"behaviour.preferences\", \"bike_fit\", \"health.activity\"]",
            1,
        )
        .replacen("Nothing else changes.", "Nothing else changes for you.", 1)
        .replacen("retention = \"6 months\"", "retention = \"12 months\"", 1);
    assert_ne!(source, SAMPLE_CATALOG);
    publish(&app, &source, 30).await;

    for (lang, words) in [("en", EN), ("nl", NL)] {
        let doc = page(&app, &format!("/privacy/changes?lang={lang}"), None, lang).await;
        let versions: Vec<String> = doc.select(&sel("main h2")).map(text).collect();
        assert_eq!(versions.len(), 2, "{versions:?}");
        assert!(versions[0].contains(" 2 ("), "newest first: {versions:?}");
        assert!(versions[1].ends_with(" 1"), "{versions:?}");
        let v2 = doc.select(&sel("main section")).next().unwrap();
        let purposes: Vec<String> = v2.select(&sel("h3")).map(text).collect();
        let (important, changed) = match lang {
            "nl" => ("Belangrijke wijziging", "Gewijzigd"),
            _ => ("Important change", "Changed"),
        };
        let mut expected = vec![
            format!(
                "{}: {important}",
                if lang == "nl" {
                    "Fraude tegengaan"
                } else {
                    "Stop fraud"
                }
            ),
            format!(
                "{}: {important}",
                if lang == "nl" {
                    "Nieuwsbrief"
                } else {
                    "Newsletter"
                }
            ),
            format!(
                "{}: {important}",
                if lang == "nl" {
                    "Tips die bij je passen"
                } else {
                    "Tips that suit you"
                }
            ),
        ];
        // Only the English text of the reviews was reworded: no news to a Dutch reader.
        if lang == "en" {
            expected.push(format!("Reviews: {changed}"));
        }
        assert_eq!(purposes, expected);
        let lines: Vec<String> = v2.select(&sel("li")).map(text).collect();
        assert!(
            lines.contains(&words.shared_outside.to_owned()),
            "{lines:?}"
        );
        let v2 = text(v2);
        let note = match lang {
            "nl" => "Heb je hier eerder ja op gezegd, dan vragen we het je opnieuw.",
            _ => "If you said yes to this before, we ask you again.",
        };
        assert_eq!(v2.matches(note).count(), 2, "{v2}");
        // No one said yes to a legitimate interest: the note says so.
        let other = match lang {
            "nl" => "Dit verandert wat we met je gegevens doen.",
            _ => "This changes what we do with your data.",
        };
        assert_eq!(v2.matches(other).count(), 1, "{v2}");
        // The heading links to where the purpose is described now.
        assert_eq!(
            doc.select(&sel(&format!(
                "h3 a[href=\"/privacy?lang={lang}#newsletter\"]"
            )))
            .count(),
            1
        );

        // The page itself now shows version 2, with the sensitive data marked.
        let privacy = page(&app, &format!("/privacy?lang={lang}"), None, lang).await;
        let marked: Vec<String> = privacy
            .select(&sel("section#personalised_recommendations li"))
            .map(text)
            .filter(|t| t.contains(words.sensitive))
            .collect();
        let heart = if lang == "nl" {
            "Hartslag en conditiegegevens"
        } else {
            "Heart rate and fitness data"
        };
        assert_eq!(marked, [format!("{heart} {}", words.sensitive)]);
        assert!(one(&privacy, "footer").contains(&words.version.replace('1', "2")));
        assert_eq!(privacy.select(&sel("p.note")).count(), 1);
    }

    let doc: Value = public_get(&app, "/privacy.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["version"], 2);
    let recs = doc["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "personalised_recommendations")
        .unwrap();
    let health = recs["data"].as_array().unwrap().last().unwrap();
    assert_eq!(health["category"], "health.activity");
    assert_eq!(health["sensitive"], true);
}

/// A query string a page cannot read (a parameter given twice) is a problem, not axum's
/// plain-text 400 (found by fuzzing, docs/fuzzing.md).
#[tokio::test]
async fn an_unreadable_query_is_a_problem() {
    let app = spawn_app().await;
    for path in [
        "/privacy?lang=en&lang=nl",
        "/privacy.json?lang=en&lang=nl",
        "/privacy/changes?lang=en&lang=nl",
        "/me?token=&token=x",
        "/me/export?lang=en&lang=nl",
        "/me/receipts/1?lang=en&lang=nl",
    ] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let body = crate::helpers::problem(res, 422).await;
        assert!(body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("duplicate field"));
    }
}
