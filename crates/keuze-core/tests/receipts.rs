//! Checkpoints and receipts: signed notes open only under the log's keys (old and new),
//! a receipt verifies offline, and changing any single value in it makes verification
//! fail and say which check caught it.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::catalog::{parse_catalog, Catalog, SAMPLE_CATALOG};
use keuze_core::checkpoint::{
    open, sign, sign_consistent, Checkpoint, CheckpointError, KeyError, LogKey, LogVerifier,
    NoteError,
};
use keuze_core::merkle::{consistency_proof, inclusion_proof, MemoryTree, ProofError};
use keuze_core::receipt::{
    subject_commitment, verify_receipt, Controller, EntryAction, IssueError, LedgerEntry,
    NoticeContext, PurposeContext, Receipt, ReceiptError, ReceiptProof, SubjectSalt,
};
use keuze_core::{
    Action, ConsentEvent, LegalBasis, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp,
};
use serde_json::Value;

const ORIGIN: &str = "keuze.example/ledger";

fn catalog() -> Catalog {
    parse_catalog("sample", SAMPLE_CATALOG).unwrap().0
}

fn key(seed: u8) -> LogKey {
    LogKey::from_seed([seed; 32], ORIGIN).unwrap()
}

/// A small ledger: 13 events by three subjects, the tree over them, and each subject's
/// salt.
struct Ledger {
    catalog: Catalog,
    events: Vec<ConsentEvent>,
    entries: Vec<LedgerEntry>,
    tree: MemoryTree,
}

fn subject(i: u8) -> SubjectId {
    SubjectId::from_bytes([0x50 + i; 32])
}

fn salt(i: u8) -> SubjectSalt {
    SubjectSalt([0xa0 + i; 32])
}

fn ledger() -> Ledger {
    let catalog = catalog();
    let purposes = [
        "newsletter",
        "service_analytics",
        "personalised_recommendations",
    ];
    let actions = [
        Action::Grant,
        Action::Object,
        Action::Grant,
        Action::Withdraw,
    ];
    let mut events = Vec::new();
    let mut entries = Vec::new();
    let mut tree = MemoryTree::new();
    for seq in 1..=13u64 {
        let who = (seq % 3) as u8;
        let purpose_id = PurposeId::parse(purposes[(seq % 3) as usize]).unwrap();
        let purpose = catalog.purpose(purpose_id.as_str()).unwrap();
        let locale = if seq % 2 == 0 {
            Locale::nl()
        } else {
            Locale::en()
        };
        let mut action = actions[(seq % 4) as usize];
        if purpose_id.as_str() == "service_analytics" && action == Action::Withdraw {
            action = Action::Object;
        }
        if purpose_id.as_str() != "service_analytics" && action == Action::Object {
            action = Action::Withdraw;
        }
        let context = NoticeContext::from_catalog(&catalog, &purpose_id).unwrap();
        let event = ConsentEvent {
            seq,
            event: NewEvent {
                subject: subject(who),
                purpose: purpose_id.clone(),
                action,
                source: if seq % 2 == 0 {
                    Source::PreferenceCenter
                } else {
                    Source::Banner
                },
                catalog_version: 1,
                notice_digest: purpose.notice_digest(&locale, &catalog.taxonomy),
                locale,
                recorded_at: Timestamp::from_unix_millis(1_795_000_000_000 + seq as i64 * 61_001),
                context_digest: context.digest(),
            },
        };
        let entry = LedgerEntry::for_event(&event, &salt(who), &context);
        tree.push(entry.leaf_hash());
        events.push(event);
        entries.push(entry);
    }
    Ledger {
        catalog,
        events,
        entries,
        tree,
    }
}

