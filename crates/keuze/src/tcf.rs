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
    let model = TcModel::decode(string)
        .map_err(|e| usage(say!("cli-tc-undecodable", error = e.to_string())))?;
    let findings = vendor_list.map(|gvl| keuze_tcf::validate(&model, gvl));
    if json {
        let text = serde_json::to_string_pretty(&model).map_err(anyhow::Error::from)?;
        outln!("{text}");
        if let (Some(gvl), Some(findings)) = (vendor_list, &findings) {
            for f in findings {
                eprintln!(
                    "{}",
                    say!(
                        "cli-tc-finding",
                        version = gvl.vendor_list_version,
                        field = f.field.to_string(),
                        problem = f.problem.to_string()
                    )
                );
            }
        }
        return Ok(());
    }
    let mut out = render(&model, vendor_list);
    if let (Some(gvl), Some(findings)) = (vendor_list, findings) {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            say!(
                "cli-tc-checked",
                version = gvl.vendor_list_version,
                count = findings.len()
            )
        );
        for f in findings {
            let _ = writeln!(out, "  {}: {}", f.field, f.problem);
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
            .map_err(|e| usage(say!("cli-tc-stdin-unreadable", error = e.to_string())))?
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            usage(say!(
                "cli-could-not-read-because",
                path = &name,
                error = e.to_string()
            ))
        })?
    };
    let model = TcModel::from_json(&text).map_err(|e| {
        usage(say!(
            "cli-tc-not-a-model",
            file = &name,
            error = e.to_string()
        ))
    })?;
    let string = model.encode().map_err(|e| {
        usage(say!(
            "cli-tc-cannot-encode",
            file = &name,
            error = e.to_string()
        ))
    })?;
    outln!("{string}");
    Ok(())
}

fn yes_no(b: bool) -> String {
    if b {
        say!("cli-yes")
    } else {
        say!("cli-no")
    }
}

/// A vendor set as ranges: `1-5, 9, 12-14 (9 vendors)`, or `none`.
fn vendors(set: &VendorSet) -> String {
    if set.is_empty() {
        return say!("cli-tc-none");
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
    say!(
        "cli-tc-vendor-runs",
        runs = runs.join(", "),
        count = set.len()
    )
}

/// The decoded string as lines: headings, and fields as a label with a value.
#[derive(Default)]
struct Table {
    rows: Vec<(Option<String>, String)>,
}

impl Table {
    fn heading(&mut self, text: String) {
        self.rows.push((None, text));
    }

    fn field(&mut self, label: String, value: impl std::fmt::Display) {
        self.rows.push((Some(label), value.to_string()));
    }

    /// Ids with their names, one per line under `label`, or `none`.
    fn named(&mut self, label: String, set: IdSet, name: impl Fn(u8) -> Option<String>) {
        if set.is_empty() {
            self.field(label, say!("cli-tc-none"));
            return;
        }
        let mut label = Some(label);
        for id in set.iter() {
            let shown = match name(id) {
                Some(n) => format!("{id:>2} {n}"),
                None => format!("{id:>2}"),
            };
            self.field(label.take().unwrap_or_default(), shown);
        }
    }

    /// Labels in one column as wide as the longest needs, 29 at least.
    fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .filter_map(|(label, _)| Some(label.as_ref()?.chars().count() + 1))
            .fold(29, usize::max);
        let mut out = String::new();
        for (label, text) in &self.rows {
            let _ = match label {
                Some(label) => writeln!(out, "  {label:<width$}{text}"),
                None => writeln!(out, "{text}"),
            };
        }
        out
    }
}

