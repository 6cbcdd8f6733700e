//! `keuze tcf decode` and `keuze tcf encode`: TC strings for people, and the JSON form
//! that goes both ways.

use crate::Failure;
use keuze_tcf::{Gvl, IdSet, RestrictionType, TcModel, VendorSet};
use std::fmt::Write as _;
use std::path::Path;

fn usage(msg: String) -> Failure {
    Failure {
        code: 2,
        error: anyhow::anyhow!(msg),
    }
}

/// `keuze tcf decode STRING`: every field for a person, or the JSON form.
pub fn decode(string: &str, json: bool, vendor_list: Option<&Gvl>) -> Result<(), Failure> {
    let model = TcModel::decode(string).map_err(|e| {
        usage(format!(
            "the TC string cannot be decoded: {e}. Check that the whole string was copied: a TC string is base64url text, its segments joined by `.`"
        ))
    })?;
    let findings = vendor_list.map(|gvl| keuze_tcf::validate(&model, gvl));
    if json {
        let text = serde_json::to_string_pretty(&model).map_err(anyhow::Error::from)?;
        outln!("{text}");
        if let (Some(gvl), Some(findings)) = (vendor_list, &findings) {
            for f in findings {
                eprintln!(
                    "finding (vendor list {}): {}: {}",
                    gvl.vendor_list_version, f.field, f.problem
                );
            }
        }
        return Ok(());
    }
    let mut out = render(&model, vendor_list);
    if let (Some(gvl), Some(findings)) = (vendor_list, findings) {
        let _ = writeln!(out);
        if findings.is_empty() {
            let _ = writeln!(
                out,
                "Checked against vendor list {}: no findings.",
                gvl.vendor_list_version
            );
        } else {
            let _ = writeln!(
                out,
                "Checked against vendor list {}: {} finding{}:",
                gvl.vendor_list_version,
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            );
            for f in findings {
                let _ = writeln!(out, "  {}: {}", f.field, f.problem);
            }
        }
    }
    out!("{out}");
    Ok(())
}

/// `keuze tcf encode FILE`: the JSON form in, the string out.
pub fn encode(file: &Path) -> Result<(), Failure> {
    let name = file.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| usage(format!("could not read the model from stdin: {e}")))?
    } else {
        std::fs::read_to_string(file).map_err(|e| usage(format!("could not read {name}: {e}")))?
    };
    let model = TcModel::from_json(&text).map_err(|e| {
        usage(format!(
            "{name} is not a TC model: {e}. Write it as `keuze tcf decode --json` prints one"
        ))
    })?;
    let string = model
        .encode()
        .map_err(|e| usage(format!("{name} cannot be encoded: field {e}")))?;
    outln!("{string}");
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// A vendor set as ranges: `1-5, 9, 12-14 (9 vendors)`, or `none`.
fn vendors(set: &VendorSet) -> String {
    if set.is_empty() {
        return "none".to_owned();
    }
    let runs: Vec<String> = set
        .runs()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    let n = set.len();
    format!(
        "{} ({n} vendor{})",
        runs.join(", "),
        if n == 1 { "" } else { "s" }
    )
}

/// Ids with their names, one per line under `label`, or `none`.
fn named(out: &mut String, label: &str, set: IdSet, name: impl Fn(u8) -> Option<String>) {
    if set.is_empty() {
        let _ = writeln!(out, "  {label:<29}none");
        return;
    }
    for (i, id) in set.iter().enumerate() {
        let shown = match name(id) {
            Some(n) => format!("{id:>2} {n}"),
            None => format!("{id:>2}"),
        };
        if i == 0 {
            let _ = writeln!(out, "  {label:<29}{shown}");
        } else {
            let _ = writeln!(out, "  {:<29}{shown}", "");
        }
    }
}

fn field(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "  {label:<29}{value}");
}

