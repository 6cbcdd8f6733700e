//! Privacy incidents (scope `admin`): record one, see how many customers a rule selects,
//! tell the affected customers, put it on the public register. The work is
//! [`keuze_app::incidents`]'s, shared with `keuze incident`.

use crate::auth::{AdminScope, Authorized, IncidentReadScope};
use crate::json::JsonBody;
use crate::problem::{ApiError, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use keuze_app::incidents::{self, IncidentError, Notified};
use keuze_app::AppState;
use keuze_core::incident::{parse_time, DraftProblem, Incident, IncidentDraft, Rule, Window};
use keuze_core::PurposeId;
use keuze_store::StoredIncident;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// At most this many identifiers per request (a bigger list goes in several requests, or
/// through `keuze incident notify --identifiers FILE`).
const MAX_IDENTIFIERS: usize = 100_000;

/// An incident as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentView {
    pub number: u32,
    /// `sha256:` and the hex digest of the incident as recorded: what every notice entry
    /// in the ledger commits to.
    pub digest: String,
    pub recorded_at: String,
    /// When it was put on the public register at `/privacy/incidents`; absent while not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// The incident as recorded (the texts in every language, the window, the data
    /// categories, purposes and recipients, whether it is high-risk).
    #[schema(value_type = Object)]
    pub incident: serde_json::Value,
    /// Customers told so far (`notified` ledger entries).
    pub notified: u64,
    /// Customers who said they had read it.
    pub acknowledged: u64,
    /// The reading ease of each text (in the answer to recording it): the catalog's check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub readability: Vec<serde_json::Value>,
    /// The texts that are hard to read, with what to do about it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentView>,
}

/// Who is affected, as a question to the ledger. Absent fields take the incident's own:
/// its purposes and its window.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// Customers who had granted any of these purposes at some moment in the window.
    pub granted_any_of: Option<Vec<String>>,
    /// RFC 3339.
    pub from: Option<String>,
    /// RFC 3339.
    pub to: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceRequest {
    #[serde(default)]
    pub rule: Option<RuleBody>,
}

/// How many customers a rule selects, before anyone is told.
#[derive(Debug, Serialize, ToSchema)]
pub struct AudiencePreview {
    pub granted_any_of: Vec<String>,
    pub from: String,
    pub to: String,
    /// Customers the rule selects.
    pub selected: u64,
    /// Of those, told before.
    pub already_notified: u64,
    /// Of those, to be told by `notify` with the same rule.
    pub to_notify: u64,
}

/// Tell the affected customers: name them by a rule or by the organisation's own
/// identifiers (exactly one of the two).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    pub rule: Option<RuleBody>,
    /// The organisation's identifiers (e-mail addresses, customer numbers). Turned into
    /// pseudonyms at once; the list is neither stored nor logged.
    pub identifiers: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotifyResult {
    pub incident: u32,
    /// Customers selected or listed (duplicates once).
    pub affected: u64,
    /// Told now: one `notified` ledger entry each, sent to webhooks and NATS as
    /// `incident.notified`.
    pub notified: u64,
    /// Told before; not told twice.
    pub already_notified: u64,
    /// Erased customers: no one left to tell.
    pub erased: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

impl From<IncidentError> for ApiError {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::Invalid(problems) => {
                ApiError::Validation(problems.iter().map(field_error).collect())
            }
            IncidentError::Unknown(n) => ApiError::NotFound(format!(
                "there is no incident {n}; GET /v1/incidents lists them"
            )),
            e @ (IncidentError::NoCatalog | IncidentError::Unreadable { .. }) => {
                ApiError::Store(keuze_store::StoreError::Corrupt(e.to_string()))
            }
            IncidentError::Store(e) => ApiError::Store(e),
        }
    }
}

/// `what_happened.nl` → `/what_happened/nl`, `categories[2]` → `/categories/2`.
fn field_error(p: &DraftProblem) -> FieldError {
    let pointer = p.field.replace(['.', '['], "/").replace(']', "");
    FieldError {
        pointer: format!("/{pointer}"),
        detail: format!("{}; {}", p.message, p.help),
    }
}

async fn view(
    state: &AppState,
    stored: StoredIncident,
    incident: &Incident,
) -> Result<IncidentView, ApiError> {
    let counts = state.store().notice_counts(stored.number).await?;
    Ok(IncidentView {
        number: stored.number,
        digest: stored.digest.to_string(),
        recorded_at: stored.recorded_at.to_rfc3339(),
        published_at: stored.published_at.map(|t| t.to_rfc3339()),
        incident: serde_json::to_value(incident).unwrap_or_default(),
        notified: counts.notified,
        acknowledged: counts.acknowledged,
        readability: Vec::new(),
        warnings: Vec::new(),
    })
}