/// Every field of the model, segment by segment.
fn render(m: &TcModel, gvl: Option<&Gvl>) -> String {
    let words = crate::words::lang();
    let purpose = |id: u8| -> Option<String> {
        gvl.and_then(|g| g.purposes.get(&id).map(|p| p.name.clone()))
            .or_else(|| words.tcf_purpose_name(id))
    };
    let feature = |id: u8| -> Option<String> {
        gvl.and_then(|g| g.special_features.get(&id).map(|p| p.name.clone()))
            .or_else(|| words.tcf_special_feature_name(id))
    };
    let mut t = Table::default();
    t.heading(say!("cli-tc-core-segment"));
    t.field(say!("cli-tc-version"), 2);
    t.field(say!("cli-tc-created"), m.created);
    t.field(say!("cli-tc-last-updated"), m.last_updated);
    t.field(
        say!("cli-tc-cmp"),
        say!("cli-tc-cmp-value", id = m.cmp_id, version = m.cmp_version),
    );
    t.field(say!("cli-tc-consent-screen"), m.consent_screen);
    t.field(say!("cli-tc-consent-language"), m.consent_language);
    t.field(say!("cli-tc-vendor-list-version"), m.vendor_list_version);
    t.field(say!("cli-tc-policy-version"), m.policy_version);
    t.field(
        say!("cli-tc-service-specific"),
        yes_no(m.is_service_specific),
    );
    t.field(
        say!("cli-tc-non-standard-texts"),
        yes_no(m.use_non_standard_texts),
    );
    t.field(
        say!("cli-tc-purpose-one-treatment"),
        yes_no(m.purpose_one_treatment),
    );
    t.field(say!("cli-tc-publisher-country"), m.publisher_country_code);
    t.named(
        say!("cli-tc-special-feature-opt-ins"),
        m.special_feature_opt_ins,
        feature,
    );
    t.named(say!("cli-tc-purpose-consents"), m.purpose_consents, purpose);
    t.named(
        say!("cli-tc-purpose-legitimate-interests"),
        m.purpose_legitimate_interests,
        purpose,
    );
    t.field(say!("cli-tc-vendor-consents"), vendors(&m.vendor_consents));
    t.field(
        say!("cli-tc-vendor-legitimate-interests"),
        vendors(&m.vendor_legitimate_interests),
    );
    if m.publisher_restrictions.is_empty() {
        t.field(say!("cli-tc-publisher-restrictions"), say!("cli-tc-none"));
    } else {
        for (i, r) in m.publisher_restrictions.iter().enumerate() {
            let kind = match r.restriction_type {
                RestrictionType::NotAllowed => "not-allowed",
                RestrictionType::RequireConsent => "require-consent",
                RestrictionType::RequireLegitimateInterest => "require-legitimate-interest",
                RestrictionType::Undefined => "undefined",
            };
            let line = say!(
                "cli-tc-restriction",
                purpose = r.purpose_id,
                kind = kind,
                vendors = vendors(&r.vendors)
            );
            let label = if i == 0 {
                say!("cli-tc-publisher-restrictions")
            } else {
                String::new()
            };
            t.field(label, line);
        }
    }
    t.heading(String::new());
    for (heading, set) in [
        (
            say!("cli-tc-disclosed-vendors-segment"),
            &m.disclosed_vendors,
        ),
        (say!("cli-tc-allowed-vendors-segment"), &m.allowed_vendors),
    ] {
        t.heading(heading);
        t.heading(format!(
            "  {}",
            set.as_ref()
                .map_or_else(|| say!("cli-tc-no-segment"), vendors)
        ));
    }
    t.heading(say!("cli-tc-publisher-tc-segment"));
    match &m.publisher_tc {
        None => t.heading(format!("  {}", say!("cli-tc-no-segment"))),
        Some(p) => {
            t.named(say!("cli-tc-purpose-consents"), p.consents, purpose);
            t.named(
                say!("cli-tc-purpose-legitimate-interests"),
                p.legitimate_interests,
                purpose,
            );
            t.field(say!("cli-tc-custom-purposes"), p.num_custom_purposes);
            t.named(
                say!("cli-tc-custom-purpose-consents"),
                p.custom_consents,
                |_| None,
            );
            t.named(
                say!("cli-tc-custom-legitimate-interests"),
                p.custom_legitimate_interests,
                |_| None,
            );
        }
    }
    t.render()
}
