//! What a careless or hostile client can send: each gets a clear 4xx that names the field, and
//! nothing is stored. None may give a 500.

use serde_json::{Value, json};

use crate::helpers::{Backend, error_field, error_of, session_body, spawn_app};

async fn total_sessions(app: &crate::helpers::TestApp) -> i64 {
    let list: Value = app
        .get("/v1/checkout_sessions", &app.key)
        .await
        .json()
        .await
        .unwrap();
    list["pagination"]["total"].as_i64().unwrap()
}

async fn invalid_fields_are_refused_by_name(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let cases: Vec<(&str, Value)> = vec![
        ("amount", json!(10.5)),
        ("amount", json!(-100)),
        ("amount", json!(0)),
        ("amount", json!(1_000_000_000_001_i64)),
        ("amount", json!(99999999999999999999.0)),
        ("amount", json!("10000")),
        ("amount", json!(true)),
        ("currency_code", json!("GBP")),
        ("currency_code", json!(952)),
        ("quantity", json!(0)),
        ("quantity", json!(1.5)),
        ("quantity", json!(100)),
        ("allow_quantity", json!("yes")),
        ("allowed_providers", json!("SPI,PAYPAL")),
        ("allowed_providers", json!(["SPI"])),
        ("title", json!("")),
        ("title", json!("x".repeat(201))),
        ("public_description", json!("x".repeat(2001))),
        ("customer_email", json!("awa@")),
        ("customer_phone", json!("07 00 00 00")),
        ("customer_id", json!("12345")),
        ("success_url", json!("javascript:alert(document.cookie)")),
        (
            "success_url",
            json!("data:text/html,<script>alert(1)</script>"),
        ),
        ("success_url", json!("/merci")),
        ("success_url", json!("http://shop.example/merci")),
        ("cancel_url", json!("https://")),
        (
            "cancel_url",
            json!(format!("https://shop.example/{}", "a".repeat(2048))),
        ),
        ("metadata", json!({"k": "v".repeat(501)})),
        ("metadata", json!("order=42")),
        ("metadata", json!({"nested": {"a": 1}})),
        ("expires_at", json!("2020-01-01T00:00:00Z")),
        ("expires_at", json!("next week")),
        ("qr_code_type", json!("animated")),
        ("product_id", json!("prod_123")),
        ("title", json!("nul \u{0} byte")),
        ("environment", json!("live")),
        (
            "spi_qr_code_id",
            json!("5d0c8f7e-4c1a-4b4e-9d7e-2f6a1b3c4d5e"),
        ),
        ("colour", json!("red")),
    ];
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let mut cases = cases;
    cases.push(("metadata", Value::Object(many)));
    for (field, value) in cases {
        let mut body = session_body();
        body[field] = value.clone();
        let res = app.create_session(&body).await;
        assert_eq!(res.status(), 422, "{field} = {value}");
        let err = error_of(res).await;
        assert_eq!(error_field(&err), field, "{field} = {value}: {err}");
        assert_eq!(err["error"]["code"], "invalid_request");
    }
    assert_eq!(total_sessions(&app).await, 0, "nothing was stored");
}

async fn unreadable_bodies_are_bad_requests(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for body in [
        "{\"amount\": ",
        "",
        "not json",
        "{\"amount\": 1e400}",
        &"[".repeat(1000),
    ] {
        let res = app
            .post_raw("/v1/checkout_sessions", body.to_string())
            .await;
        assert_eq!(res.status(), 400, "{body:.40}");
        let err = error_of(res).await;
        assert_eq!(err["error"]["code"], "malformed_json");
        assert_eq!(error_field(&err), "body");
    }
    for body in ["[1, 2]", "\"text\"", "42", "null"] {
        let res = app.post_raw("/v1/checkout_sessions", body).await;
        assert_eq!(res.status(), 422, "{body}");
        assert_eq!(error_field(&error_of(res).await), "body");
    }
    let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(100 * 1024));
    let res = app.post_raw("/v1/checkout_sessions", huge).await;
    assert_eq!(res.status(), 413);
    assert_eq!(error_of(res).await["error"]["code"], "payload_too_large");
    assert_eq!(total_sessions(&app).await, 0);
}

async fn missing_required_fields_are_all_named(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.create_session(&json!({})).await;
    assert_eq!(res.status(), 422);
    let err = error_of(res).await;
    let fields: Vec<&str> = err["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["amount", "currency_code", "title"]);
}

async fn a_spi_session_must_be_in_xof(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["is_spi"] = json!(true);
    body["qr_code_data"] = json!({"alias": "111c3e1b-4312-49ec-b75e-4c8c74c10fd7", "country": "CI", "reference": "R1"});
    body["currency_code"] = json!("EUR");
    let res = app.create_session(&body).await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_field(&error_of(res).await), "currency_code");
}

async fn http_urls_to_localhost_are_allowed_in_test_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["success_url"] = json!("http://localhost:3000/merci");
    assert_eq!(app.create_session(&body).await.status(), 201);
    let (_, live_key) = crate::helpers::new_organization(
        &app.ctx,
        "Live shop",
        caisse::domain::session::Environment::Live,
    )
    .await;
    let res = app
        .post_json("/v1/checkout_sessions", &live_key, &body)
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_field(&error_of(res).await), "success_url");
}

async fn unknown_routes_and_methods_answer_in_the_error_shape(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.get("/v1/no_such_thing", &app.key).await;
    assert_eq!(res.status(), 404);
    assert_eq!(error_of(res).await["error"]["code"], "not_found");
    let res = app
        .client
        .put(app.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &app.key)
        .send()
        .await
        .unwrap();
    assert!(
        res.status() == 404 || res.status() == 405,
        "{}",
        res.status()
    );
    error_of(res).await;
    for id in ["not-a-uuid", "1", "%00", "..%2F..%2Fetc"] {
        let res = app
            .get(&format!("/v1/checkout_sessions/{id}"), &app.key)
            .await;
        assert_eq!(res.status(), 404, "{id}");
        error_of(res).await;
    }
}

crate::on_both_backends!(
    invalid_fields_are_refused_by_name,
    unreadable_bodies_are_bad_requests,
    missing_required_fields_are_all_named,
    a_spi_session_must_be_in_xof,
    http_urls_to_localhost_are_allowed_in_test_only,
    unknown_routes_and_methods_answer_in_the_error_shape,
);
