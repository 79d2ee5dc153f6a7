//! Webhooks: endpoints registered through the API receive signed events from the outbox, with
//! retries, and every attempt is visible.

use std::time::Duration;

use caisse::domain::event;
use caisse::domain::session::Environment;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, error_field, error_of, new_organization, session_body, spawn_app,
};
use crate::receiver::Receiver;

async fn register(app: &TestApp, url: &str, events: Option<Value>) -> Value {
    let mut body = json!({"url": url});
    if let Some(e) = events {
        body["events"] = e;
    }
    let res = app.post_json("/v1/webhooks", &app.key, &body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn complete(app: &TestApp, s: &Value) {
    complete_with(app, &app.key, s).await;
}

/// Completes session `s` with the API key `key` (of the session's organization).
async fn complete_with(app: &TestApp, key: &str, s: &Value) {
    let path = format!(
        "/v1/checkout_sessions/{}/complete",
        s["checkout_session_id"].as_str().unwrap()
    );
    let total = s["amount_total"].as_i64().unwrap();
    let reference = format!("r-{}", s["checkout_session_id"].as_str().unwrap());
    let res = app
        .post_json(
            &path,
            key,
            &json!({"provider": "WAVE", "provider_reference": reference, "amount_paid": total}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn completed_and_expired_events_arrive_signed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let hook = register(&app, &receiver.url, None).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));

    let paid = app.session(&session_body()).await;
    complete(&app, &paid).await;
    let dropped = app.session(&session_body()).await;
    app.delete(
        &format!(
            "/v1/checkout_sessions/{}",
            dropped["checkout_session_id"].as_str().unwrap()
        ),
        &app.key,
    )
    .await;

    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let now = chrono::Utc::now().timestamp();
    for r in &got {
        assert!(
            event::verify(&secret, &r.signature, &r.body, now, 300),
            "signature of {}",
            r.body
        );
        assert!(r.json["id"].is_string() && r.json["created_at"].is_string());
        assert_eq!(r.json["environment"], "test");
    }
    let by_event = |name: &str| {
        got.iter()
            .find(|r| r.json["event"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let completed = by_event("checkout_session.completed");
    assert_eq!(
        completed.json["data"]["checkout_session_id"],
        paid["checkout_session_id"]
    );
    assert_eq!(completed.json["data"]["status"], "completed");
    let expired = by_event("checkout_session.expired");
    assert_eq!(
        expired.json["data"]["checkout_session_id"],
        dropped["checkout_session_id"]
    );
    receiver.stop().await;
}

async fn failures_are_retried_and_every_attempt_is_recorded(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 429]);
    let hook = register(
        &app,
        &receiver.url,
        Some(json!(["checkout_session.completed"])),
    )
    .await;
    let s = app.session(&session_body()).await;
    complete(&app, &s).await;
    let got = receiver.wait_for(3).await;
    assert_eq!(got.len(), 3, "500, 429, then 200");
    assert!(
        got.windows(2).all(|w| w[0].json["id"] == w[1].json["id"]),
        "the same event each time"
    );

    let path = format!(
        "/v1/webhooks/{}/deliveries",
        hook["webhook_id"].as_str().unwrap()
    );
    let mut log = Value::Null;
    for _ in 0..50 {
        log = app.get(&path, &app.key).await.json().await.unwrap();
        if log["data"][0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivery = &log["data"][0];
    assert_eq!(delivery["status"], "succeeded", "{log}");
    assert_eq!(delivery["attempts"], 3);
    let codes: Vec<i64> = delivery["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 429, 200]);
    receiver.stop().await;
}

async fn a_refusal_stops_the_retries(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.answer(&[410]);
    let hook = register(&app, &receiver.url, None).await;
    let s = app.session(&session_body()).await;
    complete(&app, &s).await;
    receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1, "no retry after a 4xx");
    let log: Value = app
        .get(
            &format!(
                "/v1/webhooks/{}/deliveries",
                hook["webhook_id"].as_str().unwrap()
            ),
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["data"][0]["status"], "failed");
    receiver.stop().await;
}

async fn endpoints_are_checked_and_kept_apart(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for (body, field) in [
        (json!({}), "url"),
        (json!({"url": "javascript:alert(1)"}), "url"),
        (
            json!({"url": "https://hooks.example", "events": ["checkout_session.paid"]}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example", "events": "checkout_session.completed"}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example", "colour": 1}),
            "colour",
        ),
    ] {
        let res = app.post_json("/v1/webhooks", &app.key, &body).await;
        assert_eq!(res.status(), 422, "{body}");
        assert_eq!(error_field(&error_of(res).await), field);
    }
    let twice = register(
        &app,
        "https://hooks.example/twice",
        Some(json!([
            "checkout_session.expired",
            "checkout_session.completed",
            "checkout_session.expired"
        ])),
    )
    .await;
    assert_eq!(
        twice["events"],
        json!(["checkout_session.expired", "checkout_session.completed"])
    );
    let hook = register(&app, "https://hooks.example/caisse", None).await;
    let path = format!("/v1/webhooks/{}", hook["webhook_id"].as_str().unwrap());
    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert!(read.get("secret").is_none(), "the secret is shown once");
    assert_eq!(
        read["events"],
        json!([
            "checkout_session.completed",
            "checkout_session.expired",
            "checkout_session.payment_failed",
            "checkout_session.payment_unmatched"
        ]),
        "every event unless told"
    );
    let (_, other) = new_organization(
        &app.ctx,
        "Autre",
        caisse::domain::session::Environment::Test,
    )
    .await;
    assert_eq!(app.get(&path, &other).await.status(), 404);
    assert_eq!(app.delete(&path, &other).await.status(), 404);
    let theirs: Value = app.get("/v1/webhooks", &other).await.json().await.unwrap();
    assert_eq!(theirs["data"], json!([]));
    assert_eq!(app.delete(&path, &app.key).await.status(), 204);
    assert_eq!(app.get(&path, &app.key).await.status(), 404);
}

/// A merchant whose sixteen endpoints never answer (each attempt waits for the timeout, 2 s
/// here) and who has 160 deliveries due delays no other merchant's: the other's event arrives
/// while the slow ones are still being tried, not after them (some 20 s, at 16 a batch).
async fn a_merchant_whose_endpoints_never_answer_delays_no_other(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let stuck = Receiver::start().await;
    stuck.delay(Duration::from_secs(30));
    for _ in 0..16 {
        register(&app, &stuck.url, None).await;
    }
    for _ in 0..10 {
        let s = app.session(&session_body()).await;
        complete(&app, &s).await;
    }
    stuck.wait_for(16).await;

    let (_, other_key) = new_organization(&app.ctx, "Boutique Fatou", Environment::Test).await;
    let prompt = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &other_key, &json!({"url": prompt.url}))
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json("/v1/checkout_sessions", &other_key, &session_body())
        .await;
    let s: Value = res.json().await.unwrap();
    let started = std::time::Instant::now();
    complete_with(&app, &other_key, &s).await;
    let got = prompt.wait_for(1).await;
    assert_eq!(got.len(), 1, "the other merchant's event arrived");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it waited {:?} behind another merchant's endpoints",
        started.elapsed()
    );
    // Each stuck endpoint has at most two attempts under way at a time.
    assert!(
        stuck.received().len() <= 16 * 2 * 3,
        "{}",
        stuck.received().len()
    );
    prompt.stop().await;
    stuck.stop().await;
}

/// An endpoint that has failed every attempt for a day is disabled: its pending deliveries
/// fail, it gets no new ones, the API says so, and enabling it brings new events again.
async fn an_endpoint_failing_for_a_day_is_disabled_until_enabled(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.answer(&[500; 64]);
    let hook = register(&app, &receiver.url, None).await;
    let id = hook["webhook_id"].as_str().unwrap().to_string();
    assert_eq!(hook["status"], "enabled");
    assert!(hook["disabled_at"].is_null());
    let first = app.session(&session_body()).await;
    complete(&app, &first).await;
    receiver.wait_for(1).await;
    // Its run of failures began a day ago (the clock is moved past caisse).
    let yesterday = caisse::domain::time::now() - chrono::Duration::hours(25);
    let moved = "UPDATE webhook_endpoints SET failing_since = $1 WHERE failing_since IS NOT NULL";
    // The receiver has the attempt before caisse records how it ended: wait (boundedly) for
    // the failure to be recorded.
    let mut rows = 0;
    for _ in 0..100 {
        rows = crate::helpers::age_rows(&app, moved, yesterday).await;
        if rows == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rows, 1, "the first failure started the run");
    let second = app.session(&session_body()).await;
    complete(&app, &second).await;

    let path = format!("/v1/webhooks/{id}");
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = app.get(&path, &app.key).await.json().await.unwrap();
        if shown["status"] == "disabled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown["status"], "disabled", "{shown}");
    assert!(shown["disabled_at"].is_string());
    let log: Value = app
        .get(&format!("{path}/deliveries"), &app.key)
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed"], "{log}");
    // No new deliveries while disabled.
    let third = app.session(&session_body()).await;
    complete(&app, &third).await;
    let log: Value = app
        .get(&format!("{path}/deliveries"), &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["pagination"]["total"], 2);

    receiver.answer_ok();
    let res = app
        .post_json(&format!("{path}/enable"), &app.key, &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let enabled: Value = res.json().await.unwrap();
    assert_eq!(enabled["status"], "enabled");
    assert!(enabled["disabled_at"].is_null());
    let before = receiver.received().len();
    let fourth = app.session(&session_body()).await;
    complete(&app, &fourth).await;
    let got = receiver.wait_for(before + 1).await;
    assert_eq!(
        got.last().unwrap().json["data"]["checkout_session_id"],
        fourth["checkout_session_id"]
    );
    let other = app
        .post_json(
            &format!("/v1/webhooks/{}/enable", uuid::Uuid::new_v4()),
            &app.key,
            &json!({}),
        )
        .await;
    assert_eq!(other.status(), 404);
    receiver.stop().await;
}

crate::on_both_backends!(
    a_merchant_whose_endpoints_never_answer_delays_no_other,
    an_endpoint_failing_for_a_day_is_disabled_until_enabled,
    completed_and_expired_events_arrive_signed,
    failures_are_retried_and_every_attempt_is_recorded,
    a_refusal_stops_the_retries,
    endpoints_are_checked_and_kept_apart,
);
