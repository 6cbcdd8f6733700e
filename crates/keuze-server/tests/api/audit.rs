//! The audit trail over HTTP: every admin action is exactly one ledger entry naming who
//! did it and to what, readable with the `audit` scope only, provable like any leaf, and
//! covered by `keuze ledger verify`. A revoked key stops authenticating.

use crate::helpers::{problem, spawn_app, TestApp, T0};
use keuze_app::keys::KEY_CACHE_TTL_MS;
use keuze_core::admin::{Actor, AdminEntry, Attribution};
use keuze_core::catalog::SAMPLE_CATALOG;
use keuze_core::checkpoint::{open, LogKey};
use keuze_core::merkle::{hash_from_hex, hash_to_hex, verify_inclusion};
use keuze_core::Timestamp;
use keuze_store::Scope;
use serde_json::{json, Value};

/// The public id of a full key `kz_<id>_<secret>`.
fn key_id(key: &str) -> &str {
    &key[3..19]
}

async fn trail(app: &TestApp) -> Vec<Value> {
    let res = app.get("/v1/audit/events?limit=1000").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

/// Runs `action` and returns the one audit entry it added (failing if it added none or
/// several).
async fn only_new_entry<F: std::future::Future<Output = ()>>(app: &TestApp, action: F) -> Value {
    let before = trail(app).await;
    action.await;
    let after = trail(app).await;
    assert_eq!(
        after.len(),
        before.len() + 1,
        "exactly one new entry: {after:#?}"
    );
    assert_eq!(
        after[..before.len()],
        before[..],
        "the older entries stay as they were"
    );
    after.last().unwrap().clone()
}

#[tokio::test]
async fn the_setup_is_audited_as_the_command_line() {
    let app = spawn_app().await;
    let entries = trail(&app).await;
    let summary: Vec<(u64, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    let key = format!("key:{}", key_id(&app.key));
    assert_eq!(
        summary,
        [
            (1, "catalog_published", "cli:test", "catalog:1"),
            (2, "key_created", "cli:test", key.as_str()),
        ]
    );
    assert_eq!(
        entries[1]["detail"],
        json!({"scopes": "decide,record,admin,audit"})
    );
    assert_eq!(entries[0]["recorded_at"], T0.to_rfc3339());
}

#[tokio::test]
async fn each_admin_action_is_one_entry_with_its_actor_and_target() {
    let app = spawn_app().await;
    let actor = format!("key:{}", key_id(&app.key));

    // A catalog published through the API.
    let next = SAMPLE_CATALOG.replacen(
        "It has news, tips and deals.",
        "It has news, tips and offers.",
        1,
    );
    assert_ne!(next, SAMPLE_CATALOG);
    let published = only_new_entry(&app, async {
        let res = app
            .client
            .post(format!("{}/v1/catalog/versions", app.base))
            .bearer_auth(&app.key)
            .header("content-type", "application/toml")
            .body(next.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    })
    .await;
    assert_eq!(published["action"], "catalog_published");
    assert_eq!(published["actor"], actor);
    assert_eq!(published["target"], "catalog:2");
    let digest = app.state.catalog().current().digest.to_hex();
    assert_eq!(published["detail"], json!({ "digest": digest }));

    // The same catalog again publishes nothing, and records nothing.
    let before = trail(&app).await.len();
    let res = app
        .client
        .post(format!("{}/v1/catalog/versions", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/toml")
        .body(next)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(trail(&app).await.len(), before);

    // A webhook: its origin only, never the path or query a receiver may put a token in.
    let mut hook_id = String::new();
    let created = only_new_entry(&app, async {
        let res = app
            .post(
                "/v1/webhooks",
                &json!({"url": "https://crm.example:8443/hooks/keuze?token=s3cr3t"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        hook_id = body["id"].as_str().unwrap().to_owned();
    })
    .await;
    assert_eq!(created["action"], "webhook_created");
    assert_eq!(created["actor"], actor);
    assert_eq!(created["target"], format!("webhook:{hook_id}"));
    assert_eq!(
        created["detail"],
        json!({"origin": "https://crm.example:8443"})
    );
    assert!(!created.to_string().contains("s3cr3t"));

    let deleted = only_new_entry(&app, async {
        let res = app
            .client
            .delete(format!("{}/v1/webhooks/{hook_id}", app.base))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    })
    .await;
    assert_eq!(deleted["action"], "webhook_deleted");
    assert_eq!(deleted["target"], format!("webhook:{hook_id}"));
    // Deleting a webhook that is not there is a 404 and records nothing.
    let before = trail(&app).await.len();
    let res = app
        .client
        .delete(format!("{}/v1/webhooks/{hook_id}", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    assert_eq!(trail(&app).await.len(), before);

    // An erasure: the seq range of its erase entries, nothing of the subject.
    app.record("erin@example.com", &[("newsletter", "grant")])
        .await;
    let mut erase_seqs = Vec::new();
    let erased = only_new_entry(&app, async {
        let res = app
            .post(
                "/v1/subjects/erase",
                &json!({"subject": {"id": "erin@example.com"}}),
            )
            .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        erase_seqs = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
    })
    .await;
    let (first, last) = (erase_seqs[0], *erase_seqs.last().unwrap());
    assert_eq!(erased["action"], "subject_erased");
    assert_eq!(erased["actor"], actor);
    assert_eq!(erased["target"], format!("ledger:{first}-{last}"));
    assert_eq!(erased["seq"], last + 1, "right after its erase entries");
    assert_eq!(
        erased["detail"],
        json!({"entries": erase_seqs.len().to_string()})
    );
    let pseudonym = app
        .state
        .pseudonymizer()
        .pseudonym(&keuze_core::SubjectKey::Customer("erin@example.com".into()))
        .to_hex();
    let everything = json!(trail(&app).await).to_string();
    for secret in ["erin", pseudonym.as_str()] {
        assert!(
            !everything.contains(secret),
            "{secret} is in the audit trail"
        );
    }
    // An erasure refused (erased before) records nothing.
    let before = trail(&app).await.len();
    let res = app
        .post(
            "/v1/subjects/erase",
            &json!({"subject": {"id": "erin@example.com"}}),
        )
        .await;
    problem(res, 410).await;
    assert_eq!(trail(&app).await.len(), before);

    // The ledger, admin entries and all, verifies.
    let keys = vec![LogKey::from_seed([5; 32], "keuze.test/log")
        .unwrap()
        .verifier()];
    app.get("/v1/log/checkpoint").await;
    let report = keuze_app::audit::verify_ledger(&*app.store, &keys, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.admin_entries, 6);
    assert_eq!(report.events, app.store.event_count().await.unwrap());
    assert!(report.checkpoints >= 1);
}

#[tokio::test]
async fn the_audit_trail_needs_the_audit_scope() {
    let app = spawn_app().await;
    let everything_but_audit = app
        .key_with(&[Scope::Decide, Scope::Record, Scope::Admin])
        .await;
    let res = app
        .client
        .get(format!("{}/v1/audit/events", app.base))
        .bearer_auth(&everything_but_audit)
        .send()
        .await
        .unwrap();
    let body = problem(res, 403).await;
    assert!(
        body["detail"].as_str().unwrap().contains("`audit`"),
        "{body}"
    );
    let res = app
        .client
        .get(format!("{}/v1/audit/events", app.base))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;

    let audit_only = app.key_with(&[Scope::Audit]).await;
    let res = app
        .client
        .get(format!("{}/v1/audit/events?after=1&limit=1", app.base))
        .bearer_auth(&audit_only)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["seq"], 2);
    assert_eq!(page["next_after"], 2, "a full page points at the next");

    for bad in ["limit=0", "limit=1001", "after=x"] {
        let res = app.get(&format!("/v1/audit/events?{bad}")).await;
        problem(res, 422).await;
    }
}

#[tokio::test]
async fn admin_entries_are_provable_leaves_of_the_signed_log() {
    let app = spawn_app().await;
    app.record("a@example.com", &[("newsletter", "grant")])
        .await;
    app.key_with(&[Scope::Decide]).await;
    let page: Value = app.get("/v1/audit/events").await.json().await.unwrap();
    let size = page["checkpoint_size"].as_u64().unwrap();
    assert_eq!(
        size,
        app.store.tree_size().await.unwrap(),
        "signed when listed"
    );
    let key = LogKey::from_seed([5; 32], "keuze.test/log").unwrap();
    let note = app.get("/v1/log/checkpoint").await.text().await.unwrap();
    let cp = open(&note, &[key.verifier()]).unwrap();
    assert_eq!(cp.size, size);

    let stored: Vec<AdminEntry> = app.store.admin_entries(0, 100).await.unwrap();
    let listed = page["entries"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (view, entry) in listed.iter().zip(&stored) {
        assert_eq!(view["seq"], entry.seq);
        assert_eq!(view["provable"], true);
        let leaf = entry.leaf_hash();
        assert_eq!(view["leaf_hash"], hash_to_hex(&leaf));
        let proof: Value = app
            .get(&format!(
                "/v1/log/proof/inclusion?seq={}&size={size}",
                entry.seq
            ))
            .await
            .json()
            .await
            .unwrap();
        let proof: Vec<_> = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash_from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        verify_inclusion(&leaf, entry.seq - 1, size, &proof, &cp.root).unwrap();
    }
    // A receipt is for consent events only: an admin seq has none.
    let res = app
        .post(
            "/v1/receipts",
            &json!({"subject": {"id": "a@example.com"}, "seq": 1}),
        )
        .await;
    problem(res, 404).await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_within_the_cache_bound() {
    let app = spawn_app().await;
    let decide = |key: String| {
        let app = &app;
        async move {
            app.client
                .post(format!("{}/v1/decide", app.base))
                .bearer_auth(key)
                .json(&json!({"subject": {"id": "a"}, "purpose": "newsletter"}))
                .send()
                .await
                .unwrap()
        }
    };
    let cached = app.key_with(&[Scope::Decide]).await;
    let never_used = app.key_with(&[Scope::Decide]).await;
    assert_eq!(decide(cached.clone()).await.status(), 200, "now cached");

    // Revoked by another process (the command line), as `keuze key revoke` does.
    let by = Attribution::new(Actor::cli(Some("ops")), T0);
    for key in [&cached, &never_used] {
        let entry = app
            .store
            .revoke_api_key(key_id(key), &by)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.target.as_str(), format!("key:{}", key_id(key)));
    }
    let body = problem(decide(never_used).await, 401).await;
    assert!(
        body["detail"].as_str().unwrap().contains("revoked"),
        "{body}"
    );

    // The cached copy is trusted for at most KEY_CACHE_TTL_MS of the server's clock.
    app.clock.set(Timestamp::from_unix_millis(
        T0.unix_millis() + KEY_CACHE_TTL_MS - 1,
    ));
    assert_eq!(
        decide(cached.clone()).await.status(),
        200,
        "within the bound"
    );
    app.clock.set(Timestamp::from_unix_millis(
        T0.unix_millis() + KEY_CACHE_TTL_MS,
    ));
    problem(decide(cached).await, 401).await;

    let trail = trail(&app).await;
    let revoked: Vec<&Value> = trail
        .iter()
        .filter(|e| e["action"] == "key_revoked")
        .collect();
    assert_eq!(revoked.len(), 2);
    assert!(revoked.iter().all(|e| e["actor"] == "cli:ops"));
}
