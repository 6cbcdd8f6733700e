//! The preference center at `/me`: the customer's own view, reached with a link from
//! `POST /v1/sessions` and then a session cookie (see [`crate::session`]). One card per
//! purpose with a switch, presets, what changed since they agreed, their history with a
//! receipt per choice, an export of all their data and erasure. Server-rendered HTML that
//! needs no script, in English and Dutch. Every form carries the session's CSRF token;
//! no form names a subject: the session is the only way to say whose data it is.

use super::incidents::IncidentText;
use super::privacy::{purpose_view, OneLanguage, PurposeView};
use super::{html, Frame};
use crate::json::QueryParams;
use crate::language::{accept_language, negotiate, supported, words};
use crate::notice::{changes_for, prompt_for, ChangedPurpose};
use crate::problem::ApiError;
use crate::session::{open_link, CustomerSession, SessionCookie, SessionError};
use crate::wire::{state_of, ActionInput, EventView, SubjectState};
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use keuze_app::incidents::{self, IncidentError};
use keuze_app::record::{Answer, RecordChoices, RecordError};
use keuze_app::AppState;
use keuze_core::choice::RequestedChoice;
use keuze_core::{Action, ConsentEvent, LegalBasis, Locale, Reason, Source};
use keuze_store::StoreError;
use keuze_words::Lang;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The preference center's routes and the endpoint that mints links to it.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(crate::session::mint))
        .routes(routes!(page))
        .routes(routes!(switch))
        .routes(routes!(preset))
        .routes(routes!(erase))
        .routes(routes!(acknowledge))
        .routes(routes!(receipt))
        .routes(routes!(export))
}

/// The pages post forms to themselves and need nothing from anywhere else.
const ME_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn frame(state: &AppState, locale: &Locale, title: &str) -> Frame {
    let history = state.catalog();
    let org = &history.current().catalog.organisation.name;
    Frame::new(locale, "/me", title.to_owned(), org)
}

// --- responses -------------------------------------------------------------------------

/// A page of the preference center: personal, so never cached and never referred.
fn respond(template: &impl Template, w: Lang<'static>, status: StatusCode) -> Response {
    let mut res = html(template, w, ME_CSP);
    if res.status().is_success() {
        *res.status_mut() = status;
    }
    private(&mut res);
    res
}