impl Ledger {
    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size: self.tree.size(),
            root: self.tree.root(),
        }
    }

    fn receipt(&self, seq: u64, key: &LogKey) -> Receipt {
        let i = (seq - 1) as usize;
        let event = &self.events[i];
        let who = (seq % 3) as u8;
        let context = NoticeContext::from_catalog(&self.catalog, &event.event.purpose).unwrap();
        let proof = ReceiptProof {
            leaf_index: seq - 1,
            tree_size: self.tree.size(),
            inclusion: inclusion_proof(self.tree.size(), seq - 1, &self.tree).unwrap(),
            checkpoint: sign(&self.checkpoint(), key).unwrap(),
        };
        Receipt::issue(&self.entries[i], &subject(who), &salt(who), &context, proof).unwrap()
    }
}

// ---------------------------------------------------------------------------------------
// Checkpoints and signed notes

#[test]
fn a_signed_checkpoint_opens_with_the_log_key() {
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 57,
        root: [0x11; 32],
    };
    let note = sign(&checkpoint, &key(1)).unwrap();
    let text = "keuze.example/ledger\n57\nERERERERERERERERERERERERERERERERERERERERERE=\n";
    assert!(note.starts_with(&format!("{text}\n\u{2014} {ORIGIN} ")));
    assert!(note.ends_with('\n'));
    assert_eq!(open(&note, &[key(1).verifier()]).unwrap(), checkpoint);
    assert_eq!(Checkpoint::parse_note_text(text).unwrap(), checkpoint);

    // The signature is base64(key ID ‖ 64-byte signature) and the key ID is the C2SP one.
    let sig_line = note.lines().last().unwrap();
    let blob = base64_decode(sig_line.rsplit(' ').next().unwrap());
    assert_eq!(blob.len(), 68);
    assert_eq!(blob[..4], key(1).key_id());
    let independent = independent_signature_line([1; 32], ORIGIN, text);
    assert_eq!(note, format!("{text}\n{independent}\n"));
}

