//! The fake of Wave (`tests/support/wave.rs`) behaves as Wave documents, driven over HTTP
//! without caisse: keys, amounts, the session object, search, the launch page, webhooks and their
//! signatures, and every failure knob.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Client, Response, redirect};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::receiver::Receiver;
use crate::wave::{FakeWave, Forgery, WebhookAuth};

const KEY: &str = "wave_sn_prod_test_key_boutique";
const BUSINESS: &str = "Boutique Awa";

async fn fake() -> FakeWave {
    let fake = FakeWave::start().await;
    fake.add_api_key(KEY, BUSINESS);
    fake
}

/// A client that shows redirects instead of following them.
fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn order(reference: &str) -> Value {
    json!({
        "amount": "1000",
        "currency": "XOF",
        "client_reference": reference,
        "success_url": "http://127.0.0.1:9/paid",
        "error_url": "http://127.0.0.1:9/failed",
    })
}

async fn create(fake: &FakeWave, body: &Value) -> Response {
    client()
        .post(format!("{}/v1/checkout/sessions", fake.base_url))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn created(fake: &FakeWave, reference: &str) -> Value {
    let res = create(fake, &order(reference)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn get(fake: &FakeWave, path: &str) -> Response {
    client()
        .get(format!("{}{path}", fake.base_url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
}

async fn post(fake: &FakeWave, path: &str) -> Response {
    client()
        .post(format!("{}{path}", fake.base_url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
}

async fn search(fake: &FakeWave, reference: &str) -> Vec<Value> {
    let res = get(
        fake,
        &format!("/v1/checkout/sessions/search?client_reference={reference}"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["result"]
        .as_array()
        .expect("{\"result\": [...]}")
        .clone()
}

fn id_of(s: &Value) -> &str {
    s["id"].as_str().unwrap()
}

/// The receiver's check, written here from Wave's description and not from the fake: t is recent
/// and some v1 is hex(HMAC-SHA256(secret, t + body)).
fn verifies(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1.push(value.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}{body}").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    v1.contains(&expected)
}

#[tokio::test]
async fn a_missing_or_unknown_key_is_refused_with_waves_401() {
    let fake = fake().await;
    let url = format!("{}/v1/checkout/sessions", fake.base_url);
    let cases = [
        (None, "missing-auth-header"),
        (Some("Basic d2F2ZTp4"), "invalid-auth"),
        (Some("Bearer wave_sn_prod_nobody"), "no-matching-api-key"),
    ];
    for (authorization, code) in cases {
        let mut req = client().post(&url).json(&order("r-auth"));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{code}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    fake.revoke_api_key(KEY);
    let res = create(&fake, &order("r-auth")).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "api-key-revoked"
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.authorized && r.status == 401)
    );
}

#[tokio::test]
async fn an_amount_as_a_number_or_with_decimals_is_refused_for_xof() {
    let fake = fake().await;
    for amount in [
        json!(1000),
        json!("1000.50"),
        json!("01000"),
        json!("0"),
        json!("1e3"),
    ] {
        let mut body = order("r-amount");
        body["amount"] = amount.clone();
        let res = create(&fake, &body).await;
        assert_eq!(res.status(), 400, "{amount}");
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], "request-validation-error", "{amount}");
        assert_eq!(error["details"][0]["loc"], json!(["amount"]), "{amount}");
    }
    let mut body = order("r-amount");
    body.as_object_mut().unwrap().remove("success_url");
    body["error_url"] = json!("http://shop.example/failed");
    let res = create(&fake, &body).await;
    assert_eq!(res.status(), 400);
    let error: Value = res.json().await.unwrap();
    let fields: Vec<&Value> = error["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["loc"][0])
        .collect();
    assert_eq!(fields, [&json!("success_url"), &json!("error_url")]);
    assert!(
        search(&fake, "r-amount").await.is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn a_created_session_has_the_documented_fields() {
    let fake = fake().await;
    let mut body = order("order-42");
    body["restrict_payer_mobile"] = json!("+221761234567");
    let res = create(&fake, &body).await;
    assert_eq!(res.status(), 200);
    let s: Value = res.json().await.unwrap();
    let id = id_of(&s);
    assert!(id.starts_with("cos-") && id.len() > 8, "{id}");
    assert_eq!(s["amount"], "1000");
    assert_eq!(s["currency"], "XOF");
    assert_eq!(s["checkout_status"], "open");
    assert_eq!(s["payment_status"], "processing");
    assert_eq!(s["client_reference"], "order-42");
    assert_eq!(s["restrict_payer_mobile"], "+221761234567");
    assert_eq!(s["business_name"], BUSINESS);
    assert_eq!(s["success_url"], "http://127.0.0.1:9/paid");
    assert_eq!(s["error_url"], "http://127.0.0.1:9/failed");
    assert_eq!(s["wave_launch_url"], format!("{}/c/{id}", fake.base_url));
    for null in ["last_payment_error", "transaction_id", "when_completed"] {
        assert!(s[null].is_null(), "{null}");
    }
    let when = |field: &str| {
        let text = s[field].as_str().unwrap();
        assert_eq!(text.len(), 20, "YYYY-MM-DDThh:mm:ssZ: {text}");
        assert!(text.ends_with('Z'));
        text.parse::<DateTime<Utc>>().unwrap()
    };
    assert!((Utc::now() - when("when_created")).num_seconds().abs() < 5);
    assert_eq!(
        when("when_expires") - when("when_created"),
        chrono::Duration::minutes(30)
    );

    let read = get(&fake, &format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.json::<Value>().await.unwrap(), s);

    fake.add_api_key("wave_ci_prod_other_business", "Autre Boutique");
    let other = client()
        .get(format!("{}/v1/checkout/sessions/{id}", fake.base_url))
        .bearer_auth("wave_ci_prod_other_business")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "another business's key sees nothing");
    assert_eq!(
        other.json::<Value>().await.unwrap()["code"],
        "checkout-session-not-found"
    );
    let unknown = get(&fake, "/v1/checkout/sessions/cos-doesnotexist").await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn search_by_client_reference_answers_a_result_list() {
    let fake = fake().await;
    let first = created(&fake, "cart-7").await;
    created(&fake, "cart-8").await;
    let found = search(&fake, "cart-7").await;
    assert_eq!(found, [first]);
    assert!(search(&fake, "cart-unknown").await.is_empty());
    let creation = &fake.requests()[0];
    assert_eq!(
        (creation.method.as_str(), creation.path.as_str()),
        ("POST", "/v1/checkout/sessions")
    );
    assert_eq!(creation.json()["client_reference"], "cart-7");
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.query, "client_reference=cart-unknown");
    assert!(last.authorized);
}

#[tokio::test]
async fn a_lost_creation_answer_leaves_one_session_to_find_by_reference() {
    let fake = fake().await;
    fake.lose_next_creation_answer();
    let res = create(&fake, &order("pay-1")).await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "internal-server-error"
    );
    let found = search(&fake, "pay-1").await;
    assert_eq!(
        found.len(),
        1,
        "the session exists though its creation answered 500"
    );
    assert_eq!(found[0]["checkout_status"], "open");
    assert_eq!(
        created(&fake, "pay-2").await["client_reference"],
        "pay-2",
        "only one answer lost"
    );
}

#[tokio::test]
async fn paying_on_the_launch_page_sends_a_signed_webhook_then_redirects_to_success() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    fake.add_webhook(
        BUSINESS,
        &receiver.url,
        "wave_sn_WHS_secret",
        WebhookAuth::Signature,
    );
    let s = created(&fake, "order-9").await;

    let page = client()
        .get(s["wave_launch_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("1000 XOF") && html.contains("Payer") && html.contains("Échec"));

    let paid = client()
        .post(format!("{}/c/{}/pay", fake.base_url, id_of(&s)))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(paid.headers()["location"], "http://127.0.0.1:9/paid");

    let got = receiver.received();
    assert_eq!(got.len(), 1, "the webhook came before the redirect");
    let hook = &got[0];
    let header = hook.header("wave-signature").expect("Wave-Signature");
    assert!(
        verifies("wave_sn_WHS_secret", header, &hook.body),
        "{header}"
    );
    assert!(!verifies("another-secret", header, &hook.body));
    assert!(hook.json["id"].as_str().unwrap().starts_with("EV_"));
    assert_eq!(hook.json["type"], "checkout.session.completed");
    let data = &hook.json["data"];
    assert_eq!(data["id"], s["id"]);
    assert_eq!(data["checkout_status"], "complete");
    assert_eq!(data["payment_status"], "succeeded");
    assert!(data["transaction_id"].as_str().unwrap().starts_with("T_"));
    assert!(data["when_completed"].is_string());
    assert!(data["last_payment_error"].is_null());

    let read: Value = get(&fake, &format!("/v1/checkout/sessions/{}", id_of(&s)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&read, data);
    let by_transaction = get(
        &fake,
        &format!(
            "/v1/checkout/sessions?transaction_id={}",
            data["transaction_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(by_transaction.json::<Value>().await.unwrap(), read);
    let delivery = &fake.deliveries()[0];
    assert_eq!((delivery.attempt, delivery.outcome.clone()), (1, Ok(200)));
}

#[tokio::test]
async fn a_bearer_webhook_carries_its_secret() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    fake.add_webhook(
        BUSINESS,
        &receiver.url,
        "shared-secret",
        WebhookAuth::Bearer,
    );
    let s = created(&fake, "order-b").await;
    fake.pay(id_of(&s)).await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("authorization"), Some("Bearer shared-secret"));
    assert_eq!(got[0].header("wave-signature"), None);
    assert_eq!(got[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn an_expired_session_cannot_be_paid() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    fake.add_webhook(BUSINESS, &receiver.url, "s", WebhookAuth::Signature);
    let s = created(&fake, "order-e").await;
    let expire = post(
        &fake,
        &format!("/v1/checkout/sessions/{}/expire", id_of(&s)),
    )
    .await;
    assert_eq!(expire.status(), 200);
    assert_eq!(expire.text().await.unwrap(), "");
    let read = fake.session(id_of(&s)).unwrap();
    assert_eq!(read["checkout_status"], "expired");
    assert_eq!(read["payment_status"], "cancelled");
    assert!(read["when_completed"].is_string(), "when it expired");

    let paid = client()
        .post(format!("{}/c/{}/pay", fake.base_url, id_of(&s)))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 409);
    assert!(paid.text().await.unwrap().contains("expiré"));
    assert!(fake.pay(id_of(&s)).await.is_err());
    let again = post(
        &fake,
        &format!("/v1/checkout/sessions/{}/expire", id_of(&s)),
    )
    .await;
    assert_eq!(again.status(), 409);
    assert!(
        receiver.received().is_empty() && fake.events().is_empty(),
        "no webhook"
    );

    fake.set_session_lifetime(Duration::ZERO);
    let late = created(&fake, "order-late").await;
    assert_eq!(
        fake.session(id_of(&late)).unwrap()["checkout_status"],
        "expired"
    );
    assert!(fake.pay(id_of(&late)).await.is_err(), "past when_expires");
}

#[tokio::test]
async fn a_completed_session_cannot_be_expired_and_is_refunded_once() {
    let fake = fake().await;
    let s = created(&fake, "order-c").await;
    let open_refund = post(
        &fake,
        &format!("/v1/checkout/sessions/{}/refund", id_of(&s)),
    )
    .await;
    assert_eq!(open_refund.status(), 400);
    assert_eq!(
        open_refund.json::<Value>().await.unwrap()["code"],
        "checkout-refund-failed"
    );
    fake.pay(id_of(&s)).await.unwrap();
    assert!(fake.pay(id_of(&s)).await.is_err(), "paid once");
    let expire = post(
        &fake,
        &format!("/v1/checkout/sessions/{}/expire", id_of(&s)),
    )
    .await;
    assert_eq!(expire.status(), 409);
    assert_eq!(
        fake.session(id_of(&s)).unwrap()["checkout_status"],
        "complete"
    );
    for _ in 0..2 {
        let refund = post(
            &fake,
            &format!("/v1/checkout/sessions/{}/refund", id_of(&s)),
        )
        .await;
        assert_eq!(refund.status(), 200, "idempotent");
    }
    assert!(fake.refunded(id_of(&s)));
}

#[tokio::test]
async fn a_failed_attempt_sends_payment_failed_and_the_session_stays_payable() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    fake.add_webhook(BUSINESS, &receiver.url, "s", WebhookAuth::Signature);
    let s = created(&fake, "order-f").await;
    let failed = client()
        .post(format!("{}/c/{}/fail", fake.base_url, id_of(&s)))
        .form(&[("code", "insufficient-funds")])
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 303);
    assert_eq!(failed.headers()["location"], "http://127.0.0.1:9/failed");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json["type"], "checkout.session.payment_failed");
    let data = &got[0].json["data"];
    assert_eq!(data["last_payment_error"]["code"], "insufficient-funds");
    assert!(data["last_payment_error"]["message"].is_string());
    assert_eq!(data["checkout_status"], "open");
    assert_eq!(data["payment_status"], "processing");
    assert!(data["transaction_id"].is_null());

    let retried = fake.fail(id_of(&s), "payer-mobile-mismatch").await.unwrap();
    assert_eq!(
        retried["last_payment_error"]["code"],
        "payer-mobile-mismatch"
    );
    let paid = fake.pay(id_of(&s)).await.unwrap();
    assert_eq!(paid["payment_status"], "succeeded");
    assert!(paid["last_payment_error"].is_null());
    let kinds: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| r.json["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "checkout.session.payment_failed",
            "checkout.session.payment_failed",
            "checkout.session.completed"
        ]
    );
}

#[tokio::test]
async fn fail_next_answers_one_500_then_normally() {
    let fake = fake().await;
    fake.fail_next(1, 500);
    let res = create(&fake, &order("order-500")).await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "internal-server-error"
    );
    assert!(
        search(&fake, "order-500").await.is_empty(),
        "the failed call did nothing"
    );
    assert_eq!(create(&fake, &order("order-500")).await.status(), 200);
}

#[tokio::test]
async fn hang_for_outlasts_a_short_client_timeout() {
    let fake = fake().await;
    fake.hang_for(Duration::from_millis(1500));
    let impatient = Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let err = impatient
        .post(format!("{}/v1/checkout/sessions", fake.base_url))
        .bearer_auth(KEY)
        .json(&order("order-slow"))
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(err.is_timeout(), "{err}");
    fake.hang_for(Duration::ZERO);
    assert_eq!(
        search(&fake, "order-slow").await.len(),
        1,
        "the late creation took effect"
    );
}

#[tokio::test]
async fn an_unanswered_webhook_is_retried_and_every_attempt_recorded() {
    let fake = fake().await;
    fake.set_webhook_retries(3, Duration::from_millis(50));
    let receiver = Receiver::start().await;
    receiver.answer(&[500]);
    fake.add_webhook(BUSINESS, &receiver.url, "s", WebhookAuth::Signature);
    let s = created(&fake, "order-r").await;
    fake.pay(id_of(&s)).await.unwrap();
    let attempts: Vec<_> = fake
        .deliveries()
        .iter()
        .map(|d| (d.attempt, d.outcome.clone()))
        .collect();
    assert_eq!(attempts, [(1, Ok(500)), (2, Ok(200))]);
    let got = receiver.received();
    assert_eq!(
        got[0].json["id"], got[1].json["id"],
        "a retry is the same event"
    );

    fake.add_webhook(
        BUSINESS,
        "http://127.0.0.1:9/nobody",
        "s",
        WebhookAuth::Signature,
    );
    fake.set_webhook_retries(2, Duration::from_millis(10));
    let other = created(&fake, "order-r2").await;
    fake.pay(id_of(&other)).await.unwrap();
    let to_nobody: Vec<_> = fake
        .deliveries()
        .into_iter()
        .filter(|d| d.url.ends_with("/nobody"))
        .collect();
    assert_eq!(to_nobody.len(), 2, "bounded");
    assert!(to_nobody.iter().all(|d| d.outcome.is_err()));
}

#[tokio::test]
async fn held_webhooks_arrive_late_and_resend_repeats_the_id() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    fake.add_webhook(BUSINESS, &receiver.url, "s", WebhookAuth::Signature);
    fake.hold_webhooks(true);
    let s = created(&fake, "order-h").await;
    fake.pay(id_of(&s)).await.unwrap();
    assert!(receiver.received().is_empty(), "held");
    assert_eq!(fake.release_webhooks().await.len(), 1);
    let first = receiver.received();
    assert_eq!(first.len(), 1);
    let event_id = first[0].json["id"].as_str().unwrap().to_string();
    fake.resend(&event_id).await;
    let all = receiver.received();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].json["id"], event_id.as_str());
    assert_eq!(all[1].body, all[0].body, "a duplicate");
    assert!(verifies(
        "s",
        all[1].header("wave-signature").unwrap(),
        &all[1].body
    ));
}

#[tokio::test]
async fn forged_deliveries_do_not_verify() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    let hook = fake.add_webhook(
        BUSINESS,
        &receiver.url,
        "real-secret",
        WebhookAuth::Signature,
    );
    let s = created(&fake, "order-x").await;
    let claim = fake.claimed_completion(id_of(&s));
    assert_eq!(
        fake.session(id_of(&s)).unwrap()["checkout_status"],
        "open",
        "a claim changes nothing"
    );
    for forgery in [Forgery::WrongSecret, Forgery::Stale, Forgery::Unsigned] {
        fake.send_forged(hook, &claim, forgery).await;
    }
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.body == claim));
    assert!(!verifies(
        "real-secret",
        got[0].header("wave-signature").unwrap(),
        &claim
    ));
    let stale = got[1].header("wave-signature").unwrap();
    assert!(
        !verifies("real-secret", stale, &claim),
        "older than five minutes"
    );
    let t: i64 = stale.split(',').next().unwrap()[2..].parse().unwrap();
    assert!(
        Utc::now().timestamp() - t >= 600,
        "the signature itself is right, only old"
    );
    assert_eq!(got[2].header("wave-signature"), None);
    assert_eq!(got[2].header("authorization"), None);
}

#[tokio::test]
async fn a_rotating_webhook_signs_with_every_secret() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    let hook = fake.add_webhook(BUSINESS, &receiver.url, "old", WebhookAuth::Signature);
    fake.set_webhook_secrets(hook, &["old", "new"]);
    let s = created(&fake, "order-rot").await;
    fake.pay(id_of(&s)).await.unwrap();
    let got = receiver.received();
    let header = got[0].header("wave-signature").unwrap();
    assert_eq!(header.matches("v1=").count(), 2, "{header}");
    assert!(verifies("old", header, &got[0].body) && verifies("new", header, &got[0].body));
    assert!(!verifies("other", header, &got[0].body));
}