fn private(res: &mut Response) {
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    private(&mut res);
    res
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// A short page that says one thing: why there is no session, that nothing was saved,
/// that the data is erased.
#[derive(Template)]
#[template(path = "me_message.html", whitespace = "minimize")]
struct MessagePage {
    frame: Frame,
    paragraphs: Vec<Cow<'static, str>>,
    link: Option<(String, Cow<'static, str>)>,
    /// Where to go on by itself (`<meta http-equiv="refresh">`).
    refresh: Option<String>,
}

fn message(
    state: &AppState,
    locale: &Locale,
    status: StatusCode,
    title: &str,
    paragraphs: Vec<Cow<'static, str>>,
    link: Option<(String, Cow<'static, str>)>,
) -> Response {
    let page = MessagePage {
        frame: frame(state, locale, title),
        paragraphs,
        link,
        refresh: None,
    };
    respond(&page, page.frame.w, status)
}

fn me_href(locale: &Locale) -> String {
    format!("/me?lang={locale}")
}

/// Why there is no session. `from_cookie`: the request's cookie was refused, so it is
/// cleared; a refused link sets nothing.
fn no_session(state: &AppState, locale: &Locale, why: SessionError, from_cookie: bool) -> Response {
    let l = words(locale);
    let first = match why {
        SessionError::Missing => l.t("me-no-session-missing"),
        SessionError::Expired => l.t("me-no-session-expired"),
        SessionError::Invalid => l.t("me-no-session-invalid"),
    };
    let privacy = format!("/privacy?lang={locale}");
    let res = message(
        state,
        locale,
        StatusCode::UNAUTHORIZED,
        &l.t("me-no-session-title"),
        vec![first, l.t("me-no-session-help")],
        Some((privacy, l.t("page-privacy-link"))),
    );
    // A forged or stale cookie is of no further use; drop it.
    if from_cookie && why != SessionError::Missing {
        with_cookie(res, &CustomerSession::clear_cookie())
    } else {
        res
    }
}

fn not_saved(
    state: &AppState,
    locale: &Locale,
    status: StatusCode,
    why: Cow<'static, str>,
) -> Response {
    let l = words(locale);
    message(
        state,
        locale,
        status,
        &l.t("me-not-saved-title"),
        vec![why],
        Some((me_href(locale), l.t("me-back"))),
    )
}

fn erased_page(
    state: &AppState,
    locale: &Locale,
    status: StatusCode,
    text: Cow<'static, str>,
) -> Response {
    let l = words(locale);
    let res = message(
        state,
        locale,
        status,
        &l.t("me-erased-title"),
        vec![text],
        Some((format!("/privacy?lang={locale}"), l.t("page-privacy-link"))),
    );
    with_cookie(res, &CustomerSession::clear_cookie())
}

fn is_erased(state: &AppState, session: &CustomerSession) -> bool {
    state
        .index()
        .read()
        .is_ok_and(|i| i.is_erased(&session.subject()))
}

/// Why a request is refused before anything is read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoSession(SessionError),
    Erased,
    IncompleteForm,
    /// No CSRF token, or not this session's.
    Forged,
}

fn refused(state: &AppState, locale: &Locale, refusal: Refusal) -> Response {
    let l = words(locale);
    match refusal {
        Refusal::NoSession(e) => no_session(state, locale, e, true),
        Refusal::Erased => erased_page(state, locale, StatusCode::GONE, l.t("me-erased-text")),
        Refusal::IncompleteForm => not_saved(
            state,
            locale,
            StatusCode::BAD_REQUEST,
            l.t("me-not-saved-form"),
        ),
        Refusal::Forged => not_saved(
            state,
            locale,
            StatusCode::FORBIDDEN,
            l.t("me-not-saved-csrf"),
        ),
    }
}

/// The session the request's cookie carries, for a subject that still exists.
fn customer(state: &AppState, headers: &HeaderMap) -> Result<CustomerSession, Refusal> {
    let session = CustomerSession::from_headers(state, headers).map_err(Refusal::NoSession)?;
    if is_erased(state, &session) {
        return Err(Refusal::Erased);
    }
    Ok(session)
}

// --- the page --------------------------------------------------------------------------

/// One purpose as the customer sees it.
struct Card {
    view: PurposeView<String>,
    basis: LegalBasis,
    /// For a purpose the customer can switch.
    switch: Option<Switch>,
    /// Why a consent purpose is off although the customer may have said yes.
    note: Option<Cow<'static, str>>,
    /// With `reconsent_required`: what changed since they said yes.
    changes: Vec<String>,
}

struct Switch {
    on: bool,
    /// What the button does: `grant`, `withdraw` or `object`.
    action: &'static str,
    /// "Newsletter: on — turn off"
    label: String,
}

struct PresetView {
    id: String,
    title: String,
    description: String,
    /// The switches are set as this preset would set them.
    current: bool,
}

struct HistoryLine {
    seq: u64,
    at: String,
    when: String,
    text: String,
}

#[derive(Template)]
#[template(path = "me.html", whitespace = "minimize")]
struct MePage {
    frame: Frame,
    csrf: String,
    version: u32,
    stale: bool,
    erase_unconfirmed: bool,
    any_sensitive: bool,
    changes: Vec<ChangedPurpose>,
    presets: Vec<PresetView>,
    cards: Vec<Card>,
    history: Vec<HistoryLine>,
    session_ends: String,
    /// Incidents the customer was told of and has not acknowledged: first on the page.
    notices: Vec<IncidentText>,
    /// Incidents they acknowledged, further down.
    read_notices: Vec<IncidentText>,
}

fn history_line(
    event: &ConsentEvent,
    state: &AppState,
    titles: &HashMap<String, String>,
    locale: &Locale,
) -> HistoryLine {
    let e = &event.event;
    let history = state.catalog();
    let purpose = history
        .version(e.catalog_version)
        .and_then(|v| v.catalog.purpose(e.purpose.as_str()).cloned());
    let title = purpose.as_ref().map_or_else(
        || {
            titles
                .get(e.purpose.as_str())
                .cloned()
                .unwrap_or_else(|| e.purpose.to_string())
        },
        |p| p.title.get(locale).to_owned(),
    );
    // A grant of a legitimate interest is an allowance: nothing was asked.
    let action = match (e.action, purpose.map(|p| p.legal_basis)) {
        (Action::Grant, Some(LegalBasis::LegitimateInterest)) => "allow",
        (action, _) => action.as_str(),
    };
    let l = words(locale);
    HistoryLine {
        seq: event.seq,
        at: e.recorded_at.to_rfc3339(),
        when: l.moment(e.recorded_at),
        text: l.t_args(
            "me-history-line",
            &[
                ("purpose", title.into()),
                ("action", action.into()),
                ("source", e.source.as_str().into()),
            ],
        ),
    }
}

impl MePage {
    async fn new(
        state: &AppState,
        session: &CustomerSession,
        locale: &Locale,
        notice: Option<&str>,
    ) -> Result<Self, ApiError> {
        let subject = session.subject();
        let events = state.store().history(&subject).await?;
        let (notices, read_notices) = incident_notices(state, subject, locale).await?;
        let history = state.catalog();
        let current = history.current();
        let catalog = &current.catalog;
        let l = words(locale);
        let now_state: SubjectState = state_of(state, subject);
        let allowed: HashMap<&str, bool> = now_state
            .purposes
            .iter()
            .map(|p| (p.purpose.as_str(), p.allowed))
            .collect();
        let asked: HashMap<String, (Reason, Vec<String>)> = prompt_for(state, subject, locale)
            .ask
            .into_iter()
            .map(|q| (q.purpose, (q.reason, q.changes)))
            .collect();
        let texts = OneLanguage(locale.clone());
        let cards: Vec<Card> = catalog
            .purposes
            .iter()
            .map(|p| {
                let view = purpose_view(p, catalog, &texts);
                let on = allowed.get(p.id.as_str()).copied().unwrap_or(false);
                // A switch turns the purpose to the other position: the answer that says so.
                let switch = p.legal_basis.answer(!on).map(|action| {
                    let action = action.as_str();
                    let position = if on { "on" } else { "off" };
                    Switch {
                        on,
                        action,
                        label: l.t_args(
                            "me-switch",
                            &[
                                ("purpose", view.title.as_str().into()),
                                ("state", position.into()),
                            ],
                        ),
                    }
                });
                let (note, changes) = match asked.get(p.id.as_str()) {
                    Some((Reason::NotAsked, _)) => (Some(l.t("me-not-asked")), Vec::new()),
                    Some((Reason::Expired, _)) => (Some(l.t("me-expired")), Vec::new()),
                    Some((Reason::ReconsentRequired, changes)) => {
                        (Some(l.t("me-reconsent")), changes.clone())
                    }
                    _ => (None, Vec::new()),
                };
                Card {
                    view,
                    basis: p.legal_basis,
                    switch,
                    note,
                    changes,
                }
            })
            .collect();
        let presets = catalog
            .presets
            .iter()
            .map(|preset| PresetView {
                id: preset.id.to_string(),
                title: preset.title.get(locale).to_owned(),
                description: preset.description.get(locale).to_owned(),
                current: catalog
                    .purposes
                    .iter()
                    .filter(|p| p.legal_basis.is_switchable())
                    .all(|p| {
                        allowed.get(p.id.as_str()).copied().unwrap_or(false)
                            == preset.grants.contains(&p.id)
                    }),
            })
            .collect();
        let titles: HashMap<String, String> = catalog
            .purposes
            .iter()
            .map(|p| (p.id.to_string(), p.title.get(locale).to_owned()))
            .collect();
        let history_lines = events
            .iter()
            .rev()
            .map(|e| history_line(e, state, &titles, locale))
            .collect();
        Ok(Self {
            frame: frame(state, locale, &l.t("me-title")),
            csrf: session.csrf_token(state),
            version: current.number,
            stale: notice == Some("changed"),
            erase_unconfirmed: notice == Some("confirm"),
            any_sensitive: cards.iter().flat_map(|c| &c.view.data).any(|d| d.sensitive),
            changes: changes_for(state, subject, locale).purposes,
            presets,
            cards,
            history: history_lines,
            session_ends: l.moment(session.expires()),
            notices,
            read_notices,
        })
    }
}

/// The incidents the customer was told of: those not yet acknowledged (oldest first),
/// and those acknowledged (newest first).
async fn incident_notices(
    state: &AppState,
    subject: keuze_core::SubjectId,
    locale: &Locale,
) -> Result<(Vec<IncidentText>, Vec<IncidentText>), ApiError> {
    let mut open = Vec::new();
    let mut read = Vec::new();
    for told in incidents::told(&**state.store(), &subject).await? {
        let mut text = IncidentText::new(state, &told.stored, &told.incident, locale);
        text.told = told
            .notified
            .map(|t| words(locale).date(t))
            .unwrap_or_default();
        match told.acknowledged {
            None => open.push(text),
            Some(at) => {
                text.read = words(locale).date(at);
                read.push(text);
            }
        }
    }
    read.reverse();
    Ok((open, read))
}

/// `/me`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeQuery {
    /// A link token from `POST /v1/sessions`: exchanged for a session cookie, then the
    /// browser is sent on to `/me` without it.
    pub token: Option<String>,
    /// `en` or `nl`; wins over `Accept-Language`.
    pub lang: Option<String>,
    /// Set by the forms' answers: `changed` (the catalog changed while the page was
    /// open) or `confirm` (erasure was not confirmed).
    pub notice: Option<String>,
}

/// The preference center. With `?token=`: trades the link for a session cookie
/// (`HttpOnly; Secure; SameSite=Strict; Path=/me`) and redirects so the token leaves the
/// address bar.
#[utoipa::path(
    get,
    path = "/me",
    tag = "preference center",
    params(
        MeQuery,
        ("Accept-Language" = Option<String>, Header, description = "Used when `lang` is not given."),
    ),
    responses(
        (status = 200, content_type = "text/html", body = String, description = "The customer's choices"),
        (status = 303, description = "The link was valid: a session cookie is set, go on to `/me`"),
        (status = 401, content_type = "text/html", body = String, description = "No valid link or session"),
        (status = 410, content_type = "text/html", body = String, description = "The customer's data was erased"),
    )
)]
pub async fn page(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<MeQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = negotiate(q.lang.as_deref(), accept_language(&headers));
    if let Some(token) = q.token.as_deref() {
        return match open_link(&state, token) {
            Ok(subject) => {
                let session = CustomerSession::start(&state, subject);
                let next = match q.lang.as_deref().and_then(supported) {
                    Some(l) => me_href(&l),
                    None => "/me".to_owned(),
                };
                see_other(&next, Some(session.cookie(&state)))
            }
            Err(e) => no_session(&state, &locale, e, false),
        };
    }
    let session = match CustomerSession::from_headers(&state, &headers) {
        Ok(s) => s,
        // A link opened from another site (an e-mail) is redirected here without the
        // SameSite=Strict cookie it just got; a navigation from our own page carries it.
        Err(SessionError::Missing) if cross_site(&headers) => {
            let l = words(&locale);
            let href = me_href(&locale);
            let page = MessagePage {
                frame: frame(&state, &locale, &l.t("me-continue-title")),
                paragraphs: vec![l.t("me-continue-text")],
                link: Some((href.clone(), l.t("me-continue-link"))),
                refresh: Some(href),
            };
            return respond(&page, page.frame.w, StatusCode::OK);
        }
        Err(e) => return no_session(&state, &locale, e, true),
    };
    if is_erased(&state, &session) {
        return refused(&state, &locale, Refusal::Erased);
    }
    match MePage::new(&state, &session, &locale, q.notice.as_deref()).await {
        Ok(page) => respond(&page, page.frame.w, StatusCode::OK),
        Err(e) => e.into_response(),
    }
}

fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
}

// --- the forms -------------------------------------------------------------------------

/// One switch: the opposite of the purpose's current state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchForm {
    /// The session's CSRF token, from the page.
    pub csrf: Option<String>,
    pub purpose: Option<String>,
    pub action: Option<ActionInput>,
    /// The catalog version the page showed.
    pub version: Option<u32>,
    /// The page's language; the choice is recorded in it.
    pub lang: Option<String>,
}

/// A preset from the catalog.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetForm {
    pub csrf: Option<String>,
    pub preset: Option<String>,
    pub version: Option<u32>,
    pub lang: Option<String>,
}

/// A request for erasure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseForm {
    pub csrf: Option<String>,
    /// `yes` when the customer ticked the confirmation box.
    pub confirm: Option<String>,
    pub lang: Option<String>,
}

/// The language a form was filled in, else the request's.
fn form_locale(lang: Option<&str>, headers: &HeaderMap) -> Locale {
    negotiate(lang, accept_language(headers))
}

/// A form of the preference center: every one carries the session's CSRF token and the
/// language it was filled in.
trait CustomerForm {
    fn csrf(&self) -> Option<&str>;
    fn lang(&self) -> Option<&str>;
}

macro_rules! customer_form {
    ($($form:ty),+) => {$(
        impl CustomerForm for $form {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
            fn lang(&self) -> Option<&str> {
                self.lang.as_deref()
            }
        }
    )+};
}

