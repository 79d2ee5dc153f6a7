//! Expiry: lazily when a session is read past its time, and by the background sweeper for the
//! sessions nobody reads.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, session_body, spawn_app};

fn soon(ms: i64) -> String {
    caisse::domain::time::rfc3339(&(chrono::Utc::now() + chrono::Duration::milliseconds(ms)))
}

async fn a_session_read_past_its_expiry_is_expired(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["expires_at"] = json!(soon(1500));
    let s = app.session(&body).await;
    let path = format!(
        "/v1/checkout_sessions/{}",
        s["checkout_session_id"].as_str().unwrap()
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(read["status"], "expired");
    let res = app.patch(&path, &app.key, &json!({"title": "x"})).await;
    assert_eq!(res.status(), 409, "an expired session never changes again");
}

async fn the_sweeper_expires_sessions_nobody_reads(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["expires_at"] = json!(soon(1000));
    let s = app.session(&body).await;
    let keep = app.session(&session_body()).await;
    let id = Uuid::parse_str(s["checkout_session_id"].as_str().unwrap()).unwrap();
    let keep_id = Uuid::parse_str(keep["checkout_session_id"].as_str().unwrap()).unwrap();
    // The sweeper runs every second in tests; read the store directly, not through the API,
    // which would expire the session itself.
    let mut status = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = app
            .ctx
            .store
            .session(id)
            .await
            .unwrap()
            .unwrap()
            .status
            .to_string();
        if status == "expired" {
            break;
        }
    }
    assert_eq!(status, "expired");
    let kept = app.ctx.store.session(keep_id).await.unwrap().unwrap();
    assert_eq!(kept.status.to_string(), "open");
}

async fn expiry_dates_are_bounded(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["expires_at"] = json!(soon(29 * 24 * 3600 * 1000));
    assert_eq!(app.create_session(&body).await.status(), 201);
    body["expires_at"] = json!(soon(31 * 24 * 3600 * 1000));
    assert_eq!(app.create_session(&body).await.status(), 422);
    // Python's isoformat() of an aware datetime.
    body["expires_at"] = json!(
        (chrono::Utc::now() + chrono::Duration::hours(2))
            .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
            .to_string()
    );
    assert_eq!(app.create_session(&body).await.status(), 201);
}

/// Test-mode sessions are forgotten a month after they ended, with their payments and events;
/// a test session still open, and every live session, are kept.
async fn ended_test_sessions_are_forgotten_after_the_retention(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = crate::receiver::Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": receiver.url}))
        .await;
    assert_eq!(res.status(), 201);
    let paid = app.session(&session_body()).await;
    let paid_id = paid["checkout_session_id"].as_str().unwrap().to_string();
    let report = json!({"provider": "WAVE", "provider_reference": "r-old", "amount_paid": 10000});
    let res = app
        .post_json(
            &format!("/v1/checkout_sessions/{paid_id}/complete"),
            &app.key,
            &report,
        )
        .await;
    assert_eq!(res.status(), 200);
    receiver.wait_for(1).await;
    let open = app.session(&session_body()).await;
    let open_id = open["checkout_session_id"].as_str().unwrap().to_string();
    let (_, live_key) = crate::helpers::new_organization(
        &app.ctx,
        "Boutique Live",
        caisse::domain::session::Environment::Live,
    )
    .await;
    let res = app
        .post_json("/v1/checkout_sessions", &live_key, &session_body())
        .await;
    let live: Value = res.json().await.unwrap();
    let live_id = live["checkout_session_id"].as_str().unwrap().to_string();
    let res = app
        .delete(&format!("/v1/checkout_sessions/{live_id}"), &live_key)
        .await;
    assert_eq!(res.status(), 204);

    let long_ago = caisse::domain::time::now() - chrono::Duration::days(31);
    let aged = crate::helpers::age_rows(
        &app,
        "UPDATE checkout_sessions SET updated_at = $1",
        long_ago,
    )
    .await;
    assert_eq!(aged, 3);
    let read = |id: String, key: String| {
        let app = &app;
        async move {
            app.get(&format!("/v1/checkout_sessions/{id}"), &key)
                .await
                .status()
        }
    };
    let mut gone = false;
    for _ in 0..50 {
        if read(paid_id.clone(), app.key.clone()).await == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the ended test session was forgotten");
    let payments = app
        .get(
            &format!("/v1/checkout_sessions/{paid_id}/payments"),
            &app.key,
        )
        .await;
    assert_eq!(payments.status(), 404);
    assert_eq!(
        read(open_id, app.key.clone()).await,
        200,
        "an open one is kept"
    );
    assert_eq!(read(live_id, live_key).await, 200, "live sessions are kept");
    receiver.stop().await;
}

crate::on_both_backends!(
    ended_test_sessions_are_forgotten_after_the_retention,
    a_session_read_past_its_expiry_is_expired,
    the_sweeper_expires_sessions_nobody_reads,
    expiry_dates_are_bounded,
);
