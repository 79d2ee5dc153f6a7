//! Payment attempts: choosing a method starts one and freezes the order until it ends; using
//! another method cancels it; the sandbox's outcome settles it once, with the merchant's event;
//! a backend's report settles the attempt under way rather than adding a second payment; and a
//! coupon that stopped applying meanwhile does not discount the completion.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app};
use crate::page::{post_form, submit, visit};
use crate::receiver::Receiver;

/// A session whose quantity and coupon the customer may change.
async fn open_session(app: &TestApp) -> (String, String) {
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    body["allow_coupon_code"] = json!(true);
    body["allowed_providers"] = json!("WAVE,CARD");
    let id = id_of(&app.session(&body).await);
    let path = format!("/checkout/{id}");
    (id, path)
}

async fn choose(app: &TestApp, path: &str, provider: &str) {
    let res = submit(
        app,
        path,
        "/pay",
        &[("provider", provider), ("customer_phone", "+2250700000000")],
    )
    .await;
    assert_eq!(res.status(), 303, "{provider} chosen");
}

async fn payments(app: &TestApp, id: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/v1/checkout_sessions/{id}/payments"), &app.key)
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

async fn choosing_a_method_freezes_the_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (id, path) = open_session(&app).await;
    assert!(visit(&app, &path, &[]).await.html.contains("/quantity"));
    choose(&app, &path, "WAVE").await;

    let attempt = &payments(&app, &id).await[0];
    assert_eq!(attempt["status"], "pending");
    assert_eq!(
        (attempt["amount"].as_i64(), attempt["provider"].as_str()),
        (Some(10000), Some("WAVE"))
    );
    let page = visit(&app, &path, &[]).await;
    assert!(
        !page.html.contains("/quantity") && !page.html.contains("/coupon"),
        "no change offered while a payment is under way"
    );
    let res = submit(&app, &path, "/quantity", &[("quantity", "3")]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Un paiement est en cours")
    );
    let api = format!("/v1/checkout_sessions/{id}");
    for change in [
        json!({"quantity": 2}),
        json!({"amount": 5000}),
        json!({"currency_code": "EUR"}),
    ] {
        let res = app.patch(&api, &app.key, &change).await;
        assert_eq!(res.status(), 409, "{change}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "payment_pending");
    }
    let res = app
        .patch(&api, &app.key, &json!({"title": "Pagne wax, bleu"}))
        .await;
    assert_eq!(
        res.status(),
        200,
        "what the payment does not depend on may change"
    );
    let s = app.api_session(&id).await;
    assert_eq!(
        (s["quantity"].as_i64(), s["amount_total"].as_i64()),
        (Some(1), Some(10000))
    );
    assert_eq!(s["payment"]["status"], "pending");

    // The same choice posted again is the same attempt.
    choose(&app, &path, "WAVE").await;
    assert_eq!(payments(&app, &id).await.len(), 1);
}

async fn another_method_cancels_the_attempt_and_thaws_the_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (id, path) = open_session(&app).await;
    choose(&app, &path, "WAVE").await;
    let res = submit(&app, &path, "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    let all = payments(&app, &id).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "canceled");
    let res = submit(&app, &path, "/quantity", &[("quantity", "2")]).await;
    assert_eq!(res.status(), 303, "the order may change again");
    choose(&app, &path, "CARD").await;
    let all = payments(&app, &id).await;
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[1]["status"].as_str(), all[1]["provider"].as_str()),
        (Some("pending"), Some("CARD"))
    );
    assert_eq!(
        all[1]["amount"], 20000,
        "the new attempt asks for the new total"
    );
    // Switching providers straight from the form cancels the one under way too.
    let res = submit(&app, &path, "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    choose(&app, &path, "WAVE").await;
    let statuses: Vec<_> = payments(&app, &id)
        .await
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        vec![json!("canceled"), json!("canceled"), json!("pending")]
    );
}