customer_form!(SwitchForm, PresetForm, EraseForm, AcknowledgeForm);

/// The checks every form goes through, in order: a session (401), a well-formed form
/// (400), the session's CSRF token (403). Nothing is written unless all pass; a refusal
/// is the page that says why. The locale is the form's, else the request's.
fn checked<T: CustomerForm>(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<T>, FormRejection>,
) -> Result<(CustomerSession, T, Locale), Box<Response>> {
    let fallback = negotiate(None, accept_language(headers));
    let session = customer(state, headers).map_err(|r| Box::new(refused(state, &fallback, r)))?;
    let Ok(Form(form)) = form else {
        return Err(Box::new(refused(state, &fallback, Refusal::IncompleteForm)));
    };
    let locale = form_locale(form.lang(), headers);
    if !session.csrf_ok(state, form.csrf()) {
        return Err(Box::new(refused(state, &locale, Refusal::Forged)));
    }
    Ok((session, form, locale))
}

/// Records the customer's answer through the same path as `POST /v1/consents`, as made
/// in the preference center.
async fn record(
    state: &AppState,
    session: &CustomerSession,
    locale: &Locale,
    version: Option<u32>,
    answer: Answer,
    anchor: &str,
) -> Response {
    let cmd = RecordChoices {
        subject: session.subject(),
        locale: locale.clone(),
        source: Source::PreferenceCenter,
        shown: version,
        answer,
    };
    match state.record(cmd).await {
        Ok(_) => see_other(&format!("{}#{anchor}", me_href(locale)), None),
        Err(RecordError::StaleNotice { .. }) => {
            see_other(&format!("{}&notice=changed#kz-main", me_href(locale)), None)
        }
        Err(RecordError::Store(StoreError::Erased)) => refused(state, locale, Refusal::Erased),
        Err(RecordError::Invalid(_)) => refused(state, locale, Refusal::IncompleteForm),
        Err(RecordError::Store(e)) => ApiError::Store(e).into_response(),
    }
}