fn path_number(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::NotFound(format!(
            "`{raw}` is not an incident number; incidents are numbered 1, 2, 3, …"
        ))
    })
}

/// The rule of a request: its fields, or the incident's own.
fn rule_of(
    state: &AppState,
    incident: &Incident,
    body: Option<RuleBody>,
    at: &str,
) -> Result<Rule, ApiError> {
    let body = body.unwrap_or_default();
    let mut errors = Vec::new();
    let catalog = state.catalog();
    let purposes = match body.granted_any_of {
        None => incident.purposes.clone(),
        Some(list) => {
            let mut out = Vec::new();
            for (i, p) in list.iter().enumerate() {
                match PurposeId::parse(p) {
                    Ok(id)
                        if catalog
                            .versions()
                            .any(|v| v.catalog.purpose(id.as_str()).is_some()) =>
                    {
                        out.push(id)
                    }
                    _ => errors.push(FieldError {
                        pointer: format!("{at}/granted_any_of/{i}"),
                        detail: format!(
                            "`{p}` is not a purpose of any published catalog version; GET /v1/catalog lists those in force"
                        ),
                    }),
                }
            }
            out
        }
    };
    if purposes.is_empty() && errors.is_empty() {
        errors.push(FieldError {
            pointer: format!("{at}/granted_any_of"),
            detail: "name at least one purpose: the incident names none, so the rule must".into(),
        });
    }
    let mut time = |field: &str, value: Option<String>, default| match value {
        None => Some(default),
        Some(v) => {
            let t = parse_time(&v);
            if t.is_none() {
                errors.push(FieldError {
                    pointer: format!("{at}/{field}"),
                    detail: format!("`{v}` is not an RFC 3339 time, e.g. `2026-11-02T09:00:00Z`"),
                });
            }
            t
        }
    };
    let from = time("from", body.from, incident.window.from);
    let to = time("to", body.to, incident.window.to);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(FieldError {
                pointer: format!("{at}/from"),
                detail: "the window ends before it starts".into(),
            });
        }
    }
    match (from, to) {
        (Some(from), Some(to)) if errors.is_empty() => Ok(Rule {
            granted_any_of: purposes,
            window: Window { from, to },
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Record a privacy incident. Every text in `en` and `nl`; the data categories and
/// purposes must be the catalog's. Texts that are hard to read are recorded with a
/// warning, as in `keuze catalog check`.
#[utoipa::path(
    post,
    path = "/v1/incidents",
    tag = "incidents",
    request_body = IncidentDraft,
    responses(
        (status = 201, body = IncidentView),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn record(
    State(state): State<AppState>,
    auth: Authorized<AdminScope>,
    JsonBody(draft): JsonBody<IncidentDraft>,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    let catalogs = state.catalog();
    let recorded = incidents::record(
        &**state.store(),
        Some(&catalogs),
        &draft,
        &auth.attribution(state.now()),
    )
    .await?;
    let mut out = view(&state, recorded.stored, &recorded.incident).await?;
    out.warnings = recorded
        .readability
        .iter()
        .filter_map(|r| r.warning())
        .collect();
    out.readability = recorded
        .readability
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    Ok((StatusCode::CREATED, Json(out)))
}

/// Every incident, with how many customers were told and acknowledged it. Readable with
/// scope `audit` or `admin`.
#[utoipa::path(
    get,
    path = "/v1/incidents",
    tag = "incidents",
    responses(
        (status = 200, body = IncidentList),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
    ),
    security(("api_key" = ["audit"]), ("api_key" = ["admin"]))
)]
pub async fn list(
    State(state): State<AppState>,
    _auth: Authorized<IncidentReadScope>,
) -> Result<Json<IncidentList>, ApiError> {
    let mut out = Vec::new();
    for stored in state.store().incidents().await? {
        let incident = incidents::parse(&stored)?;
        out.push(view(&state, stored, &incident).await?);
    }
    Ok(Json(IncidentList { incidents: out }))
}

/// One incident: what the organisation's mailer sends after an `incident.notified` event.
/// Readable with scope `audit` (the mailer's) or `admin`.
#[utoipa::path(
    get,
    path = "/v1/incidents/{number}",
    tag = "incidents",
    params(("number" = u32, Path, description = "The incident's number")),
    responses(
        (status = 200, body = IncidentView),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
    ),
    security(("api_key" = ["audit"]), ("api_key" = ["admin"]))
)]
pub async fn get_one(
    State(state): State<AppState>,
    _auth: Authorized<IncidentReadScope>,
    Path(number): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    let (stored, incident) = incidents::load(&**state.store(), path_number(&number)?).await?;
    Ok(Json(view(&state, stored, &incident).await?))
}