/// Every field of the model, segment by segment.
fn render(m: &TcModel, gvl: Option<&Gvl>) -> String {
    let purpose = |id: u8| -> Option<String> {
        gvl.and_then(|g| g.purposes.get(&id).map(|p| p.name.clone()))
            .or_else(|| keuze_core::tcf::purpose_name(id).map(str::to_owned))
    };
    let feature = |id: u8| -> Option<String> {
        gvl.and_then(|g| g.special_features.get(&id).map(|p| p.name.clone()))
            .or_else(|| keuze_core::tcf::special_feature_name(id).map(str::to_owned))
    };
    let mut out = String::new();
    let _ = writeln!(out, "Core segment");
    field(&mut out, "Version", 2);
    field(&mut out, "Created", m.created);
    field(&mut out, "Last updated", m.last_updated);
    field(
        &mut out,
        "CMP",
        format!("{} version {}", m.cmp_id, m.cmp_version),
    );
    field(&mut out, "Consent screen", m.consent_screen);
    field(&mut out, "Consent language", m.consent_language);
    field(&mut out, "Vendor list version", m.vendor_list_version);
    field(&mut out, "Policy version", m.policy_version);
    field(&mut out, "Service-specific", yes_no(m.is_service_specific));
    field(
        &mut out,
        "Non-standard texts",
        yes_no(m.use_non_standard_texts),
    );
    field(
        &mut out,
        "Purpose one treatment",
        yes_no(m.purpose_one_treatment),
    );
    field(&mut out, "Publisher country", m.publisher_country_code);
    named(
        &mut out,
        "Special feature opt-ins",
        m.special_feature_opt_ins,
        feature,
    );
    named(&mut out, "Purpose consents", m.purpose_consents, purpose);
    named(
        &mut out,
        "Purpose legitimate interests",
        m.purpose_legitimate_interests,
        purpose,
    );
    field(&mut out, "Vendor consents", vendors(&m.vendor_consents));
    field(
        &mut out,
        "Vendor legitimate interests",
        vendors(&m.vendor_legitimate_interests),
    );
    if m.publisher_restrictions.is_empty() {
        field(&mut out, "Publisher restrictions", "none");
    } else {
        for (i, r) in m.publisher_restrictions.iter().enumerate() {
            let kind = match r.restriction_type {
                RestrictionType::NotAllowed => "not allowed",
                RestrictionType::RequireConsent => "require consent",
                RestrictionType::RequireLegitimateInterest => "require legitimate interest",
                RestrictionType::Undefined => "undefined (type 3)",
            };
            let line = format!("purpose {}, {kind}: {}", r.purpose_id, vendors(&r.vendors));
            let label = if i == 0 { "Publisher restrictions" } else { "" };
            field(&mut out, label, line);
        }
    }
    let _ = writeln!(out);
    let _ = match &m.disclosed_vendors {
        Some(set) => writeln!(out, "Disclosed vendors segment\n  {}", vendors(set)),
        None => writeln!(out, "Disclosed vendors segment\n  (no segment)"),
    };
    let _ = match &m.allowed_vendors {
        Some(set) => writeln!(out, "Allowed vendors segment\n  {}", vendors(set)),
        None => writeln!(out, "Allowed vendors segment\n  (no segment)"),
    };
    let _ = writeln!(out, "Publisher TC segment");
    match &m.publisher_tc {
        None => {
            let _ = writeln!(out, "  (no segment)");
        }
        Some(p) => {
            named(&mut out, "Purpose consents", p.consents, purpose);
            named(
                &mut out,
                "Purpose legitimate interests",
                p.legitimate_interests,
                purpose,
            );
            field(&mut out, "Custom purposes", p.num_custom_purposes);
            named(
                &mut out,
                "Custom purpose consents",
                p.custom_consents,
                |_| None,
            );
            named(
                &mut out,
                "Custom legitimate interests",
                p.custom_legitimate_interests,
                |_| None,
            );
        }
    }
    out
}