/// Switch one purpose on or off: one event, with source `preference_center`.
#[utoipa::path(
    post,
    path = "/me/choices",
    tag = "preference center",
    request_body(content = SwitchForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded; back to `/me`"),
        (status = 400, content_type = "text/html", body = String, description = "Incomplete form; nothing written"),
        (status = 401, content_type = "text/html", body = String, description = "No session; nothing written"),
        (status = 403, content_type = "text/html", body = String, description = "Missing or wrong CSRF token; nothing written"),
    )
)]
pub async fn switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<SwitchForm>, FormRejection>,
) -> Response {
    let (session, form, locale) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(refusal) => return *refusal,
    };
    let (Some(purpose), Some(action)) = (form.purpose, form.action) else {
        return refused(&state, &locale, Refusal::IncompleteForm);
    };
    let anchor = format!("kz-title-{purpose}");
    let choice = RequestedChoice {
        purpose,
        action: action.into(),
    };
    record(
        &state,
        &session,
        &locale,
        form.version,
        Answer::Each(vec![choice]),
        &anchor,
    )
    .await
}

/// Apply a preset from the catalog: one event per purpose the customer can switch.
#[utoipa::path(
    post,
    path = "/me/presets",
    tag = "preference center",
    request_body(content = PresetForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded; back to `/me`"),
        (status = 400, content_type = "text/html", body = String, description = "Unknown preset or incomplete form; nothing written"),
        (status = 401, content_type = "text/html", body = String, description = "No session; nothing written"),
        (status = 403, content_type = "text/html", body = String, description = "Missing or wrong CSRF token; nothing written"),
    )
)]
pub async fn preset(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<PresetForm>, FormRejection>,
) -> Response {
    let (session, form, locale) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(refusal) => return *refusal,
    };
    let Some(preset) = form.preset else {
        return refused(&state, &locale, Refusal::IncompleteForm);
    };
    record(
        &state,
        &session,
        &locale,
        form.version,
        Answer::Preset(preset),
        "kz-purposes",
    )
    .await
}

