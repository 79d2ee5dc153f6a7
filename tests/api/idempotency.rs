//! `Idempotency-Key`: a retried create gives the same session, never a second one.

use serde_json::{Value, json};

use crate::helpers::{Backend, error_of, session_body, spawn_app};

async fn post(app: &crate::helpers::TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &app.key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn total(app: &crate::helpers::TestApp) -> i64 {
    let list: Value = app
        .get("/v1/checkout_sessions", &app.key)
        .await
        .json()
        .await
        .unwrap();
    list["pagination"]["total"].as_i64().unwrap()
}

async fn the_same_key_and_body_give_the_same_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let first = post(&app, "order-42", &session_body()).await;
    assert_eq!(first.status(), 201);
    let first = first.text().await.unwrap();
    // Field order and spacing do not make a different body.
    let reordered: Value = serde_json::from_str(&session_body().to_string()).unwrap();
    let again = post(&app, "order-42", &reordered).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.text().await.unwrap(), first);
    assert_eq!(total(&app).await, 1);
}

async fn the_same_key_with_another_body_is_a_conflict(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    assert_eq!(post(&app, "k1", &session_body()).await.status(), 201);
    let mut other = session_body();
    other["amount"] = json!(20000);
    let res = post(&app, "k1", &other).await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        error_of(res).await["error"]["code"],
        "idempotency_key_reused"
    );
    assert_eq!(total(&app).await, 1);
}

async fn concurrent_retries_create_one_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let res = post(&app, "burst", &session_body()).await;
                (res.status().as_u16(), res.text().await.unwrap())
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every retry got the same session"
    );
    assert_eq!(total(&app).await, 1);
}

async fn keys_are_scoped_to_the_organization(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, other_key) = crate::helpers::new_organization(
        &app.ctx,
        "Autre",
        caisse::domain::session::Environment::Test,
    )
    .await;
    let mine: Value = post(&app, "shared", &session_body())
        .await
        .json()
        .await
        .unwrap();
    let theirs = app
        .client
        .post(app.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &other_key)
        .header("Idempotency-Key", "shared")
        .json(&session_body())
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 201);
    let theirs: Value = theirs.json().await.unwrap();
    assert_ne!(theirs["checkout_session_id"], mine["checkout_session_id"]);
}

crate::on_both_backends!(
    the_same_key_and_body_give_the_same_session,
    the_same_key_with_another_body_is_a_conflict,
    concurrent_retries_create_one_session,
    keys_are_scoped_to_the_organization,
);
