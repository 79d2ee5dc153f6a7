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

crate::on_both_backends!(
    a_session_read_past_its_expiry_is_expired,
    the_sweeper_expires_sessions_nobody_reads,
    expiry_dates_are_bounded,
);