/// Erase the customer's data: needs the confirmation box ticked. Ends the session.
#[utoipa::path(
    post,
    path = "/me/erase",
    tag = "preference center",
    request_body(content = EraseForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, content_type = "text/html", body = String, description = "Erased; the session cookie is cleared"),
        (status = 303, description = "Not confirmed; back to `/me`, nothing erased"),
        (status = 401, content_type = "text/html", body = String, description = "No session; nothing erased"),
        (status = 403, content_type = "text/html", body = String, description = "Missing or wrong CSRF token; nothing erased"),
    )
)]
pub async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<EraseForm>, FormRejection>,
) -> Response {
    let (session, form, locale) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(refusal) => return *refusal,
    };
    if form.confirm.as_deref() != Some("yes") {
        return see_other(
            &format!("{}&notice=confirm#kz-erase", me_href(&locale)),
            None,
        );
    }
    let done = words(&locale).t("me-erased-done");
    // The customer, and nothing that names them: the erasure must stay crypto-shredded.
    let by = keuze_core::admin::Attribution::new(keuze_core::admin::Actor::Customer, state.now());
    match state
        .erase_subject(session.subject(), Source::PreferenceCenter, &locale, &by)
        .await
    {
        Ok(_) | Err(StoreError::Erased) => erased_page(&state, &locale, StatusCode::OK, done),
        Err(e) => ApiError::Store(e).into_response(),
    }
}

/// "I have read this" under an incident notice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeForm {
    pub csrf: Option<String>,
    /// The incident's number.
    pub incident: Option<u32>,
    pub lang: Option<String>,
}

/// The customer has read an incident notice: an `acknowledged` ledger entry, committing to
/// the incident's digest, and the notice no longer leads the page. Acknowledging what the
/// customer was not told of, or again, writes nothing.
#[utoipa::path(
    post,
    path = "/me/incidents",
    tag = "preference center",
    request_body(content = AcknowledgeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or nothing to record); back to `/me`"),
        (status = 400, content_type = "text/html", body = String, description = "Incomplete form; nothing written"),
        (status = 401, content_type = "text/html", body = String, description = "No session; nothing written"),
        (status = 403, content_type = "text/html", body = String, description = "Missing or wrong CSRF token; nothing written"),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<AcknowledgeForm>, FormRejection>,
) -> Response {
    let (session, form, locale) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(refusal) => return *refusal,
    };
    let Some(number) = form.incident else {
        return refused(&state, &locale, Refusal::IncompleteForm);
    };
    match state
        .acknowledge_incident(session.subject(), number, &locale)
        .await
    {
        Ok(_) => see_other(&format!("{}#kz-main", me_href(&locale)), None),
        Err(IncidentError::Store(StoreError::Erased)) => refused(&state, &locale, Refusal::Erased),
        Err(e) => ApiError::from(e).into_response(),
    }
}

// --- downloads -------------------------------------------------------------------------

fn attachment(body: &impl Serialize, filename: &str) -> Response {
    let json = serde_json::to_vec_pretty(body).unwrap_or_default();
    let mut res = ([(header::CONTENT_TYPE, "application/json")], json).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    private(&mut res);
    res
}

