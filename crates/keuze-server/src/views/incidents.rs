//! Incidents as customers read them: the notice at the top of `/me` and the public
//! register at `/privacy/incidents`. Both show the incident in the same words, from the
//! same template (`incident_body.html`).

use super::{html, Frame, PageQuery};
use crate::json::QueryParams;
use crate::language::{accept_language, negotiate, words};
use crate::problem::ApiError;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use keuze_app::incidents;
use keuze_app::AppState;
use keuze_core::incident::Incident;
use keuze_core::Locale;
use keuze_store::StoredIncident;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register))
}

/// The register reads nothing from anywhere else, and posts nothing.
const REGISTER_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// An incident in one language, ready for `incident_body.html`.
pub(crate) struct IncidentText {
    pub(crate) number: u32,
    pub(crate) title: String,
    pub(crate) high_risk: bool,
    pub(crate) what_happened: String,
    pub(crate) window: String,
    pub(crate) data: String,
    pub(crate) purposes: String,
    pub(crate) recipients: String,
    pub(crate) consequences: String,
    pub(crate) measures: String,
    pub(crate) advice: String,
    pub(crate) contact: String,
    pub(crate) recorded: String,
    pub(crate) digest: String,
    /// On `/me`: when the customer was told, and when they said they had read it.
    pub(crate) told: String,
    pub(crate) read: String,
}

impl IncidentText {
    pub(crate) fn new(
        state: &AppState,
        stored: &StoredIncident,
        incident: &Incident,
        locale: &Locale,
    ) -> Self {
        let history = state.catalog();
        let w = words(locale);
        let data = incident
            .categories
            .iter()
            .map(|c| {
                history
                    .versions()
                    .rev()
                    .find_map(|v| v.catalog.taxonomy.name(c, locale))
                    .map_or_else(|| c.to_string(), str::to_owned)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let purposes = incident
            .purposes
            .iter()
            .map(|p| {
                // The title the purpose had last, in force or since dropped.
                history
                    .versions()
                    .rev()
                    .find_map(|v| v.catalog.purpose(p.as_str()))
                    .map_or_else(
                        || p.to_string(),
                        |purpose| purpose.title.get(locale).to_owned(),
                    )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let from = w.date(incident.window.from);
        let to = w.date(incident.window.to);
        let window = if from == to {
            from
        } else {
            w.t_args(
                "incident-window",
                &[("from", from.into()), ("to", to.into())],
            )
        };
        Self {
            number: stored.number,
            title: incident.title.get(locale).to_owned(),
            high_risk: incident.high_risk,
            what_happened: incident.what_happened.get(locale).to_owned(),
            window,
            data,
            purposes,
            recipients: incident.recipients.join(", "),
            consequences: incident.consequences.get(locale).to_owned(),
            measures: incident.measures.get(locale).to_owned(),
            advice: incident.advice.get(locale).to_owned(),
            contact: incident.contact.clone(),
            recorded: w.date(stored.recorded_at),
            digest: stored.digest.to_string(),
            told: String::new(),
            read: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "incidents.html", whitespace = "minimize")]
struct RegisterPage {
    frame: Frame,
    incidents: Vec<IncidentText>,
}

async fn published(state: &AppState, locale: &Locale) -> Result<Vec<IncidentText>, ApiError> {
    let mut out = Vec::new();
    for stored in state.store().incidents().await?.into_iter().rev() {
        if stored.published_at.is_none() {
            continue;
        }
        let incident = incidents::parse(&stored)?;
        out.push(IncidentText::new(state, &stored, &incident, locale));
    }
    Ok(out)
}

/// The public register: every incident the organisation chose to publish, newest first,
/// in plain language.
#[utoipa::path(
    get,
    path = "/privacy/incidents",
    tag = "transparency",
    params(
        PageQuery,
        ("Accept-Language" = Option<String>, Header, description = "Used when `lang` is not given: the best of `en` and `nl`, else `en`."),
    ),
    responses((status = 200, content_type = "text/html", body = String, description = "The register, in English or Dutch (see `Content-Language`)"))
)]
pub async fn register(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = negotiate(query.lang.as_deref(), accept_language(&headers));
    let incidents = match published(&state, &locale).await {
        Ok(list) => list,
        Err(e) => return e.into_response(),
    };
    let history = state.catalog();
    let org = &history.current().catalog.organisation.name;
    let title = words(&locale).t("incident-register-title").into_owned();
    let page = RegisterPage {
        frame: Frame::new(&locale, "/privacy/incidents", title, org),
        incidents,
    };
    html(&page, page.frame.w, REGISTER_CSP)
}
