//! TC string throughput (keuze-tcf), each figure against baselines from the same run on
//! the same strings:
//!
//! - decode: `keuze_tcf::decode` against plain base64url decoding of the same segments
//!   with the `base64` crate (the work no decoder can skip);
//! - encode: `keuze_tcf::encode` of the decoded models against plain base64url encoding
//!   of the same number of bytes;
//! - and, when Node.js and the IAB's `@iabtechlabtcf/core` are installed (as `.ci/run`
//!   does), the reference library decoding and re-encoding the first tenth of the same
//!   strings (it is slow enough that the whole corpus would take many minutes).
//!
//! Three corpora: "typical" (the sample vendor list's 376 vendors disclosed, about half
//! with consent: bit fields), "sparse" (a handful of vendors: ranges) and "restricted"
//! (typical plus publisher restrictions and the publisher TC segment).
//!
//! `--quick` runs a few hundred strings once; it asserts nothing about speed.

use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clap::Parser;
use keuze_bench::Runs;
use keuze_tcf::{decode, encode, Gvl, PublisherRestriction, PublisherTc, RestrictionType, TcModel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Parser)]
#[command(about = "TC string encode/decode throughput against baselines from the same run")]
struct Args {
    #[arg(long)]
    quick: bool,
    /// Runs per measurement (min/median/max are reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Strings per corpus.
    #[arg(long, default_value_t = 20_000)]
    strings: usize,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus(kind: &str, n: usize, gvl: &Gvl, rng: &mut StdRng) -> Result<Vec<String>> {
    let vendors: Vec<u16> = gvl.vendors.keys().copied().collect();
    (0..n)
        .map(|_| {
            let day = time::Date::from_ordinal_date(2026, rng.gen_range(1..=365))?;
            let mut m = TcModel::new(300, 2, day);
            m.vendor_list_version = gvl.vendor_list_version;
            m.policy_version = gvl.tcf_policy_version;
            m.purpose_consents = (1..=11).filter(|_| rng.gen_bool(0.6)).collect();
            m.special_feature_opt_ins = (1..=2).filter(|_| rng.gen_bool(0.3)).collect();
            let share = if kind == "sparse" { 0.01 } else { 0.5 };
            m.vendor_consents = vendors
                .iter()
                .copied()
                .filter(|_| rng.gen_bool(share))
                .collect();
            m.disclosed_vendors = Some(if kind == "sparse" {
                m.vendor_consents.clone()
            } else {
                vendors.iter().copied().collect()
            });
            if kind == "restricted" {
                for purpose_id in [2, 7, 9] {
                    m.publisher_restrictions.push(PublisherRestriction {
                        purpose_id,
                        restriction_type: RestrictionType::RequireConsent,
                        vendors: vendors
                            .iter()
                            .copied()
                            .filter(|_| rng.gen_bool(0.1))
                            .collect(),
                    });
                }
                m.publisher_tc = Some(PublisherTc {
                    consents: m.purpose_consents,
                    num_custom_purposes: 4,
                    custom_consents: [1, 3].into_iter().collect(),
                    ..PublisherTc::default()
                });
            }
            encode(&m).context("encoding a corpus model")
        })
        .collect()
}

struct Row {
    name: String,
    runs: Runs,
    baseline: Option<f64>,
}

fn report(rows: &[Row]) {
    println!(
        "{:<34} {:>14} {:>14} {:>14} {:>10}",
        "figure", "min /s", "median /s", "max /s", "vs base"
    );
    for r in rows {
        let ratio = r
            .baseline
            .map(|b| format!("{:.2}×", r.runs.median() / b))
            .unwrap_or_default();
        println!(
            "{:<34} {:>14.0} {:>14.0} {:>14.0} {:>10}",
            r.name,
            r.runs.min(),
            r.runs.median(),
            r.runs.max(),
            ratio
        );
    }
}

/// The reference library's decode and encode rates on `strings`, if it is installed.
fn reference(strings: &[String], runs: usize) -> Option<(Runs, Runs)> {
    let dir = root().join("crates/keuze-tcf/tests/reference");
    if !dir.join("node_modules/@iabtechlabtcf/core").exists() {
        eprintln!(
            "(the IAB reference library is not installed: npm ci --prefix {})",
            dir.display()
        );
        return None;
    }
    let gvl = root().join("crates/keuze-tcf/data/vendor-list-v7.json");
    let mut child = Command::new("node")
        .args(["driver.mjs", "bench", &runs.to_string()])
        .arg(gvl)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = strings.join("\n");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let rates = |key: &str| Runs {
        rates: v
            .get(key)
            .and_then(|x| x.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default(),
    };
    Some((rates("decode"), rates("encode")))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (n, runs) = if args.quick {
        (300, 1)
    } else {
        (args.strings, args.runs)
    };
    let gvl = Gvl::from_json(keuze_tcf::SAMPLE_VENDOR_LIST)?;
    let mut rng = StdRng::seed_from_u64(20_261_129);
    let mut rows = Vec::new();
    for kind in ["typical", "sparse", "restricted"] {
        let strings = corpus(kind, n, &gvl, &mut rng)?;
        let chars: usize = strings.iter().map(String::len).sum();
        eprintln!(
            "{kind}: {n} strings, {} characters on average",
            chars / n.max(1)
        );
        let base_decode = Runs::measure(runs, || {
            let mut bytes = 0;
            for s in &strings {
                for seg in s.split('.') {
                    bytes += URL_SAFE_NO_PAD.decode(seg).map(|b| b.len()).unwrap_or(0);
                }
            }
            black_box(bytes);
            strings.len() as u64
        });
        let ours_decode = Runs::measure(runs, || {
            for s in &strings {
                black_box(decode(s).ok());
            }
            strings.len() as u64
        });
        let models: Vec<TcModel> = strings.iter().filter_map(|s| decode(s).ok()).collect();
        let raw: Vec<Vec<u8>> = strings
            .iter()
            .map(|s| {
                s.split('.')
                    .flat_map(|seg| URL_SAFE_NO_PAD.decode(seg).unwrap_or_default())
                    .collect()
            })
            .collect();
        let base_encode = Runs::measure(runs, || {
            for b in &raw {
                black_box(URL_SAFE_NO_PAD.encode(b));
            }
            raw.len() as u64
        });
        let ours_encode = Runs::measure(runs, || {
            for m in &models {
                black_box(encode(m).ok());
            }
            models.len() as u64
        });
        let (bd, be) = (base_decode.median(), base_encode.median());
        rows.push(Row {
            name: format!("{kind}: base64url decode (base)"),
            runs: base_decode,
            baseline: None,
        });
        rows.push(Row {
            name: format!("{kind}: keuze-tcf decode"),
            runs: ours_decode,
            baseline: Some(bd),
        });
        rows.push(Row {
            name: format!("{kind}: base64url encode (base)"),
            runs: base_encode,
            baseline: None,
        });
        rows.push(Row {
            name: format!("{kind}: keuze-tcf encode"),
            runs: ours_encode,
            baseline: Some(be),
        });
        // The reference re-encodes a few hundred strings a second: a tenth of the corpus
        // gives the same rate in a tenth of the time.
        let sample = strings.get(..(n / 10).max(1)).unwrap_or(&strings);
        if let Some((their_decode, their_encode)) = reference(sample, runs) {
            rows.push(Row {
                name: format!("{kind}: IAB reference decode"),
                runs: their_decode,
                baseline: Some(bd),
            });
            rows.push(Row {
                name: format!("{kind}: IAB reference encode"),
                runs: their_encode,
                baseline: Some(be),
            });
        }
    }
    report(&rows);
    Ok(())
}
