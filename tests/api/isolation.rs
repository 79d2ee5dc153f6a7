//! Keys and organizations: a missing or wrong key is a 401; another organization's session, or
//! the other environment's, is a 404 — never a 403 that would confirm it exists.

use caisse::domain::session::Environment;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, error_of, new_organization, session_body, spawn_app};

async fn requests_without_a_valid_key_are_unauthorized(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .client
        .get(app.url("/v1/checkout_sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(error_of(res).await["error"]["code"], "unauthorized");
    let revoked_looking = format!("sk_test_{}", "0".repeat(64));
    for key in [
        "",
        "garbage",
        "sk_test_",
        revoked_looking.as_str(),
        &app.key[..app.key.len() - 1],
    ] {
        let res = app.get("/v1/checkout_sessions", key).await;
        assert_eq!(res.status(), 401, "{key:?}");
        error_of(res).await;
    }
    let res = app
        .post_json("/v1/checkout_sessions", "nope", &session_body())
        .await;
    assert_eq!(res.status(), 401);
    // The header name is case-insensitive.
    let res = app
        .client
        .get(app.url("/v1/checkout_sessions"))
        .header("x-Api-Key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn another_organizations_session_is_not_found(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, other_key) = new_organization(&app.ctx, "Autre boutique", Environment::Test).await;
    let mine = app.session(&session_body()).await;
    let path = format!(
        "/v1/checkout_sessions/{}",
        mine["checkout_session_id"].as_str().unwrap()
    );

    assert_eq!(app.get(&path, &other_key).await.status(), 404);
    assert_eq!(
        app.patch(&path, &other_key, &json!({"title": "volé"}))
            .await
            .status(),
        404
    );
    assert_eq!(app.delete(&path, &other_key).await.status(), 404);
    let theirs: Value = app
        .get("/v1/checkout_sessions", &other_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["pagination"]["total"], 0);
    assert_eq!(theirs["data"], json!([]));

    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(
        read["title"], mine["title"],
        "untouched by the other organization"
    );
    assert_eq!(read["status"], "open");
}

async fn a_body_naming_another_organization_is_forbidden(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["organization_id"] = json!(Uuid::new_v4().to_string());
    let res = app.create_session(&body).await;
    assert_eq!(res.status(), 403);
    error_of(res).await;
    body["organization_id"] = json!(app.organization_id.to_string());
    assert_eq!(
        app.create_session(&body).await.status(),
        201,
        "its own id is accepted"
    );
}

async fn test_and_live_data_are_apart(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, live_key) =
        caisse::core::organizations::create_key(&app.ctx, app.organization_id, Environment::Live)
            .await
            .unwrap();
    let live_key = secrecy::ExposeSecret::expose_secret(&live_key).to_string();
    assert!(live_key.starts_with("sk_live_"));
    let test_session = app.session(&session_body()).await;
    let live: Value = app
        .post_json("/v1/checkout_sessions", &live_key, &session_body())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["environment"], "live");
    let path = format!(
        "/v1/checkout_sessions/{}",
        test_session["checkout_session_id"].as_str().unwrap()
    );
    assert_eq!(app.get(&path, &live_key).await.status(), 404);
    let listed: Value = app
        .get("/v1/checkout_sessions", &live_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["pagination"]["total"], 1);
}

crate::on_both_backends!(
    requests_without_a_valid_key_are_unauthorized,
    another_organizations_session_is_not_found,
    a_body_naming_another_organization_is_forbidden,
    test_and_live_data_are_apart,
);