/// `?lang=` on the downloads, for their error pages.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// A receipt for one of the customer's own choices, as `POST /v1/receipts` gives it:
/// verifiable offline with the log's keys.
#[utoipa::path(
    get,
    path = "/me/receipts/{seq}",
    tag = "preference center",
    params(("seq" = u64, Path, description = "The event's sequence number"), LangQuery),
    responses(
        (status = 200, description = "The receipt, as a download (see docs/receipts.md)", body = Object),
        (status = 401, content_type = "text/html", body = String, description = "No session"),
        (status = 404, body = crate::problem::Problem, description = "Not one of this customer's events"),
    )
)]
pub async fn receipt(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    QueryParams(q): QueryParams<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = negotiate(q.lang.as_deref(), accept_language(&headers));
    let session = match customer(&state, &headers) {
        Ok(s) => s,
        Err(r) => return refused(&state, &locale, r),
    };
    // Not a number: no event of the customer's, said as a problem like any other miss.
    let Ok(seq) = seq.parse::<u64>() else {
        return ApiError::NotFound(format!(
            "`{seq}` is not the number of one of your choices; /me/export lists them"
        ))
        .into_response();
    };
    match state.receipt(&session.subject(), seq).await {
        Ok(r) => attachment(&r, &format!("receipt-{seq}.json")),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Everything Keuze keeps about the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Export {
    /// The customer's pseudonym: Keuze never stores the organisation's identifier.
    pub subject: String,
    pub organisation: String,
    /// RFC 3339.
    pub exported_at: String,
    /// Their current status for every purpose of the catalog in force.
    pub state: SubjectState,
    /// Every choice, oldest first.
    pub history: Vec<EventView>,
    /// Where to download a receipt for each choice.
    pub receipts: Vec<ReceiptLink>,
    /// Privacy incidents they were told of, and their acknowledgements, oldest first.
    pub incident_notices: Vec<NoticeView>,
}

/// A ledger entry saying the customer was told of an incident, or acknowledged it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub seq: u64,
    /// The incident's number.
    pub incident: u32,
    /// `notified` or `acknowledged`.
    pub kind: String,
    /// `sha256:` and the hex digest of the incident as recorded.
    pub notice_digest: String,
    pub locale: String,
    /// RFC 3339.
    pub recorded_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptLink {
    pub seq: u64,
    pub purpose: String,
    pub action: String,
    /// Relative to Keuze's base URL, e.g. `/me/receipts/7`.
    pub download: String,
}

/// All the customer's data as JSON: their state, their history and their receipts.
#[utoipa::path(
    get,
    path = "/me/export",
    tag = "preference center",
    params(LangQuery),
    responses(
        (status = 200, description = "A download", body = Export),
        (status = 401, content_type = "text/html", body = String, description = "No session"),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = negotiate(q.lang.as_deref(), accept_language(&headers));
    let session = match customer(&state, &headers) {
        Ok(s) => s,
        Err(r) => return refused(&state, &locale, r),
    };
    let subject = session.subject();
    let events = match state.store().history(&subject).await {
        Ok(events) => events,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let notices = match state.store().notices(&subject).await {
        Ok(notices) => notices,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let history = state.catalog();
    let export = Export {
        subject: subject.to_hex(),
        organisation: history.current().catalog.organisation.name.clone(),
        exported_at: state.now().to_rfc3339(),
        state: state_of(&state, subject),
        receipts: events
            .iter()
            .map(|e| ReceiptLink {
                seq: e.seq,
                purpose: e.event.purpose.to_string(),
                action: e.event.action.to_string(),
                download: format!("/me/receipts/{}", e.seq),
            })
            .collect(),
        history: events.iter().map(EventView::from).collect(),
        incident_notices: notices
            .iter()
            .map(|n| NoticeView {
                seq: n.seq,
                incident: n.notice.incident,
                kind: n.notice.kind.to_string(),
                notice_digest: n.notice.notice_digest.to_string(),
                locale: n.notice.locale.to_string(),
                recorded_at: n.notice.recorded_at.to_rfc3339(),
            })
            .collect(),
    };
    attachment(&export, "my-data.json")
}