/// How many customers a rule selects (absent: those who had granted any of the
/// incident's purposes during its window), and how many of them were not told yet.
/// Nothing is written.
#[utoipa::path(
    post,
    path = "/v1/incidents/{number}/audience",
    tag = "incidents",
    params(("number" = u32, Path, description = "The incident's number")),
    request_body = AudienceRequest,
    responses(
        (status = 200, body = AudiencePreview),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn audience(
    State(state): State<AppState>,
    _auth: Authorized<AdminScope>,
    Path(number): Path<String>,
    JsonBody(req): JsonBody<AudienceRequest>,
) -> Result<Json<AudiencePreview>, ApiError> {
    let (stored, incident) = incidents::load(&**state.store(), path_number(&number)?).await?;
    let rule = rule_of(&state, &incident, req.rule, "/rule")?;
    let selected = incidents::select(&**state.store(), &rule).await?;
    let told: std::collections::HashSet<_> = state
        .store()
        .notified_subjects(stored.number)
        .await?
        .into_iter()
        .collect();
    let already = selected.iter().filter(|s| told.contains(*s)).count() as u64;
    Ok(Json(AudiencePreview {
        granted_any_of: rule
            .granted_any_of
            .iter()
            .map(ToString::to_string)
            .collect(),
        from: rule.window.from.to_rfc3339(),
        to: rule.window.to.to_rfc3339(),
        selected: selected.len() as u64,
        already_notified: already,
        to_notify: selected.len() as u64 - already,
    }))
}

/// Tell the affected customers. Each gets a `notified` ledger entry committing to the
/// incident's digest, the notice first in their preference center until they
/// acknowledge it, and an `incident.notified` event to webhooks and NATS for the
/// organisation's own mailer. Customers told before are not told again, so a request
/// that failed half-way is finished by sending it again.
#[utoipa::path(
    post,
    path = "/v1/incidents/{number}/notify",
    tag = "incidents",
    params(("number" = u32, Path, description = "The incident's number")),
    request_body = NotifyRequest,
    responses(
        (status = 200, body = NotifyResult),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn notify(
    State(state): State<AppState>,
    _auth: Authorized<AdminScope>,
    Path(number): Path<String>,
    JsonBody(req): JsonBody<NotifyRequest>,
) -> Result<Json<NotifyResult>, ApiError> {
    let (stored, incident) = incidents::load(&**state.store(), path_number(&number)?).await?;
    let affected = match (req.rule, req.identifiers) {
        (Some(rule), None) => {
            let rule = rule_of(&state, &incident, Some(rule), "/rule")?;
            incidents::select(&**state.store(), &rule).await?
        }
        (None, Some(ids)) => {
            if ids.len() > MAX_IDENTIFIERS {
                return Err(ApiError::field(
                    "/identifiers",
                    format!(
                        "{} identifiers; send at most {MAX_IDENTIFIERS} per request",
                        ids.len()
                    ),
                ));
            }
            if let Some(i) = ids
                .iter()
                .position(|id| id.trim().is_empty() || id.len() > 256)
            {
                return Err(ApiError::field(
                    format!("/identifiers/{i}"),
                    "an identifier must be 1 to 256 characters",
                ));
            }
            incidents::pseudonymise(state.pseudonymizer(), ids.iter().map(String::as_str))
        }
        _ => {
            return Err(ApiError::field(
                "",
                "give exactly one of `rule` (who is affected, as a question to the ledger) or `identifiers` (the organisation's own list)",
            ))
        }
    };
    let result = incidents::notify(
        &**state.store(),
        &stored,
        &affected,
        state.now(),
        |first, last| state.appended_elsewhere(first, last),
    )
    .await?;
    tracing::info!(
        incident = stored.number,
        notified = result.notified,
        already = result.already_notified,
        erased = result.erased,
        "customers told of an incident"
    );
    Ok(Json(notify_result(stored.number, result)))
}

fn notify_result(incident: u32, n: Notified) -> NotifyResult {
    NotifyResult {
        incident,
        affected: n.affected,
        notified: n.notified,
        already_notified: n.already_notified,
        erased: n.erased,
        first_seq: n.first_seq,
        last_seq: n.last_seq,
    }
}

/// Put the incident on the public register at `/privacy/incidents`. Once there it stays.
#[utoipa::path(
    post,
    path = "/v1/incidents/{number}/publish",
    tag = "incidents",
    params(("number" = u32, Path, description = "The incident's number")),
    responses(
        (status = 200, body = IncidentView),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn publish(
    State(state): State<AppState>,
    auth: Authorized<AdminScope>,
    Path(number): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    let number = path_number(&number)?;
    let stored = state
        .store()
        .publish_incident(number, &auth.attribution(state.now()))
        .await?
        .ok_or(IncidentError::Unknown(number))?;
    let incident = incidents::parse(&stored)?;
    Ok(Json(view(&state, stored, &incident).await?))
}
