//! The banner: a small script served by Keuze that a shop embeds, the endpoints it talks
//! to, Global Privacy Control and Google Consent Mode v2, and linking the anonymous device
//! subject it records under to a known customer once they log in.
//!
//! The banner's endpoints (`/v1/banner/…`) take no API key: they run in the visitor's
//! browser, which is identified by the first-party cookie `keuze_device` holding an
//! anonymous device id. Every one of them requires `X-Keuze-Banner: 1`: a page on another
//! site cannot send a custom header without a CORS preflight, which Keuze never grants, so
//! no other site can record or read choices for the visitor.

use crate::auth::{Authorized, RecordScope};
use crate::json::{JsonBody, QueryParams};
use crate::notice::{self, Question};
use crate::problem::{ApiError, FieldError, Problem};
use crate::wire::{answer_of, locale_of, AllInput, ChoiceInput, EventView, SubjectRef};
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keuze_app::visitor::{BannerAnswer, LinkError};
use keuze_app::AppState;
use keuze_core::{Catalog, LegalBasis, Locale, Reason, SubjectId, SubjectKey};
use keuze_store::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The banner's routes, documented in the OpenAPI document like every other route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(banner_prompt))
        .routes(routes!(banner_choices))
        .routes(routes!(banner_decide))
        .routes(routes!(script))
        .routes(routes!(gpc_json))
        .routes(routes!(demo))
        .routes(routes!(link))
}

/// The script, embedded in the binary.
pub const BANNER_JS: &str = include_str!("../../assets/banner.js");

/// The cookie that holds the visitor's anonymous device id.
pub const DEVICE_COOKIE: &str = "keuze_device";

/// 396 days: about 13 months, the longest a choice is relied on before asking again.
const DEVICE_COOKIE_MAX_AGE: u32 = 396 * 24 * 60 * 60;

/// The header that proves a request came from a page of this site (see the module docs).
pub const BANNER_HEADER: &str = "x-keuze-banner";

/// The Global Privacy Control header browsers send.
const SEC_GPC: &str = "sec-gpc";

/// The script's own way to pass on `navigator.globalPrivacyControl`: `fetch` may not set
/// `Sec-` headers, so it cannot forward the signal as `Sec-GPC`.
const SCRIPT_GPC: &str = "x-keuze-gpc";

// --- errors ----------------------------------------------------------------------------

/// What the banner's endpoints can fail with: the API's errors, and a request that did not
/// come from the banner script.
#[derive(Debug, thiserror::Error)]
pub enum BannerError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the request lacks `X-Keuze-Banner: 1`")]
    NotFromBanner,
}

impl From<StoreError> for BannerError {
    fn from(e: StoreError) -> Self {
        Self::Api(ApiError::Store(e))
    }
}

impl IntoResponse for BannerError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::NotFromBanner => {
                let problem = Problem {
                    kind: "urn:keuze:problem:not-from-banner".into(),
                    title: "Not sent by the banner script".into(),
                    status: StatusCode::FORBIDDEN.as_u16(),
                    detail: "the banner's endpoints answer only requests that carry the header `X-Keuze-Banner: 1`, which a page on another site cannot send; embed /banner.js on your own site, or send the header yourself. Nothing was written".into(),
                    errors: Vec::new(),
                    current_catalog_version: None,
                };
                let body = serde_json::to_vec(&problem).unwrap_or_default();
                (
                    StatusCode::FORBIDDEN,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/problem+json"),
                    )],
                    body,
                )
                    .into_response()
            }
        }
    }
}

// --- the visitor -----------------------------------------------------------------------

/// The visitor behind a banner request: their device subject (from the cookie, or issued
/// now), and whether their browser sends Global Privacy Control.
pub struct Visitor {
    device_id: String,
    subject: SubjectId,
    /// Set when this request issued the device id: the response must set the cookie.
    issued: bool,
    gpc: bool,
}

fn device_cookie(headers: &HeaderMap) -> Option<String> {
    crate::headers::cookie_values(headers, DEVICE_COOKIE).find(|v| SubjectKey::is_device_id(v))
}

fn header_is_one(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = BannerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, BannerError> {
        if !header_is_one(&parts.headers, BANNER_HEADER) {
            return Err(BannerError::NotFromBanner);
        }
        let device = state.device(device_cookie(&parts.headers).as_deref());
        let gpc =
            header_is_one(&parts.headers, SEC_GPC) || header_is_one(&parts.headers, SCRIPT_GPC);
        Ok(Self {
            device_id: device.id,
            subject: device.subject,
            issued: device.issued,
            gpc,
        })
    }
}