#[test]
fn checkpoint_text_is_parsed_strictly() {
    let root = "ERERERERERERERERERERERERERERERERERERERERERE=";
    let ok = |t: &str| Checkpoint::parse_note_text(t);
    assert!(ok(&format!("o\n0\n{root}\n")).is_ok());
    assert!(matches!(
        ok(&format!("o\n057\n{root}\n")),
        Err(CheckpointError::BadSize(_))
    ));
    assert!(matches!(
        ok(&format!("o\n+57\n{root}\n")),
        Err(CheckpointError::BadSize(_))
    ));
    assert!(matches!(
        ok(&format!("o\n 57\n{root}\n")),
        Err(CheckpointError::BadSize(_))
    ));
    assert!(matches!(
        ok(&format!("o\n\n{root}\n")),
        Err(CheckpointError::BadSize(_))
    ));
    assert!(matches!(
        ok(&format!("o\n18446744073709551616\n{root}\n")),
        Err(CheckpointError::BadSize(_))
    ));
    assert_eq!(
        ok(&format!("o\n57\n{root}")),
        Err(CheckpointError::MissingFinalNewline)
    );
    assert_eq!(
        ok(&format!("\n57\n{root}\n")),
        Err(CheckpointError::BadOrigin)
    );
    assert_eq!(
        ok(&format!("a b\n57\n{root}\n")),
        Err(CheckpointError::BadOrigin)
    );
    assert_eq!(ok("o\n57\n"), Err(CheckpointError::MissingLine(3)));
    assert_eq!(
        ok(&format!("o\n57\n{root}\next\n")),
        Err(CheckpointError::ExtensionLines)
    );
    // Not 32 bytes, unpadded, URL-safe alphabet, non-canonical trailing bits.
    for bad in [
        "ERERERERERERERERERERERERERERERERERERERERER==",
        "ERERERERERERERERERERERERERERERERERERERERERE",
        "____________________________________________",
        "ERERERERERERERERERERERERERERERERERERERERERF=",
    ] {
        assert!(
            matches!(
                ok(&format!("o\n57\n{bad}\n")),
                Err(CheckpointError::BadRoot(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn the_log_signs_only_under_its_own_name() {
    let checkpoint = Checkpoint {
        origin: "other.example/log".into(),
        size: 1,
        root: [0; 32],
    };
    assert!(matches!(
        sign(&checkpoint, &key(1)),
        Err(NoteError::OriginIsNotKeyName { .. })
    ));
    assert!(matches!(
        LogKey::from_seed([1; 32], "a+b"),
        Err(KeyError::BadName(_))
    ));
    assert!(matches!(
        LogKey::from_seed([1; 32], ""),
        Err(KeyError::BadName(_))
    ));
}

#[test]
fn verifier_keys_round_trip_and_are_checked() {
    let v = key(1).verifier();
    let s = key(1).verifier_key_string();
    let parts: Vec<&str> = s.split('+').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], ORIGIN);
    assert_eq!(parts[1], hex::encode(key(1).key_id()));
    assert_eq!(base64_decode(parts[2])[0], 0x01);
    assert_eq!(base64_decode(parts[2]).len(), 33);
    assert_eq!(LogVerifier::parse(&s).unwrap(), v);
    assert_eq!(s.parse::<LogVerifier>().unwrap().to_string(), s);

    let wrong_id = format!("{}+00000000+{}", parts[0], parts[2]);
    assert!(matches!(
        LogVerifier::parse(&wrong_id),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    // The key ID covers the name: the same public key under another name is another key.
    let renamed = format!("other.example+{}+{}", parts[1], parts[2]);
    assert!(matches!(
        LogVerifier::parse(&renamed),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    assert!(LogVerifier::parse(&format!("{ORIGIN}+{}", parts[1])).is_err());
    assert!(LogVerifier::parse(&format!("{s}+x")).is_err());
    assert!(LogVerifier::parse(&s.to_uppercase()).is_err());
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let k = key(0xab);
    let shown = format!("{k:?}");
    assert!(shown.contains(ORIGIN));
    assert!(!shown.to_lowercase().contains("abababab"));
    assert!(!shown.contains(&format!("{:?}", [0xabu8; 4])));
    assert_eq!(format!("{:?}", salt(1)), "SubjectSalt(<redacted>)");
}

#[test]
fn key_rotation_keeps_old_checkpoints_verifiable() {
    let (old, new, stranger) = (key(1), key(2), key(3));
    assert_eq!(old.name(), new.name());
    assert_ne!(old.key_id(), new.key_id());
    let trusted = [old.verifier(), new.verifier()];
    let before = Checkpoint {
        origin: ORIGIN.into(),
        size: 10,
        root: [1; 32],
    };
    let after = Checkpoint {
        origin: ORIGIN.into(),
        size: 20,
        root: [2; 32],
    };
    let by_old = sign(&before, &old).unwrap();
    let by_new = sign(&after, &new).unwrap();
    assert_eq!(open(&by_old, &trusted).unwrap(), before);
    assert_eq!(open(&by_new, &trusted).unwrap(), after);
    // Once the old key is retired from the trusted set, only new notes open.
    assert!(matches!(
        open(&by_old, &[new.verifier()]),
        Err(NoteError::NoKnownSignature { .. })
    ));
    // A key with the log's name that nobody trusts is ignored, so it proves nothing.
    let by_stranger = sign(&after, &stranger).unwrap();
    assert!(matches!(
        open(&by_stranger, &trusted),
        Err(NoteError::NoKnownSignature { .. })
    ));
    // Unknown signatures (a witness, a future key) next to a known one are ignored.
    let cosigned = format!("{by_new}{}", by_stranger.lines().last().unwrap()) + "\n";
    assert_eq!(open(&cosigned, &trusted).unwrap(), after);
    let witness = LogKey::from_seed([9; 32], "witness.example/w1").unwrap();
    let witness_sig =
        independent_signature_line([9; 32], "witness.example/w1", &after.to_note_text());
    let with_witness = format!("{by_new}{witness_sig}\n");
    assert_eq!(open(&with_witness, &trusted).unwrap(), after);
    // A known witness's valid signature alone is not the log's signature.
    let only_witness = format!("{}\n{witness_sig}\n", after.to_note_text());
    assert!(matches!(
        open(&only_witness, &[witness.verifier()]),
        Err(NoteError::NoKnownSignature { .. })
    ));
}

/// A signature line over `text` by the Ed25519 key with `seed`, named `name`, computed
/// here from the C2SP rules rather than by the crate: a witness cosigning the log.
fn independent_signature_line(seed: [u8; 32], name: &str, text: &str) -> String {
    use ed25519_dalek::Signer;
    use sha2::{Digest, Sha256};
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, 0x01]);
    h.update(sk.verifying_key().as_bytes());
    let mut blob = h.finalize()[..4].to_vec();
    blob.extend_from_slice(&sk.sign(text.as_bytes()).to_bytes());
    format!("\u{2014} {name} {}", base64_encode(&blob))
}

#[test]
fn a_bad_signature_by_a_known_key_rejects_the_note() {
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 3,
        root: [7; 32],
    };
    let note = sign(&checkpoint, &key(1)).unwrap();
    let trusted = [key(1).verifier()];

    // Changed text, same signature.
    let forged = note.replacen("\n3\n", "\n4\n", 1);
    assert!(matches!(
        open(&forged, &trusted),
        Err(NoteError::BadSignature { .. })
    ));

    // Changed signature bytes (keep the key ID so the key is still "known").
    let line = note.lines().last().unwrap();
    let b64 = line.rsplit(' ').next().unwrap();
    let mut blob = base64_decode(b64);
    blob[10] ^= 1;
    let tampered = note.replace(b64, &base64_encode(&blob));
    assert!(matches!(
        open(&tampered, &trusted),
        Err(NoteError::BadSignature { .. })
    ));

    // A bad known signature next to a good one still rejects the note.
    let both = format!("{note}{}\n", tampered.lines().last().unwrap());
    assert!(matches!(
        open(&both, &trusted),
        Err(NoteError::BadSignature { .. })
    ));

    // Truncated signature by a known key.
    let short = note.replace(b64, &base64_encode(&blob[..40]));
    assert!(matches!(
        open(&short, &trusted),
        Err(NoteError::BadSignature { .. })
    ));

    // Malformed notes.
    assert!(matches!(
        open(&note.replace('\u{2014}', "-"), &trusted),
        Err(NoteError::MalformedSignature { .. })
    ));
    assert!(matches!(
        open(note.trim_end(), &trusted),
        Err(NoteError::MalformedSignature { .. })
    ));
    assert!(matches!(
        open(&checkpoint.to_note_text(), &trusted),
        Err(NoteError::NoSignatureBlock)
    ));
    assert!(matches!(
        open(&note.replacen('\n', "\r\n", 1), &trusted),
        Err(NoteError::ControlCharacter)
    ));
}

// ---------------------------------------------------------------------------------------
// Leaves and receipts

#[test]
fn a_leaf_commits_to_the_event_without_personal_data_in_the_clear() {
    let l = ledger();
    let entry = &l.entries[0];
    let bytes = String::from_utf8(entry.canonical_bytes()).unwrap();
    let context = NoticeContext::from_catalog(&l.catalog, &entry.purpose).unwrap();
    let want = format!(
        "keuze-ledger-entry-v1\n\
         seq=1\n\
         subject_commitment={}\n\
         purpose=service_analytics\n\
         action=object\n\
         source=banner\n\
         catalog_version=1\n\
         notice_digest={}\n\
         locale=en\n\
         recorded_at_ms=1795000061001\n\
         context_digest={}\n",
        subject_commitment(&salt(1).0, &subject(1)).to_hex(),
        entry.notice_digest.to_hex(),
        context.digest().to_hex(),
    );
    assert_eq!(bytes, want);
    assert!(!bytes.contains(&subject(1).to_hex()));
    assert!(!bytes.contains("Fietsenwinkel"));
    // The commitment is salted: another salt, another commitment.
    assert_ne!(
        subject_commitment(&salt(1).0, &subject(1)),
        subject_commitment(&salt(2).0, &subject(1))
    );
}

#[test]
fn the_notice_context_is_jcs_canonical_json() {
    // Keys sorted, no whitespace, strings escaped as JSON.stringify does (RFC 8785).
    let context = NoticeContext {
        controller: Controller {
            name: "Café \"De Ketel\"".into(),
            contact: "https://ketel.example/contact".into(),
            privacy_contact: "privacy@ketel.example".into(),
            country: "BE".parse().unwrap(),
        },
        purpose: PurposeContext {
            id: PurposeId::parse("newsletter").unwrap(),
            title: "News\tletter\u{1}\n</b>".into(),
            legal_basis: LegalBasis::Consent,
            data_categories: vec![
                "contact.email".parse().unwrap(),
                "contact.name".parse().unwrap(),
            ],
        },
    };
    assert_eq!(
        context.canonical_json(),
        r#"{"controller":{"contact":"https://ketel.example/contact","country":"BE","name":"Café \"De Ketel\"","privacy_contact":"privacy@ketel.example"},"purpose":{"data_categories":["contact.email","contact.name"],"id":"newsletter","legal_basis":"consent","title":"News\tletter\u0001\n</b>"}}"#
    );
}

#[test]
fn every_receipt_of_a_ledger_verifies() {
    let l = ledger();
    let k = key(1);
    for seq in 1..=13 {
        let receipt = l.receipt(seq, &k);
        let verified = verify_receipt(&receipt, &[k.verifier()]).unwrap();
        assert_eq!(verified.entry, l.entries[(seq - 1) as usize]);
        assert_eq!(verified.checkpoint, l.checkpoint());
        // And survives a JSON round trip.
        let json = serde_json::to_string_pretty(&receipt).unwrap();
        let back: Receipt = serde_json::from_str(&json).unwrap();
        assert_eq!(back, receipt);
        verify_receipt(&back, &[k.verifier()]).unwrap();
    }
    let erase = LedgerEntry {
        action: EntryAction::Erase,
        ..l.entries[0].clone()
    };
    assert!(String::from_utf8(erase.canonical_bytes())
        .unwrap()
        .contains("\naction=erase\n"));
}

#[test]
fn receipts_stay_verifiable_across_a_key_rotation() {
    let l = ledger();
    let (old, new) = (key(1), key(2));
    let before = l.receipt(5, &old);
    let after = l.receipt(5, &new);
    let trusted = [old.verifier(), new.verifier()];
    verify_receipt(&before, &trusted).unwrap();
    verify_receipt(&after, &trusted).unwrap();
    assert!(matches!(
        verify_receipt(&before, &[key(3).verifier()]),
        Err(ReceiptError::Checkpoint(NoteError::NoKnownSignature { .. }))
    ));
}

#[test]
fn a_receipt_is_issued_only_for_the_entry_it_describes() {
    let l = ledger();
    let entry = &l.entries[0];
    let context = NoticeContext::from_catalog(&l.catalog, &entry.purpose).unwrap();
    let other =
        NoticeContext::from_catalog(&l.catalog, &PurposeId::parse("newsletter").unwrap()).unwrap();
    let proof = l.receipt(1, &key(1)).proof;
    let issue = |s: SubjectId, salt: SubjectSalt, c: &NoticeContext, leaf_index: u64| {
        Receipt::issue(
            entry,
            &s,
            &salt,
            c,
            ReceiptProof {
                leaf_index,
                ..proof.clone()
            },
        )
    };
    assert!(issue(subject(1), salt(1), &context, 0).is_ok());
    assert_eq!(
        issue(subject(1), salt(2), &context, 0),
        Err(IssueError::SubjectMismatch)
    );
    assert_eq!(
        issue(subject(2), salt(1), &context, 0),
        Err(IssueError::SubjectMismatch)
    );
    assert!(matches!(
        issue(subject(1), salt(1), &other, 0),
        Err(IssueError::PurposeMismatch { .. })
    ));
    let mut renamed = context.clone();
    renamed.controller.name.push('!');
    assert_eq!(
        issue(subject(1), salt(1), &renamed, 0),
        Err(IssueError::ContextMismatch)
    );
    assert!(matches!(
        issue(subject(1), salt(1), &context, 1),
        Err(IssueError::LeafIndexMismatch { .. })
    ));
}

/// Every way to change one value of a JSON document: each leaf string and number gets
/// several edits, each array loses, gains and reorders an element, each object gains an
/// unknown key and loses each key.
fn mutations(v: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(v, "", &mut |path, node| {
        let edits: Vec<Value> = match node {
            Value::String(s) => string_edits(s).into_iter().map(Value::String).collect(),
            Value::Number(n) => {
                let n = n.as_i64().unwrap();
                vec![Value::from(n + 1), Value::from(n - 1), Value::from(0)]
                    .into_iter()
                    .filter(|x| x.as_i64() != Some(n))
                    .collect()
            }
            Value::Array(items) => {
                let mut e = vec![];
                if !items.is_empty() {
                    e.push(Value::Array(items[1..].to_vec()));
                    let mut dup = items.clone();
                    dup.push(items[0].clone());
                    e.push(Value::Array(dup));
                }
                if items.len() > 1 {
                    let mut rev = items.clone();
                    rev.reverse();
                    if rev != *items {
                        e.push(Value::Array(rev));
                    }
                }
                e
            }
            Value::Object(map) => {
                let mut e = vec![];
                let mut extra = map.clone();
                extra.insert("extra".into(), Value::from("x"));
                e.push(Value::Object(extra));
                for k in map.keys() {
                    let mut less = map.clone();
                    less.remove(k);
                    e.push(Value::Object(less));
                }
                e
            }
            _ => vec![],
        };
        for edit in edits {
            let mut doc = v.clone();
            *doc.pointer_mut(path).unwrap() = edit;
            out.push((path.to_owned(), doc));
        }
    });
    out
}

fn walk(v: &Value, path: &str, f: &mut dyn FnMut(&str, &Value)) {
    f(path, v);
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                walk(child, &format!("{path}/{k}"), f);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{path}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// Edits of a string that keep its shape where possible, so many of them still parse and
/// reach the cryptographic checks.
fn string_edits(s: &str) -> Vec<String> {
    let mut e = vec![
        format!("{s}0"),
        String::new(),
        s.to_uppercase(),
        format!(" {s}"),
    ];
    if let Some(last) = s.chars().last() {
        let replacement = match last {
            '0'..='8' | 'a'..='e' => char::from(last as u8 + 1),
            '9' => '0',
            'f' => 'a',
            'g'..='y' | 'A'..='Y' => char::from(last as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            _ => 'x',
        };
        let mut t: String = s.chars().take(s.chars().count() - 1).collect();
        t.push(replacement);
        e.push(t);
    }
    if let Some(first) = s.chars().next() {
        let replacement = match first {
            '0'..='8' | 'a'..='e' => char::from(first as u8 + 1),
            '9' => '0',
            'f' => 'a',
            _ => 'b',
        };
        let t: String = std::iter::once(replacement)
            .chain(s.chars().skip(1))
            .collect();
        e.push(t);
    }
    e.retain(|t| t != s);
    e
}

#[test]
fn changing_any_value_of_a_receipt_makes_it_fail() {
    let l = ledger();
    let k = key(1);
    let trusted = [k.verifier()];
    let receipt = l.receipt(7, &k);
    let doc = serde_json::to_value(&receipt).unwrap();

    let mut reached_verification = std::collections::BTreeMap::<String, usize>::new();
    let all = mutations(&doc);
    assert!(all.len() > 150, "only {} mutations", all.len());
    for (path, changed) in all {
        let Ok(parsed) = serde_json::from_value::<Receipt>(changed.clone()) else {
            continue;
        };
        if let Ok(v) = verify_receipt(&parsed, &trusted) {
            panic!("changing {path} still verified: {changed}\n{v:?}");
        }
        *reached_verification.entry(path).or_default() += 1;
    }
    // Every scalar field had at least one edit that parsed and was caught by verification,
    // not only by the parser.
    walk(&doc, "", &mut |path, node| {
        if matches!(node, Value::String(_) | Value::Number(_))
            && !matches!(
                path,
                // Closed vocabularies: any edit of their spelling is refused by the parser;
                // their other valid values are tried below.
                "/purpose/legal_basis" | "/event/action" | "/event/source" | "/notice/locale"
            )
        {
            assert!(
                reached_verification.get(path).copied().unwrap_or(0) > 0,
                "no edit of {path} reached verification"
            );
        }
    });

    // Valid other values of the closed vocabularies, and of ids and codes.
    let swaps = [
        ("/purpose/legal_basis", "consent"),
        ("/purpose/legal_basis", "contract"),
        ("/event/action", "grant"),
        ("/event/action", "erase"),
        ("/event/source", "api"),
        ("/event/source", "preference_center"),
        ("/notice/locale", "nl"),
        ("/purpose/id", "newsletter"),
        ("/purpose/data_categories/0", "contact.email"),
        ("/controller/country", "BE"),
    ];
    for (path, value) in swaps {
        let mut changed = doc.clone();
        assert_ne!(
            changed.pointer(path).unwrap(),
            &Value::from(value),
            "{path}"
        );
        *changed.pointer_mut(path).unwrap() = Value::from(value);
        let parsed: Receipt = serde_json::from_value(changed).unwrap();
        assert!(
            matches!(
                verify_receipt(&parsed, &trusted),
                Err(ReceiptError::NotIncluded {
                    source: ProofError::RootMismatch,
                    ..
                })
            ),
            "{path} = {value}"
        );
    }
}

#[test]
fn receipt_errors_name_the_check_that_failed() {
    let l = ledger();
    let k = key(1);
    let trusted = [k.verifier()];
    let good = l.receipt(7, &k);
    let check = |edit: &dyn Fn(&mut Receipt)| {
        let mut r = good.clone();
        edit(&mut r);
        verify_receipt(&r, &trusted).unwrap_err()
    };
    assert_eq!(
        check(&|r| r.version = 2),
        ReceiptError::UnsupportedVersion(2)
    );
    assert!(matches!(
        check(&|r| r.proof.tree_size = 14),
        ReceiptError::TreeSizeMismatch {
            receipt: 14,
            checkpoint: 13
        }
    ));
    assert!(matches!(
        check(&|r| r.proof.leaf_index = 7),
        ReceiptError::LeafIndexMismatch {
            seq: 7,
            leaf_index: 7,
            expected: 6
        }
    ));
    assert!(matches!(
        check(&|r| r.event.recorded_at_ms += 1),
        ReceiptError::TimeMismatch { .. }
    ));
    assert!(matches!(
        check(&|r| r.subject.salt.0[0] ^= 1),
        ReceiptError::NotIncluded {
            leaf_index: 6,
            source: ProofError::RootMismatch
        }
    ));
    assert!(matches!(
        check(&|r| {
            r.proof.inclusion.pop();
        }),
        ReceiptError::NotIncluded {
            source: ProofError::WrongLength,
            ..
        }
    ));
    // A tampered checkpoint signature.
    let b64 = good
        .proof
        .checkpoint
        .lines()
        .last()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap();
    let mut blob = base64_decode(b64);
    blob[20] ^= 0x80;
    let bad_sig = good.proof.checkpoint.replace(b64, &base64_encode(&blob));
    assert!(matches!(
        check(&|r| r.proof.checkpoint = bad_sig.clone()),
        ReceiptError::Checkpoint(NoteError::BadSignature { .. })
    ));
    // A checkpoint the log really signed, but for another root: the proof fails.
    let other = Checkpoint {
        root: [0; 32],
        ..l.checkpoint()
    };
    let other_note = sign(&other, &k).unwrap();
    assert!(matches!(
        check(&|r| r.proof.checkpoint = other_note.clone()),
        ReceiptError::NotIncluded {
            source: ProofError::RootMismatch,
            ..
        }
    ));
    // Each error says what to look at.
    let shown = check(&|r| r.proof.tree_size = 14).to_string();
    assert!(shown.contains("tree_size"), "{shown}");
}

#[test]
fn the_example_in_the_docs_verifies() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/receipts.md"
    ))
    .unwrap();
    let block = |marker: &str| -> String {
        let start = doc
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} missing"));
        let rest = &doc[start..];
        let open = rest.find("```").unwrap();
        let body = &rest[open..];
        let body = &body[body.find('\n').unwrap() + 1..];
        body[..body.find("```").unwrap()].to_owned()
    };
    let verifier = LogVerifier::parse(block("<!-- example-verifier -->").trim()).unwrap();
    let receipt: Receipt = serde_json::from_str(&block("<!-- example-receipt -->")).unwrap();
    let verified = verify_receipt(&receipt, &[verifier]).unwrap();
    assert_eq!(
        hex::encode(verified.leaf_hash),
        "12fb2e2b11c730e056eac3f18c1701252b1cd62843b1c5c6270aeb361be0e9aa"
    );
    assert!(doc.contains(&hex::encode(verified.leaf_hash)));
    let leaf_text = block("<!-- example-leaf -->");
    assert_eq!(
        String::from_utf8(verified.entry.canonical_bytes()).unwrap(),
        leaf_text
    );
    let context = block("<!-- example-context -->");
    let ctx = NoticeContext {
        controller: receipt.controller.clone(),
        purpose: receipt.purpose.clone(),
    };
    assert_eq!(ctx.canonical_json(), context.trim_end());
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn the_log_refuses_to_sign_a_checkpoint_that_rewrites_history() {
    let l = ledger();
    let k = key(1);
    let mut prefix = MemoryTree::new();
    for entry in &l.entries[..5] {
        prefix.push(entry.leaf_hash());
    }
    let previous = Checkpoint {
        origin: ORIGIN.into(),
        size: 5,
        root: prefix.root(),
    };
    let next = l.checkpoint();
    let proof = consistency_proof(5, 13, &l.tree).unwrap();
    let note = sign_consistent(&previous, &next, &proof, &k).unwrap();
    assert_eq!(open(&note, &[k.verifier()]).unwrap(), next);

    // A tree whose fifth leaf was rewritten is not an extension of the signed one.
    let mut rewritten = MemoryTree::new();
    for (i, entry) in l.entries.iter().enumerate() {
        let mut entry = entry.clone();
        if i == 4 {
            entry.action = EntryAction::Grant;
        }
        rewritten.push(entry.leaf_hash());
    }
    let forked = Checkpoint {
        root: rewritten.root(),
        ..next.clone()
    };
    let proof = consistency_proof(5, 13, &rewritten).unwrap();
    assert!(matches!(
        sign_consistent(&previous, &forked, &proof, &k),
        Err(NoteError::Inconsistent(_))
    ));
    // Nor is a smaller tree.
    assert!(matches!(
        sign_consistent(&next, &previous, &[], &k),
        Err(NoteError::Inconsistent(_))
    ));
}

/// Regression: standard base64 uses `+`, so a verifier key string may hold more than two
/// of them; every key's own string must parse back to it.
#[test]
fn verifier_keys_with_a_plus_in_their_base64_parse() {
    let mut with_plus = 0;
    for i in 0..64u8 {
        let key = keuze_core::checkpoint::LogKey::from_seed([i; 32], "keuze.test/log").unwrap();
        let s = key.verifier_key_string();
        if s.matches('+').count() > 2 {
            with_plus += 1;
        }
        let parsed = keuze_core::checkpoint::LogVerifier::parse(&s).unwrap();
        assert_eq!(parsed.key_id(), key.key_id(), "{s}");
    }
    assert!(with_plus > 0, "no key among the 64 had a `+` in its base64");
}
