//! The fake of Orange Money Web Payment (`tests/support/orange.rs`) behaves as Orange
//! documents, driven over HTTP without caisse: tokens and their expiry, the web payment's
//! fields, the transaction status, the payment page, the unsigned notification, and every
//! failure knob.

use std::time::{Duration, Instant};

use reqwest::{Client, Response, redirect};
use serde_json::{Value, json};

use crate::orange::FakeOrange;
use crate::receiver::Receiver;

const CLIENT_ID: &str = "om_client_7Hq2";
const CLIENT_SECRET: &str = "om_secret_Xk91";
const MERCHANT_KEY: &str = "e9afd305";

async fn fake() -> FakeOrange {
    let fake = FakeOrange::start().await;
    fake.add_merchant(CLIENT_ID, CLIENT_SECRET, MERCHANT_KEY, "ci");
    fake
}

fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

async fn token_response(fake: &FakeOrange, id: &str, secret: &str, form: &str) -> Response {
    client()
        .post(format!("{}/oauth/v3/token", fake.base_url))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap()
}

async fn token(fake: &FakeOrange) -> String {
    let res = token_response(
        fake,
        CLIENT_ID,
        CLIENT_SECRET,
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    body["access_token"].as_str().unwrap().to_string()
}

fn order(order_id: &str, notif_url: &str) -> Value {
    json!({
        "merchant_key": MERCHANT_KEY,
        "currency": "OUV",
        "order_id": order_id,
        "amount": 1000,
        "return_url": "http://127.0.0.1:9/back",
        "cancel_url": "http://127.0.0.1:9/cancel",
        "notif_url": notif_url,
        "lang": "fr",
        "reference": "Boutique Awa",
    })
}

async fn call(fake: &FakeOrange, token: &str, path: &str, body: &Value) -> Response {
    client()
        .post(format!("{}/orange-money-webpay/{path}", fake.base_url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn created(fake: &FakeOrange, token: &str, order_id: &str, notif_url: &str) -> Value {
    let res = call(
        fake,
        token,
        "dev/v1/webpayment",
        &order(order_id, notif_url),
    )
    .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 201);
    assert_eq!(body["message"], "OK");
    body
}

async fn status(fake: &FakeOrange, token: &str, order_id: &str, pay_token: &str) -> Value {
    let res = call(
        fake,
        token,
        "dev/v1/transactionstatus",
        &json!({"order_id": order_id, "amount": 1000, "pay_token": pay_token}),
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn tokens_need_the_clients_credentials_and_the_grant() {
    let fake = fake().await;
    let res = token_response(&fake, CLIENT_ID, "wrong", "grant_type=client_credentials").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let res = token_response(&fake, CLIENT_ID, CLIENT_SECRET, "grant_type=password").await;
    assert_eq!(res.status(), 400);
    let token = token(&fake).await;
    // The API refuses no token and an unknown one.
    let res = call(
        &fake,
        "nope",
        "dev/v1/webpayment",
        &order("o1", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 41);
    created(&fake, &token, "o1", "http://127.0.0.1:9/n").await;
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime_or_when_told() {
    let fake = fake().await;
    fake.set_token_lifetime(Duration::from_secs(1));
    let short = token(&fake).await;
    created(&fake, &short, "o1", "http://127.0.0.1:9/n").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = call(
        &fake,
        &short,
        "dev/v1/webpayment",
        &order("o2", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["code"].clone(), body["message"].clone()),
        (json!(42), json!("Expired credentials"))
    );

    fake.set_token_lifetime(Duration::from_secs(3600));
    let long = token(&fake).await;
    fake.expire_tokens();
    let res = call(
        &fake,
        &long,
        "dev/v1/webpayment",
        &order("o2", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(res.status(), 401);
    let fresh = token(&fake).await;
    created(&fake, &fresh, "o2", "http://127.0.0.1:9/n").await;
}

#[tokio::test]
async fn web_payments_take_the_documented_fields_only() {
    let fake = fake().await;
    let token = token(&fake).await;
    let long_url = format!("http://127.0.0.1:9/{}", "n".repeat(120));
    let mut cases: Vec<Value> = Vec::new();
    for (field, value) in [
        ("currency", json!("XOF")),
        ("merchant_key", json!("another")),
        ("amount", json!("1000")),
        ("amount", json!(0)),
        ("order_id", json!("o".repeat(31))),
        ("reference", json!("r".repeat(31))),
        ("notif_url", json!(long_url)),
        ("lang", json!("wo")),
    ] {
        let mut body = order("bad", "http://127.0.0.1:9/n");
        body[field] = value;
        cases.push(body);
    }
    for body in cases {
        let res = call(&fake, &token, "dev/v1/webpayment", &body).await;
        assert_eq!(res.status(), 400, "{body}");
    }
    // The sandbox takes OUV; the merchant's country takes XOF, and no other country.
    created(&fake, &token, "o1", "http://127.0.0.1:9/n").await;
    let mut live = order("o2", "http://127.0.0.1:9/n");
    live["currency"] = json!("XOF");
    assert_eq!(
        call(&fake, &token, "ci/v1/webpayment", &live)
            .await
            .status(),
        201
    );
    assert_eq!(
        call(&fake, &token, "sn/v1/webpayment", &live)
            .await
            .status(),
        403
    );
    // An order id is used once.
    let res = call(
        &fake,
        &token,
        "dev/v1/webpayment",
        &order("o1", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_payment_is_initiated_pending_then_paid_and_notified_unsigned() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    let token = token(&fake).await;
    let made = created(&fake, &token, "o1", &receiver.url).await;
    let pay_token = made["pay_token"].as_str().unwrap();
    assert_eq!(
        status(&fake, &token, "o1", pay_token).await["status"],
        "INITIATED"
    );
    // The customer opens the payment page.
    let page = client()
        .get(made["payment_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"pay\"") && html.contains("1000 OUV"),
        "{html}"
    );
    assert_eq!(
        status(&fake, &token, "o1", pay_token).await["status"],
        "PENDING"
    );
    // Another order id or amount finds nothing.
    let res = call(
        &fake,
        &token,
        "dev/v1/transactionstatus",
        &json!({"order_id": "o1", "amount": 999, "pay_token": pay_token}),
    )
    .await;
    assert_eq!(res.status(), 404);

    let pay = client()
        .post(format!("{}/pay", made["payment_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(pay.status(), 303);
    assert_eq!(pay.headers()["location"], "http://127.0.0.1:9/back");
    let read = status(&fake, &token, "o1", pay_token).await;
    assert_eq!(read["status"], "SUCCESS");
    assert_eq!(read["order_id"], "o1");
    let txnid = read["txnid"].as_str().unwrap().to_string();
    assert!(txnid.starts_with("MP"), "{txnid}");

    let got = receiver.wait_for(1).await;
    assert_eq!(
        got[0].json,
        json!({"status": "SUCCESS", "notif_token": made["notif_token"], "txnid": txnid})
    );
    assert!(got[0].header("authorization").is_none(), "unsigned");
    assert!(fake.pay(pay_token).await.is_err(), "paid once");
}

#[tokio::test]
async fn a_failed_payment_is_notified_and_sends_the_customer_to_cancel_url() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    let token = token(&fake).await;
    let made = created(&fake, &token, "o1", &receiver.url).await;
    let pay_token = made["pay_token"].as_str().unwrap();
    assert_eq!(
        fake.fail(pay_token).await.unwrap(),
        "http://127.0.0.1:9/cancel"
    );
    assert_eq!(
        status(&fake, &token, "o1", pay_token).await["status"],
        "FAILED"
    );
    assert_eq!(receiver.wait_for(1).await[0].json["status"], "FAILED");
}

#[tokio::test]
async fn an_unpaid_payment_expires() {
    let fake = fake().await;
    fake.set_payment_validity(Duration::from_millis(300));
    let token = token(&fake).await;
    let made = created(&fake, &token, "o1", "http://127.0.0.1:9/n").await;
    let pay_token = made["pay_token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        status(&fake, &token, "o1", pay_token).await["status"],
        "EXPIRED"
    );
    assert!(fake.pay(pay_token).await.is_err());
}

#[tokio::test]
async fn failure_knobs_fail_hang_and_lose_answers() {
    let fake = fake().await;
    let token = token(&fake).await;
    fake.fail_next(1, 500);
    let res = call(
        &fake,
        &token,
        "dev/v1/webpayment",
        &order("o1", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(res.status(), 500);
    assert!(fake.pay_token_of("o1").is_none(), "a failure does nothing");

    fake.lose_next_creation_answer();
    let res = call(
        &fake,
        &token,
        "dev/v1/webpayment",
        &order("o1", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(res.status(), 500);
    assert!(fake.pay_token_of("o1").is_some(), "made, its answer lost");

    fake.hang_for(Duration::from_millis(600));
    let started = Instant::now();
    created(&fake, &token, "o2", "http://127.0.0.1:9/n").await;
    assert!(started.elapsed() >= Duration::from_millis(600));
    fake.hang_for(Duration::ZERO);

    // Held notifications go late, and a duplicate is the same body.
    let receiver = Receiver::start().await;
    let made = created(&fake, &token, "o3", &receiver.url).await;
    let pay_token = made["pay_token"].as_str().unwrap();
    fake.hold_notifications(true);
    fake.pay(pay_token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty());
    let sent = fake.release_notifications().await;
    assert_eq!(sent[0].outcome, Ok(200));
    let again = fake.resend(pay_token).await;
    assert_eq!(again.body, sent[0].body);
    assert_eq!(receiver.wait_for(2).await.len(), 2);
}