impl Visitor {
    /// The answer as JSON with `status`, or the problem; never cached, and setting the
    /// cookie if it was issued now, error or not: a GPC refusal may already be written.
    fn respond(&self, status: StatusCode, result: Result<impl Serialize, BannerError>) -> Response {
        let mut res = match result {
            Ok(body) => (status, Json(body)).into_response(),
            Err(e) => e.into_response(),
        };
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.issued {
            let cookie = format!(
                "{DEVICE_COOKIE}={}; Path=/; Max-Age={DEVICE_COOKIE_MAX_AGE}; HttpOnly; Secure; SameSite=Lax",
                self.device_id
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.insert(header::SET_COOKIE, v);
            }
        }
        res
    }
}

/// The visitor's language: `lang` (`nl-NL` counts as `nl`) if it is one of ours, else the
/// best of `Accept-Language`, else English.
fn language(lang: Option<&str>, headers: &HeaderMap) -> Locale {
    let primary = lang.map(|l| l.split(['-', '_']).next().unwrap_or(l));
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    crate::language::negotiate(primary, accept)
}

// --- Global Privacy Control --------------------------------------------------------------

/// With GPC on, the refusals the signal calls for ([`AppState::honour_gpc`]).
async fn honour_gpc(state: &AppState, visitor: &Visitor, locale: &Locale) -> Result<(), ApiError> {
    if visitor.gpc {
        state.honour_gpc(visitor.subject, locale).await?;
    }
    Ok(())
}

// --- what the banner shows ---------------------------------------------------------------

/// A Google Consent Mode v2 signal's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Granted,
    Denied,
}

/// Google Consent Mode v2, ready for `gtag('consent', 'update', …)`. A signal is granted
/// only while every purpose the catalog maps to it (`consent_mode` in the catalog) is
/// allowed; a signal no purpose maps to stays denied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentMode {
    pub ad_storage: Signal,
    pub ad_user_data: Signal,
    pub ad_personalization: Signal,
    pub analytics_storage: Signal,
    pub functionality_storage: Signal,
    pub personalization_storage: Signal,
    pub security_storage: Signal,
}

impl ConsentMode {
    fn from_decisions(catalog: &Catalog, decisions: &BTreeMap<String, bool>) -> Self {
        let signal = |name: &str| {
            let mut mapped = catalog
                .purposes
                .iter()
                .filter(|p| p.consent_mode.iter().any(|s| s == name))
                .peekable();
            let any = mapped.peek().is_some();
            if any && mapped.all(|p| decisions.get(p.id.as_str()) == Some(&true)) {
                Signal::Granted
            } else {
                Signal::Denied
            }
        };
        Self {
            ad_storage: signal("ad_storage"),
            ad_user_data: signal("ad_user_data"),
            ad_personalization: signal("ad_personalization"),
            analytics_storage: signal("analytics_storage"),
            functionality_storage: signal("functionality_storage"),
            personalization_storage: signal("personalization_storage"),
            security_storage: signal("security_storage"),
        }
    }
}

/// Whether each purpose of the current catalog is allowed for `subject` now.
fn decisions_of(state: &AppState, subject: &SubjectId) -> BTreeMap<String, bool> {
    state
        .decisions(subject)
        .into_iter()
        .map(|(p, allowed)| (p.to_string(), allowed))
        .collect()
}

/// A consent purpose the visitor can switch, for `keuze.open()`: changing one's mind later
/// takes as few clicks as the first answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct BannerPurpose {
    pub purpose: String,
    pub title: String,
    pub description: String,
    pub benefit: Option<String>,
    /// Whether the purpose is allowed now: the switch's position.
    pub allowed: bool,
}

/// The banner's texts, in the visitor's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct Texts {
    pub title: String,
    /// What is asked and that saying no costs nothing.
    pub intro: String,
    /// With GPC: which purposes the browser's signal refused, so they are not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpc: Option<String>,
    pub accept_all: String,
    pub reject_all: String,
    pub choose: String,
    /// Above the switches: everything is off until switched on.
    pub choose_intro: String,
    pub save: String,
    pub back: String,
    /// The label before a purpose's benefit.
    pub benefit: String,
    pub on: String,
    pub off: String,
    /// The link text to the transparency page.
    pub more: String,
    /// The transparency page, relative to Keuze.
    pub more_href: String,
}

