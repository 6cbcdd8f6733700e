//! IAB TCF TC strings: the string of one subject's current choices, made by the same
//! decisions as every other answer, and a decoder for debugging any string against the
//! vendor list the server holds. TCF bodies use the TCF's own camelCase names.

use crate::auth::{Authorized, DecideScope};
use crate::json::{JsonBody, QueryParams};
use crate::problem::ApiError;
use crate::wire::{parse_pseudonym, SubjectRef};
use axum::extract::{Path, State};
use axum::Json;
use keuze_app::AppState;
use keuze_core::tcf::{self, TcfError};
use keuze_core::{Reason, SubjectId};
use keuze_tcf::{Letters, TcModel};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct TcfParams {
    /// The language the customer was asked in: two letters, e.g. `nl` [default: `en`].
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TcfRequest {
    pub subject: SubjectRef,
    /// The language the customer was asked in: two letters, e.g. `nl` [default: `en`].
    #[serde(default)]
    pub lang: Option<String>,
}

/// A subject's TC string and what it says.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectTcf {
    /// The subject's pseudonym.
    pub subject: String,
    /// The catalog version whose mappings and vendors the string follows.
    pub catalog_version: u32,
    /// The TC string: core and disclosed vendors segments, service-specific.
    pub tc_string: String,
    pub vendor_list_version: u16,
    pub policy_version: u8,
    /// TCF purposes the customer consents to.
    pub purpose_consents: Vec<u8>,
    /// TCF special features the customer opts in to.
    pub special_feature_opt_ins: Vec<u8>,
    /// How many of the disclosed vendors get consent.
    pub vendors_with_consent: usize,
    /// The catalog's vendors that are active on the vendor list.
    pub vendors_disclosed: usize,
    /// The string's Created and LastUpdated: the day of the customer's latest choice for
    /// a purpose that maps to TCF (today if none), midnight UTC, RFC 3339.
    pub last_updated: String,
    /// Two capital letters, e.g. `EN`.
    pub consent_language: String,
    /// Every purpose that maps to TCF, and the decision that put its signals in the
    /// string or left them out.
    pub based_on: Vec<TcfBasis>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TcfBasis {
    pub purpose: String,
    pub tcf_purposes: Vec<u8>,
    pub tcf_special_features: Vec<u8>,
    /// Whether the purpose's signals are in the string: the decision for it now.
    pub allowed: bool,
    pub reason: Reason,
    /// The ledger event the decision rests on.
    pub event: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecodeRequest {
    /// Any TCF v2 TC string.
    pub tc_string: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decoded {
    /// Every field of the string, in the JSON form `keuze tcf decode --json` prints and
    /// `keuze tcf encode` reads.
    #[schema(value_type = Object)]
    pub model: serde_json::Value,
    /// The version of the server's vendor list the string was checked against; `null`
    /// when the server has none.
    pub checked_against_vendor_list: Option<u16>,
    /// How the string departs from that vendor list and from TCF policy; empty when it
    /// does not, `null` when there is no list to check against.
    pub findings: Option<Vec<FindingView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    /// The field, as the TCF specification names it.
    pub field: String,
    pub problem: String,
}

/// The consent language given, if any; without one the string says English, the
/// language every catalog text has.
fn language(raw: Option<&str>, pointer: &str) -> Result<Option<Letters>, ApiError> {
    raw.map(|l| {
        Letters::new(l).ok_or_else(|| {
            ApiError::field(
                pointer,
                format!("`{l}` is not a language: give two letters, e.g. `nl` or `en`"),
            )
        })
    })
    .transpose()
}

const NO_VENDOR_LIST: &str = "the server holds no IAB Global Vendor List, so it makes no TC strings: start it with `--tcf-vendor-list FILE` (or `tcf_vendor_list` in keuze.toml, or KEUZE_TCF_VENDOR_LIST), FILE being a vendor list of format 3 such as https://vendor-list.consensu.org/v3/vendor-list.json";

fn tcf_for(
    state: &AppState,
    subject: SubjectId,
    language: Option<Letters>,
) -> Result<SubjectTcf, ApiError> {
    let gvl = state
        .vendor_list()
        .ok_or_else(|| ApiError::TcfNotConfigured(NO_VENDOR_LIST.to_owned()))?;
    let history = state.catalog();
    let number = history.current().number;
    let now = state.now();
    let made = {
        let index = state
            .index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tcf::for_subject(&history, &index, &subject, gvl, language, now)
    };
    let made = made.map_err(|e| match e {
        TcfError::NoTcfTable => ApiError::TcfNotConfigured(format!(
            "the catalog in force (version {number}) has no [tcf] table: add one with `cmp_id`, `cmp_version`, `publisher_country` and `vendors`, give the consent purposes whose yes is consent under the TCF `tcf_purposes`, and publish it (docs/catalog.md)"
        )),
        TcfError::Encode(e) => ApiError::TcfNotConfigured(format!(
            "the TC string cannot be encoded ({e}); check the catalog's [tcf] table and the vendor list"
        )),
    })?;
    let m = &made.model;
    Ok(SubjectTcf {
        subject: subject.to_hex(),
        catalog_version: number,
        tc_string: made.tc_string.clone(),
        vendor_list_version: m.vendor_list_version,
        policy_version: m.policy_version,
        purpose_consents: m.purpose_consents.iter().collect(),
        special_feature_opt_ins: m.special_feature_opt_ins.iter().collect(),
        vendors_with_consent: m.vendor_consents.len(),
        vendors_disclosed: m.disclosed_vendors.as_ref().map_or(0, |d| d.len()),
        last_updated: m.last_updated.to_string(),
        consent_language: m.consent_language.to_string(),
        based_on: made
            .based_on
            .iter()
            .map(|b| TcfBasis {
                purpose: b.purpose.to_string(),
                tcf_purposes: b.tcf_purposes.clone(),
                tcf_special_features: b.tcf_special_features.clone(),
                allowed: b.decision.allowed,
                reason: b.decision.reason,
                event: b.decision.event,
            })
            .collect(),
    })
}

/// The TC string of a subject's current choices, by pseudonym.
#[utoipa::path(
    get,
    path = "/v1/subjects/{pseudonym}/tcf",
    tag = "tcf",
    params(("pseudonym" = String, Path, description = "64 hex digits"), TcfParams),
    responses(
        (status = 200, body = SubjectTcf),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
        (status = 409, description = "No vendor list, or no [tcf] in the catalog", body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn tcf_by_pseudonym(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    Path(p): Path<String>,
    QueryParams(q): QueryParams<TcfParams>,
) -> Result<Json<SubjectTcf>, ApiError> {
    let subject = parse_pseudonym(&p)?;
    let language = language(q.lang.as_deref(), "/lang")?;
    Ok(Json(tcf_for(&state, subject, language)?))
}

/// The TC string of a subject's current choices, named in the body.
#[utoipa::path(
    post,
    path = "/v1/subjects/tcf",
    tag = "tcf",
    request_body = TcfRequest,
    responses(
        (status = 200, body = SubjectTcf),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 409, description = "No vendor list, or no [tcf] in the catalog", body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn tcf_by_body(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(req): JsonBody<TcfRequest>,
) -> Result<Json<SubjectTcf>, ApiError> {
    let subject = req.subject.resolve_in_body(&state)?;
    let language = language(req.lang.as_deref(), "/lang")?;
    Ok(Json(tcf_for(&state, subject, language)?))
}

/// Decode any TC string: every field, and what the server's vendor list finds wrong
/// with it. A string that cannot be read is a 422 naming the segment, field and bit.
#[utoipa::path(
    post,
    path = "/v1/tcf/decode",
    tag = "tcf",
    request_body = DecodeRequest,
    responses(
        (status = 200, body = Decoded),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn decode(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(req): JsonBody<DecodeRequest>,
) -> Result<Json<Decoded>, ApiError> {
    let model =
        TcModel::decode(&req.tc_string).map_err(|e| ApiError::field("/tcString", e.to_string()))?;
    let gvl = state.vendor_list();
    let findings = gvl.map(|gvl| {
        keuze_tcf::validate(&model, gvl)
            .into_iter()
            .map(|f| FindingView {
                field: f.field,
                problem: f.problem,
            })
            .collect()
    });
    Ok(Json(Decoded {
        model: serde_json::to_value(&model).unwrap_or_default(),
        checked_against_vendor_list: gvl.map(|g| g.vendor_list_version),
        findings,
    }))
}
