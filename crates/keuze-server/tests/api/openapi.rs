use crate::helpers::spawn_app;
use serde_json::Value;

/// Every route the server answers is in the OpenAPI document, and every documented
/// route is answered (neither 404 nor 405).
#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let app = spawn_app().await;
    let doc: Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let expected = [
        "DELETE /v1/webhooks/{id}",
        "GET /.well-known/gpc.json",
        "GET /banner.js",
        "GET /banner/demo",
        "GET /healthz",
        "GET /me",
        "GET /me/export",
        "GET /me/receipts/{seq}",
        "GET /metrics",
        "GET /privacy",
        "GET /privacy.json",
        "GET /privacy/changes",
        "GET /privacy/incidents",
        "GET /v1/audit/events",
        "GET /v1/banner/decide",
        "GET /v1/banner/prompt",
        "GET /v1/catalog",
        "GET /v1/incidents",
        "GET /v1/incidents/{number}",
        "GET /v1/log/checkpoint",
        "GET /v1/log/keys",
        "GET /v1/log/proof/consistency",
        "GET /v1/log/proof/inclusion",
        "GET /v1/openapi.json",
        "GET /v1/subjects/{pseudonym}/changes",
        "GET /v1/subjects/{pseudonym}/history",
        "GET /v1/subjects/{pseudonym}/prompt",
        "GET /v1/subjects/{pseudonym}/state",
        "GET /v1/subjects/{pseudonym}/tcf",
        "GET /v1/webhooks",
        "GET /v1/webhooks/{id}/dead-letters",
        "POST /me/choices",
        "POST /me/erase",
        "POST /me/incidents",
        "POST /me/presets",
        "POST /v1/banner/choices",
        "POST /v1/catalog/versions",
        "POST /v1/consents",
        "POST /v1/decide",
        "POST /v1/decide/batch",
        "POST /v1/incidents",
        "POST /v1/incidents/{number}/audience",
        "POST /v1/incidents/{number}/notify",
        "POST /v1/incidents/{number}/publish",
        "POST /v1/receipts",
        "POST /v1/sessions",
        "POST /v1/subjects/changes",
        "POST /v1/subjects/device",
        "POST /v1/subjects/erase",
        "POST /v1/subjects/history",
        "POST /v1/subjects/link",
        "POST /v1/subjects/prompt",
        "POST /v1/subjects/state",
        "POST /v1/subjects/tcf",
        "POST /v1/tcf/decode",
        "POST /v1/webhooks",
        "POST /v1/webhooks/{id}/replay",
    ];
    assert_eq!(documented, expected);

    let pseudonym = "ab".repeat(32);
    for route in &documented {
        let (method, path) = route.split_once(' ').unwrap();
        let url = format!("{}{}", app.base, path.replace("{pseudonym}", &pseudonym));
        let req = match method {
            "GET" => app.client.get(&url),
            "DELETE" => app.client.delete(&url),
            _ => app
                .client
                .post(&url)
                .header("content-type", "application/json")
                .body("{}"),
        };
        let res = req.bearer_auth(&app.key).send().await.unwrap();
        let status = res.status().as_u16();
        // A handler's own 404 (say, no checkpoint yet) is a problem; the router's is not.
        let handled = res
            .headers()
            .get("content-type")
            .is_some_and(|c| c == "application/problem+json");
        assert!(
            (status != 404 || handled) && status != 405,
            "{route} answered {status}"
        );
    }

    // A route that is not in the document does not exist.
    let res = app.get("/v1/not-a-route").await;
    assert_eq!(res.status(), 404);
    assert!(res
        .headers()
        .get("content-type")
        .is_none_or(|c| c != "application/problem+json"));
}