impl Texts {
    fn new(org: &str, locale: &Locale, asked: &[String], reconsent: bool, gpc: &[String]) -> Self {
        let w = crate::language::words(locale);
        let reason = if reconsent { "again" } else { "first" };
        let intro = w.t_args(
            "banner-intro",
            &[
                ("org", org.into()),
                ("purposes", w.list(asked).into()),
                ("reason", reason.into()),
            ],
        );
        let gpc =
            (!gpc.is_empty()).then(|| w.t_args("banner-gpc", &[("purposes", w.list(gpc).into())]));
        Self {
            title: w.t("banner-title").into_owned(),
            intro,
            gpc,
            accept_all: w.t("banner-accept-all").into_owned(),
            reject_all: w.t("banner-reject-all").into_owned(),
            choose: w.t("banner-choose").into_owned(),
            choose_intro: w.t("banner-choose-intro").into_owned(),
            save: w.t("banner-save").into_owned(),
            back: w.t("banner-back").into_owned(),
            benefit: w.t("banner-benefit").into_owned(),
            on: w.t("banner-on").into_owned(),
            off: w.t("banner-off").into_owned(),
            more: w.t("page-privacy-link").into_owned(),
            more_href: format!("/privacy?lang={locale}"),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerPrompt {
    /// Send back as `catalog_version` with the answers.
    pub catalog_version: u32,
    pub locale: String,
    /// Whether the request carried Global Privacy Control.
    pub gpc: bool,
    /// The purposes to ask about now, in catalog order. Empty: show nothing.
    pub ask: Vec<Question>,
    /// Every consent purpose with its current position, for `keuze.open()`.
    pub purposes: Vec<BannerPurpose>,
    pub consent_mode: ConsentMode,
    /// Whether each purpose of the catalog is allowed now.
    pub decisions: BTreeMap<String, bool>,
    pub texts: Texts,
    /// The IAB CMP API's `TCData` for `__tcfapi`, when the server makes TC strings
    /// (a vendor list and a catalog with `[tcf]`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcf: Option<crate::cmp::TcData>,
}

fn prompt_of(state: &AppState, visitor: &Visitor, locale: &Locale) -> BannerPrompt {
    let history = state.catalog();
    let catalog = &history.current().catalog;
    let mut asked = notice::prompt_for(state, visitor.subject, locale);
    // GPC purposes are never asked while the browser sends the signal.
    asked
        .ask
        .retain(|q| !(visitor.gpc && catalog.purpose(&q.purpose).is_some_and(|p| p.gpc)));
    let decisions = decisions_of(state, &visitor.subject);
    let allowed = |id: &str| decisions.get(id) == Some(&true);
    let consent_purposes = catalog
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent);
    let purposes: Vec<BannerPurpose> = consent_purposes
        .clone()
        .map(|p| BannerPurpose {
            purpose: p.id.to_string(),
            title: p.title.get(locale).to_owned(),
            description: p.description.get(locale).to_owned(),
            benefit: p.benefit.as_ref().map(|b| b.get(locale).to_owned()),
            allowed: allowed(p.id.as_str()),
        })
        .collect();
    let gpc_refused: Vec<String> = if visitor.gpc {
        consent_purposes
            .filter(|p| p.gpc && !allowed(p.id.as_str()))
            .map(|p| p.title.get(locale).to_owned())
            .collect()
    } else {
        Vec::new()
    };
    let titles: Vec<String> = asked.ask.iter().map(|q| q.title.clone()).collect();
    let reconsent = asked
        .ask
        .iter()
        .any(|q| matches!(q.reason, Reason::ReconsentRequired | Reason::Expired));
    BannerPrompt {
        catalog_version: asked.catalog_version,
        locale: asked.locale,
        gpc: visitor.gpc,
        texts: Texts::new(
            &catalog.organisation.name,
            locale,
            &titles,
            reconsent,
            &gpc_refused,
        ),
        ask: asked.ask,
        purposes,
        consent_mode: ConsentMode::from_decisions(catalog, &decisions),
        decisions,
        tcf: crate::cmp::for_visitor(state, &visitor.subject, locale),
    }
}

// --- endpoints -------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BannerLang {
    /// The page's language (`<html lang>`); `en` or `nl`, `nl-NL` counts as `nl`. Else
    /// the best of `Accept-Language`, else English.
    pub lang: Option<String>,
}

/// What the banner should ask this visitor now, with Consent Mode signals and texts.
#[utoipa::path(
    get,
    path = "/v1/banner/prompt",
    tag = "banner",
    params(
        BannerLang,
        ("X-Keuze-Banner" = String, Header, description = "Must be `1`."),
        ("Sec-GPC" = Option<String>, Header, description = "`1`: Global Privacy Control; purposes flagged `gpc` are refused (once) and not asked."),
        ("X-Keuze-GPC" = Option<String>, Header, description = "`1`: the script saw `navigator.globalPrivacyControl`; same as `Sec-GPC`."),
    ),
    responses(
        (status = 200, body = BannerPrompt, description = "Sets the `keuze_device` cookie on a visitor's first request"),
        (status = 403, body = crate::problem::Problem, description = "No `X-Keuze-Banner: 1`"),
    )
)]
pub async fn banner_prompt(
    State(state): State<AppState>,
    visitor: Visitor,
    QueryParams(q): QueryParams<BannerLang>,
    headers: HeaderMap,
) -> Response {
    let locale = language(q.lang.as_deref(), &headers);
    let result = honour_gpc(&state, &visitor, &locale)
        .await
        .map(|()| prompt_of(&state, &visitor, &locale))
        .map_err(BannerError::from);
    visitor.respond(StatusCode::OK, result)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerChoices {
    /// `accept` or `reject` every purpose the visitor can switch. Give this or `choices`.
    /// With GPC on, "accept" leaves the purposes flagged `gpc` refused.
    #[serde(default)]
    pub all: Option<AllInput>,
    /// One choice per purpose (the switches of the second layer).
    #[serde(default)]
    pub choices: Option<Vec<ChoiceInput>>,
    /// The language the visitor read the banner in; default `en`.
    #[serde(default)]
    pub locale: Option<String>,
    /// The `catalog_version` of the prompt the visitor answered.
    #[serde(default)]
    pub catalog_version: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerOutcome {
    /// How many events were written, one per purpose.
    pub recorded: usize,
    pub consent_mode: ConsentMode,
    pub decisions: BTreeMap<String, bool>,
    /// The `TCData` after the answer, as in the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcf: Option<crate::cmp::TcData>,
}

/// Record the visitor's answer to the banner, with source `banner`, through the same path
/// and checks as `POST /v1/consents`.
#[utoipa::path(
    post,
    path = "/v1/banner/choices",
    tag = "banner",
    request_body = BannerChoices,
    params(
        ("X-Keuze-Banner" = String, Header, description = "Must be `1`; without it nothing is written."),
        ("Sec-GPC" = Option<String>, Header, description = "`1`: Global Privacy Control."),
        ("X-Keuze-GPC" = Option<String>, Header, description = "`1`: the script saw `navigator.globalPrivacyControl`."),
    ),
    responses(
        (status = 201, body = BannerOutcome, description = "Durably recorded"),
        (status = 403, body = crate::problem::Problem, description = "No `X-Keuze-Banner: 1`; nothing was written"),
        (status = 409, body = crate::problem::Problem, description = "The notice shown is no longer current; ask again"),
        (status = 422, body = crate::problem::Problem, description = "Invalid; nothing was written"),
    )
)]
pub async fn banner_choices(
    State(state): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<BannerChoices>,
) -> Response {
    let result = record_banner_answer(&state, &visitor, body).await;
    visitor.respond(StatusCode::CREATED, result)
}

