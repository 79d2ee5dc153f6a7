//! Completion: `POST /v1/checkout_sessions/{id}/complete` checks the amount, is idempotent,
//! refuses expired sessions, and completes a session exactly once under concurrent reports.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_field, error_of, session_body, spawn_app};

fn complete_path(s: &Value) -> String {
    format!(
        "/v1/checkout_sessions/{}/complete",
        s["checkout_session_id"].as_str().unwrap()
    )
}

fn report(reference: &str, amount: i64) -> Value {
    json!({"provider": "WAVE", "provider_reference": reference, "amount_paid": amount})
}

async fn the_amount_paid_must_be_the_total(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["quantity"] = json!(2);
    let s = app.session(&body).await;
    let res = app
        .post_json(&complete_path(&s), &app.key, &report("w-1", 10000))
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_field(&error_of(res).await), "amount_paid");
    for bad in [
        json!({}),
        json!({"provider": "PAYPAL", "provider_reference": "x", "amount_paid": 20000}),
        json!({"provider": "WAVE", "provider_reference": "", "amount_paid": 20000}),
    ] {
        let res = app.post_json(&complete_path(&s), &app.key, &bad).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    let read: Value = app
        .get(
            &format!(
                "/v1/checkout_sessions/{}",
                s["checkout_session_id"].as_str().unwrap()
            ),
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "open", "nothing changed");

    let res = app
        .post_json(&complete_path(&s), &app.key, &report("w-1", 20000))
        .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["payment_provider"], "WAVE");
    assert!(done["completed_at"].is_string());
}

async fn the_same_report_twice_completes_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let first: Value = app
        .post_json(&complete_path(&s), &app.key, &report("w-9", 10000))
        .await
        .json()
        .await
        .unwrap();
    let again = app
        .post_json(&complete_path(&s), &app.key, &report("w-9", 10000))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["completed_at"], first["completed_at"]);
    let other = app
        .post_json(&complete_path(&s), &app.key, &report("w-10", 10000))
        .await;
    assert_eq!(other.status(), 409);
    assert_eq!(
        error_of(other).await["error"]["code"],
        "checkout_session_completed"
    );
    let path = format!(
        "/v1/checkout_sessions/{}",
        s["checkout_session_id"].as_str().unwrap()
    );
    assert_eq!(
        app.delete(&path, &app.key).await.status(),
        409,
        "a completed session cannot expire"
    );
    assert_eq!(
        app.patch(&path, &app.key, &json!({"title": "x"}))
            .await
            .status(),
        409
    );
}

async fn a_report_after_expiry_is_a_conflict(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    app.delete(
        &format!(
            "/v1/checkout_sessions/{}",
            s["checkout_session_id"].as_str().unwrap()
        ),
        &app.key,
    )
    .await;
    let res = app
        .post_json(&complete_path(&s), &app.key, &report("w-2", 10000))
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        error_of(res).await["error"]["code"],
        "checkout_session_expired"
    );
}

async fn concurrent(app: &Arc<TestApp>, path: &str, reports: Vec<Value>) -> Vec<u16> {
    let tasks: Vec<_> = reports
        .into_iter()
        .map(|r| {
            let (app, path) = (app.clone(), path.to_string());
            tokio::spawn(async move { app.post_json(&path, &app.key, &r).await.status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

async fn twenty_concurrent_completions_complete_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = Arc::new(app);
    let s = app.session(&session_body()).await;
    // Twenty different payments race for one session: one wins, the others are refused.
    let reports = (0..20)
        .map(|i| report(&format!("race-{i}"), 10000))
        .collect();
    let statuses = concurrent(&app, &complete_path(&s), reports).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    // The same payment reported twenty times: all succeed, one completion.
    let s2 = app.session(&session_body()).await;
    let reports = (0..20).map(|_| report("same", 10000)).collect();
    let statuses = concurrent(&app, &complete_path(&s2), reports).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

crate::on_both_backends!(
    the_amount_paid_must_be_the_total,
    the_same_report_twice_completes_once,
    a_report_after_expiry_is_a_conflict,
    twenty_concurrent_completions_complete_once,
);
