//! Completion: `POST /v1/checkout_sessions/{id}/complete` checks the amount, is idempotent,
//! refuses expired sessions, and completes a session exactly once under concurrent reports.

use std::sync::Arc;

use serde_json::{Value, json};

use caisse::domain::session::Environment;

use crate::helpers::{
    Backend, TestApp, error_field, error_of, id_of, new_organization, session_body, spawn_app,
};
use crate::receiver::Receiver;

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

fn payments_path(s: &Value) -> String {
    format!("/v1/checkout_sessions/{}/payments", id_of(s))
}

async fn payments_of(app: &TestApp, s: &Value) -> Value {
    let res = app.get(&payments_path(s), &app.key).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A reported payment is a record: on the session as its `payment`, in its list of payments,
/// and in the `checkout_session.completed` event, the same everywhere.
async fn a_reported_payment_is_recorded_on_its_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": receiver.url}))
        .await;
    assert_eq!(res.status(), 201);
    let s = app.session(&session_body()).await;
    assert_eq!(s["payment"], Value::Null);
    let none = payments_of(&app, &s).await;
    assert_eq!(none["data"], json!([]));
    assert_eq!(none["pagination"]["total"], 0);

    let res = app
        .post_json(&complete_path(&s), &app.key, &report("T_REC1", 10000))
        .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    let payment = &done["payment"];
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["provider"], "WAVE");
    assert_eq!(payment["amount"], 10000);
    assert_eq!(payment["currency_code"], "XOF");
    assert_eq!(payment["provider_reference"], "T_REC1");
    assert_eq!(payment["checkout_session_id"], s["checkout_session_id"]);
    assert_eq!(payment["failure_code"], Value::Null);
    assert!(payment["payment_id"].as_str().unwrap().len() == 36);

    let again = app
        .post_json(&complete_path(&s), &app.key, &report("T_REC1", 10000))
        .await;
    assert_eq!(
        again.status(),
        200,
        "the same report again is the same answer"
    );
    let listed = payments_of(&app, &s).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(&listed["data"][0], payment);
    assert_eq!(&app.api_session(&id_of(&s)).await["payment"], payment);

    let event = receiver.wait_for(1).await.remove(0);
    assert_eq!(event.json["event"], "checkout_session.completed");
    assert_eq!(&event.json["data"]["payment"], payment);
    receiver.stop().await;
}

/// One payment at a provider pays one session: its reference reported for another session is
/// refused, and that session stays open with no payment.
async fn a_provider_reference_pays_one_session_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let first = app.session(&session_body()).await;
    let second = app.session(&session_body()).await;
    let res = app
        .post_json(&complete_path(&first), &app.key, &report("T_ONCE", 10000))
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_json(&complete_path(&second), &app.key, &report("T_ONCE", 10000))
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        error_of(res).await["error"]["code"],
        "payment_reference_used"
    );
    let read = app.api_session(&id_of(&second)).await;
    assert_eq!(read["status"], "open");
    assert_eq!(read["payment"], Value::Null);
    assert_eq!(payments_of(&app, &second).await["data"], json!([]));
}

async fn another_organizations_payments_are_not_found(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let (_, other_key) = new_organization(&app.ctx, "Autre boutique", Environment::Test).await;
    assert_eq!(app.get(&payments_path(&s), &other_key).await.status(), 404);
    let unknown = format!("/v1/checkout_sessions/{}/payments", uuid::Uuid::new_v4());
    assert_eq!(app.get(&unknown, &app.key).await.status(), 404);
    assert_eq!(app.get(&payments_path(&s), "").await.status(), 401);
}

crate::on_both_backends!(
    the_amount_paid_must_be_the_total,
    the_same_report_twice_completes_once,
    a_report_after_expiry_is_a_conflict,
    twenty_concurrent_completions_complete_once,
    a_reported_payment_is_recorded_on_its_session,
    a_provider_reference_pays_one_session_only,
    another_organizations_payments_are_not_found,
);