async fn record_banner_answer(
    state: &AppState,
    visitor: &Visitor,
    body: BannerChoices,
) -> Result<BannerOutcome, BannerError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let locale = locale_of(body.locale.as_deref(), "/locale")
        .map_err(|e| errors.push(e))
        .ok();
    let answer = answer_of(body.choices.as_deref(), body.all)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(locale), Some(answer), true) = (locale, answer.clone(), errors.is_empty()) else {
        errors.extend(
            state
                .check_answer(answer.as_ref(), body.catalog_version)
                .iter()
                .map(crate::problem::field_error),
        );
        return Err(ApiError::Validation(errors).into());
    };
    let answered = state
        .answer_banner(BannerAnswer {
            device: visitor.subject,
            gpc: visitor.gpc,
            locale: locale.clone(),
            shown: body.catalog_version,
            answer,
        })
        .await
        .map_err(ApiError::from)?;
    let history = state.catalog();
    let decisions = decisions_of(state, &visitor.subject);
    Ok(BannerOutcome {
        recorded: answered.choices.len(),
        consent_mode: ConsentMode::from_decisions(&history.current().catalog, &decisions),
        decisions,
        tcf: crate::cmp::for_visitor(state, &visitor.subject, &locale),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurposeParam {
    /// The purpose id, e.g. `newsletter`.
    pub purpose: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannerDecision {
    pub purpose: String,
    pub allowed: bool,
    pub reason: Reason,
}

/// May this visitor's data be used for this purpose now?
#[utoipa::path(
    get,
    path = "/v1/banner/decide",
    tag = "banner",
    params(
        PurposeParam,
        ("X-Keuze-Banner" = String, Header, description = "Must be `1`."),
        ("Sec-GPC" = Option<String>, Header, description = "`1`: Global Privacy Control."),
    ),
    responses(
        (status = 200, body = BannerDecision),
        (status = 403, body = crate::problem::Problem, description = "No `X-Keuze-Banner: 1`"),
    )
)]
pub async fn banner_decide(
    State(state): State<AppState>,
    visitor: Visitor,
    QueryParams(q): QueryParams<PurposeParam>,
    headers: HeaderMap,
) -> Response {
    let result = honour_gpc(&state, &visitor, &language(None, &headers))
        .await
        .map(|()| {
            let history = state.catalog();
            let d = state
                .index()
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .decide(&history, &visitor.subject, &q.purpose, &[], state.now());
            BannerDecision {
                purpose: q.purpose,
                allowed: d.allowed,
                reason: d.reason,
            }
        })
        .map_err(BannerError::from);
    visitor.respond(StatusCode::OK, result)
}

/// An entity tag for the script, fixed for the life of the binary.
fn script_etag() -> &'static str {
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ETAG.get_or_init(|| {
        let digest = keuze_core::catalog::Digest256::of(BANNER_JS.as_bytes()).to_hex();
        format!("\"{}\"", digest.get(..16).unwrap_or(&digest))
    })
}