async fn a_declined_attempt_is_told_and_a_second_one_completes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": receiver.url}))
        .await;
    assert_eq!(res.status(), 201);
    let (id, path) = open_session(&app).await;
    choose(&app, &path, "WAVE").await;
    let res = submit(&app, &path, "/sandbox", &[("outcome", "failure")]).await;
    assert_eq!(res.status(), 402);
    let failed = receiver.wait_for(1).await.remove(0);
    assert_eq!(failed.json["event"], "checkout_session.payment_failed");
    assert_eq!(failed.json["data"]["payment"]["status"], "failed");
    assert_eq!(failed.json["data"]["status"], "open");

    choose(&app, &path, "WAVE").await;
    let waiting = visit(&app, &path, &[]).await;
    let press = [("csrf", waiting.csrf()), ("outcome", "success".into())];
    let press: Vec<(&str, &str)> = press.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sandbox = format!("{path}/sandbox");
    let res = post_form(&app, &sandbox, &waiting.cookies, &press).await;
    assert_eq!(res.status(), 303);
    // Pressed again (a second tab): nothing more happens.
    let again = post_form(&app, &sandbox, &waiting.cookies, &press).await;
    assert_eq!(again.status(), 303);
    let events = receiver.wait_for(2).await;
    let completed: Vec<_> = events
        .iter()
        .filter(|e| e.json["event"] == "checkout_session.completed")
        .collect();
    assert_eq!(completed.len(), 1, "{events:?}");
    assert_eq!(completed[0].json["data"]["payment"]["status"], "succeeded");
    let statuses: Vec<_> = payments(&app, &id)
        .await
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("failed"), json!("succeeded")]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2, "one completion, one event");
    receiver.stop().await;
}

async fn a_backend_report_settles_the_attempt_under_way(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (id, path) = open_session(&app).await;
    choose(&app, &path, "WAVE").await;
    let report =
        json!({"provider": "WAVE", "provider_reference": "T_UNDERWAY", "amount_paid": 10000});
    let res = app
        .post_json(
            &format!("/v1/checkout_sessions/{id}/complete"),
            &app.key,
            &report,
        )
        .await;
    assert_eq!(res.status(), 200);
    let all = payments(&app, &id).await;
    assert_eq!(
        all.len(),
        1,
        "the attempt, settled, and no second record: {all:?}"
    );
    assert_eq!(all[0]["status"], "succeeded");
    assert_eq!(all[0]["provider_reference"], "T_UNDERWAY");
    assert_eq!(app.api_session(&id).await["status"], "completed");
}

/// A coupon switched off after the customer applied it no longer discounts: the money that
/// comes for the discounted total is recorded, the session stays open at its full price, and
/// the merchant is told to refund.
async fn a_coupon_switched_off_meanwhile_does_not_discount_the_completion(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": receiver.url}))
        .await;
    assert_eq!(res.status(), 201);
    let coupon: Value = app
        .post_json(
            "/v1/discount_coupons",
            &app.key,
            &json!({"code": "NOEL10", "discount_type": "percentage", "discount_percentage": 10}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (id, path) = open_session(&app).await;
    let res = submit(
        &app,
        &path,
        "/coupon",
        &[("action", "apply"), ("code", "noel10")],
    )
    .await;
    assert_eq!(res.status(), 303);
    choose(&app, &path, "WAVE").await;
    assert_eq!(payments(&app, &id).await[0]["amount"], 9000);
    let coupon_path = format!(
        "/v1/discount_coupons/{}",
        coupon["coupon_id"].as_str().unwrap()
    );
    let res = app
        .patch(&coupon_path, &app.key, &json!({"is_active": false}))
        .await;
    assert_eq!(res.status(), 200);

    let res = submit(&app, &path, "/sandbox", &[("outcome", "success")]).await;
    assert_eq!(res.status(), 409);
    let s = app.api_session(&id).await;
    assert_eq!(
        s["status"], "open",
        "not completed with a coupon that no longer applies"
    );
    assert_eq!(s["payment"]["status"], "succeeded", "the money is recorded");
    let event = receiver.wait_for(1).await.remove(0);
    assert_eq!(event.json["event"], "checkout_session.payment_unmatched");
    assert_eq!(event.json["data"]["payment"]["amount"], 9000);
    let read: Value = app.get(&coupon_path, &app.key).await.json().await.unwrap();
    assert_eq!(read["current_uses"], 0);
    receiver.stop().await;
}

crate::on_both_backends!(
    choosing_a_method_freezes_the_order,
    another_method_cancels_the_attempt_and_thaws_the_order,
    a_declined_attempt_is_told_and_a_second_one_completes,
    a_backend_report_settles_the_attempt_under_way,
    a_coupon_switched_off_meanwhile_does_not_discount_the_completion,
);
