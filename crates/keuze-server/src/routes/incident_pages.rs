//! Incidents as customers read them: the notice at the top of `/me` and the public
//! register at `/privacy/incidents`. Both show the incident in the same words, from the
//! same template (`incident_body.html`).

use crate::json::QueryParams;
use crate::problem::ApiError;
use crate::routes::plain::{accept_language, date_in_words, html, negotiate, Frame};
use crate::routes::privacy::PageQuery;
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

/// The words around an incident, in one language.
pub(crate) struct IncidentLabels {
    pub(crate) skip: &'static str,
    pub(crate) language: &'static str,
    /// Above the notices at the top of `/me`.
    pub(crate) notice_heading: &'static str,
    pub(crate) notice_intro: &'static str,
    pub(crate) high_risk: &'static str,
    pub(crate) what_happened: &'static str,
    pub(crate) when: &'static str,
    pub(crate) data: &'static str,
    pub(crate) purposes: &'static str,
    pub(crate) recipients: &'static str,
    pub(crate) consequences: &'static str,
    pub(crate) measures: &'static str,
    pub(crate) advice: &'static str,
    pub(crate) contact: &'static str,
    pub(crate) acknowledge: &'static str,
    pub(crate) acknowledged_heading: &'static str,
    pub(crate) told_on: &'static str,
    pub(crate) read_on: &'static str,
    pub(crate) register_title: &'static str,
    pub(crate) register_intro: &'static str,
    pub(crate) register_empty: &'static str,
    pub(crate) recorded_on: &'static str,
    pub(crate) digest: &'static str,
}

static EN: IncidentLabels = IncidentLabels {
    skip: "Skip to content",
    language: "Language",
    notice_heading: "Something went wrong with your data",
    notice_intro: "We must tell you about this. Please read it. It does not change your choices.",
    high_risk: "This may affect you seriously. Please read what you can do.",
    what_happened: "What happened",
    when: "When",
    data: "Which of your data",
    purposes: "What we used the data for",
    recipients: "Who had the data",
    consequences: "What this may mean for you",
    measures: "What we did",
    advice: "What you can do",
    contact: "Questions",
    acknowledge: "I have read this",
    acknowledged_heading: "Incidents we told you about",
    told_on: "We told you on",
    read_on: "You read this on",
    register_title: "Privacy incidents",
    register_intro: "Here we list the incidents in which our customers' data was exposed, what we did about them, and what you can do.",
    register_empty: "There are no incidents on this list.",
    recorded_on: "Recorded on",
    digest: "Fingerprint of this text",
};

static NL: IncidentLabels = IncidentLabels {
    skip: "Naar de inhoud",
    language: "Taal",
    notice_heading: "Er ging iets mis met je gegevens",
    notice_intro: "We moeten je hierover vertellen. Lees het alsjeblieft. Je keuzes blijven zoals ze zijn.",
    high_risk: "Dit kan ernstige gevolgen voor je hebben. Lees wat je kunt doen.",
    what_happened: "Wat er gebeurde",
    when: "Wanneer",
    data: "Welke gegevens van jou",
    purposes: "Waarvoor we de gegevens gebruikten",
    recipients: "Wie de gegevens had",
    consequences: "Wat dit voor jou kan betekenen",
    measures: "Wat wij deden",
    advice: "Wat jij kunt doen",
    contact: "Vragen",
    acknowledge: "Ik heb dit gelezen",
    acknowledged_heading: "Incidenten waarover we je vertelden",
    told_on: "We vertelden het je op",
    read_on: "Je las dit op",
    register_title: "Privacy-incidenten",
    register_intro: "Hier staan de incidenten waarbij gegevens van onze klanten in verkeerde handen kwamen, wat we eraan deden en wat jij kunt doen.",
    register_empty: "Er staan geen incidenten op deze lijst.",
    recorded_on: "Vastgelegd op",
    digest: "Vingerafdruk van deze tekst",
};

pub(crate) fn incident_labels(locale: &Locale) -> &'static IncidentLabels {
    if crate::routes::plain::is_dutch(locale) {
        &NL
    } else {
        &EN
    }
}

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
        let from = date_in_words(incident.window.from, locale);
        let to = date_in_words(incident.window.to, locale);
        let window = if from == to {
            from
        } else {
            let (a, b) = if crate::routes::plain::is_dutch(locale) {
                ("van", "tot en met")
            } else {
                ("from", "to")
            };
            format!("{a} {from} {b} {to}")
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
            recorded: date_in_words(stored.recorded_at, locale),
            digest: stored.digest.to_string(),
            told: String::new(),
            read: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "incidents.html", whitespace = "minimize")]
struct RegisterPage {
    frame: Frame<IncidentLabels>,
    il: &'static IncidentLabels,
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
    let il = incident_labels(&locale);
    let history = state.catalog();
    let org = &history.current().catalog.organisation.name;
    let page = RegisterPage {
        frame: Frame::new(
            &locale,
            "/privacy/incidents",
            il.register_title.to_owned(),
            org,
            il,
        ),
        il,
        incidents,
    };
    html(&page, page.frame.lang, REGISTER_CSP)
}