/// The banner script: plain JavaScript, no dependencies. Embed it on every page with
/// `<script src="/banner.js" defer></script>`.
#[utoipa::path(
    get,
    path = "/banner.js",
    tag = "banner",
    responses(
        (status = 200, content_type = "application/javascript", body = String),
        (status = 304, description = "Not modified (`If-None-Match`)"),
    )
)]
pub async fn script(headers: HeaderMap) -> Response {
    let etag = script_etag();
    let cache = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        ),
        // Pages pick up a new script within the hour; revalidation is cheap (304).
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ),
        (header::ETAG, HeaderValue::from_static(etag)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, BANNER_JS).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GpcSupport {
    /// Always `true`: Keuze honours Global Privacy Control.
    pub gpc: bool,
    /// When the current catalog, which says which purposes GPC refuses, was published.
    #[serde(rename = "lastUpdate")]
    pub last_update: String,
}

/// The site's Global Privacy Control support resource.
#[utoipa::path(
    get,
    path = "/.well-known/gpc.json",
    tag = "banner",
    responses((status = 200, body = GpcSupport))
)]
pub async fn gpc_json(State(state): State<AppState>) -> Response {
    let published = state.catalog().current().published_at.to_rfc3339();
    let body = GpcSupport {
        gpc: true,
        last_update: published.get(..10).unwrap_or(&published).to_owned(),
    };
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        )],
        Json(body),
    )
        .into_response()
}

// --- the demo page ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "banner_demo.html")]
struct DemoPage {
    lang: &'static str,
    /// The page's words: the template asks them for messages.
    w: keuze_words::Lang<'static>,
    title: String,
    org: String,
    nonce: String,
    purposes: Vec<(String, String)>,
}

/// A small shop page that embeds the banner: to try it, to show it to colleagues, and to
/// copy from. It runs under a strict Content-Security-Policy, as the banner does.
#[utoipa::path(
    get,
    path = "/banner/demo",
    tag = "banner",
    params(
        BannerLang,
        ("Accept-Language" = Option<String>, Header, description = "Used when `lang` is not given."),
    ),
    responses((status = 200, content_type = "text/html", body = String))
)]
pub async fn demo(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<BannerLang>,
    headers: HeaderMap,
) -> Response {
    let locale = language(q.lang.as_deref(), &headers);
    let w = crate::language::words(&locale);
    let history = state.catalog();
    let catalog = &history.current().catalog;
    let nonce = hex::encode(state.random_bytes::<16>());
    let org = &catalog.organisation.name;
    let page = DemoPage {
        lang: w.code(),
        w,
        title: w.t_args("demo-title", &[("org", org.as_str().into())]),
        org: org.clone(),
        nonce: nonce.clone(),
        purposes: catalog
            .purposes
            .iter()
            .map(|p| (p.id.to_string(), p.title.get(&locale).to_owned()))
            .collect(),
    };
    match page.render() {
        Ok(body) => {
            let csp = format!(
                "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
            );
            let mut res = (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&csp) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "the banner demo page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                w.t("page-not-rendered").into_owned(),
            )
                .into_response()
        }
    }
}

// --- linking ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The visitor's anonymous device id: the value of their `keuze_device` cookie, which
    /// your backend reads when they log in.
    pub device_id: String,
    /// The known customer, by `id` or `pseudonym`.
    pub subject: SubjectRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOutcome {
    /// The known subject's pseudonym.
    pub subject: String,
    /// The device subject's pseudonym.
    pub device_subject: String,
    /// The choices carried over, one event per purpose (source `system`). Empty when
    /// there was nothing to carry, e.g. on a repeated call.
    pub carried: Vec<EventView>,
}

/// Link an anonymous device subject to a known customer who just logged in: the device's
/// choices carry over for every purpose the customer has made no choice for yet. The
/// customer's own choices always win. Idempotent.
#[utoipa::path(
    post,
    path = "/v1/subjects/link",
    tag = "subjects",
    request_body = LinkRequest,
    responses(
        (status = 200, body = LinkOutcome),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 410, body = crate::problem::Problem, description = "The known subject was erased"),
        (status = 422, body = crate::problem::Problem, description = "Invalid; nothing was written"),
    ),
    security(("api_key" = ["record"]))
)]
pub async fn link(
    State(state): State<AppState>,
    _auth: Authorized<RecordScope>,
    JsonBody(req): JsonBody<LinkRequest>,
) -> Result<Json<LinkOutcome>, ApiError> {
    let mut errors = Vec::new();
    let device = if SubjectKey::is_device_id(&req.device_id) {
        Some(
            state
                .pseudonymizer()
                .pseudonym(&SubjectKey::Device(req.device_id.clone())),
        )
    } else {
        errors.push(FieldError {
            pointer: "/device_id".into(),
            detail: "not a device id issued by Keuze (`dev_` and 32 hex digits): send the value of the visitor's `keuze_device` cookie".into(),
        });
        None
    };
    if req.subject.device_id.is_some() {
        errors.push(FieldError {
            pointer: "/subject/device_id".into(),
            detail: "link a device to a known customer: name them by `id` or `pseudonym`".into(),
        });
    }
    let known = req
        .subject
        .resolve(&state, "/subject")
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(device), Some(known), true) = (device, known, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let carried = state
        .link_device(device, known)
        .await
        .map_err(|e| match e {
            LinkError::SameSubject => ApiError::field("/subject", e.to_string()),
            LinkError::Store(e) => ApiError::Store(e),
        })?;
    Ok(Json(LinkOutcome {
        subject: known.to_hex(),
        device_subject: device.to_hex(),
        carried: carried.iter().map(EventView::from).collect(),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn consent_mode_names_every_signal_the_catalog_may_map() {
        let (catalog, _) =
            keuze_core::catalog::parse_catalog("sample", keuze_core::catalog::SAMPLE_CATALOG)
                .unwrap();
        let mode = ConsentMode::from_decisions(&catalog, &BTreeMap::new());
        let json = serde_json::to_value(mode).unwrap();
        let mut names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut known = keuze_core::catalog::CONSENT_MODE_SIGNALS.to_vec();
        names.sort_unstable();
        known.sort_unstable();
        assert_eq!(names, known);
        assert!(json.as_object().unwrap().values().all(|v| v == "denied"));
    }

    #[test]
    fn the_device_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        let id = SubjectKey::new_device_id([7; 16]);
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {DEVICE_COOKIE}={id}; c=d")).unwrap(),
        );
        assert_eq!(device_cookie(&h), Some(id));
        let mut forged = HeaderMap::new();
        forged.insert(
            header::COOKIE,
            HeaderValue::from_static("keuze_device=dev_../../etc"),
        );
        assert_eq!(device_cookie(&forged), None);
    }
}
