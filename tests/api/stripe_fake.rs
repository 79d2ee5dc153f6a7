//! The fake of Stripe's API itself, over HTTP, as Stripe documents it: Bearer keys, form
//! bodies checked as Stripe checks them, idempotency keys (the same request gives the same
//! answer, other parameters are an `idempotency_error`, a refused request saves nothing),
//! sessions that move open → complete or expired, and signed events.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::receiver::Receiver;
use crate::stripe::FakeStripe;

const KEY: &str = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc";

fn form(expires_in: i64, amount: &str) -> Vec<(String, String)> {
    let expires = chrono::Utc::now().timestamp() + expires_in;
    [
        ("mode", "payment".to_string()),
        ("line_items[0][price_data][currency]", "xof".into()),
        ("line_items[0][price_data][unit_amount]", amount.into()),
        (
            "line_items[0][price_data][product_data][name]",
            "Pagne wax".into(),
        ),
        ("line_items[0][quantity]", "1".into()),
        (
            "success_url",
            "http://127.0.0.1:9/ok?cs={CHECKOUT_SESSION_ID}".into(),
        ),
        ("cancel_url", "http://127.0.0.1:9/cancel".into()),
        ("client_reference_id", "order-42".into()),
        ("metadata[payment_id]", "order-42".into()),
        ("expires_at", expires.to_string()),
        ("locale", "fr".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn create(
    fake: &FakeStripe,
    key: Option<&str>,
    idempotency: Option<&str>,
    body: &[(String, String)],
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", fake.base_url))
        .form(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(i) = idempotency {
        req = req.header("Idempotency-Key", i);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn get(fake: &FakeStripe, path: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", fake.base_url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn keys_and_parameters_are_checked_as_stripe_checks_them() {
    let fake = FakeStripe::start().await;
    fake.add_account(KEY);
    let (status, body) = create(&fake, None, None, &form(3600, "10000")).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = create(&fake, Some("sk_test_other"), None, &form(3600, "10000")).await;
    assert_eq!(status, 401);
    for (why, body) in [
        ("too soon", form(10 * 60, "10000")),
        ("too late", form(25 * 3600, "10000")),
        ("decimals", form(3600, "100.5")),
        ("zero", form(3600, "0")),
        ("unknown", {
            let mut f = form(3600, "10000");
            f.push(("shipping_rate".into(), "x".into()));
            f
        }),
        ("upper case", {
            let mut f = form(3600, "10000");
            f[1].1 = "XOF".into();
            f
        }),
    ] {
        let (status, answer) = create(&fake, Some(KEY), None, &body).await;
        assert_eq!(status, 400, "{why}: {answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error", "{why}");
    }
    assert!(fake.sessions().is_empty());
    let (status, s) = create(&fake, Some(KEY), None, &form(3600, "10000")).await;
    assert_eq!(status, 200, "{s}");
    assert!(s["id"].as_str().unwrap().starts_with("cs_test_"));
    assert_eq!(s["amount_total"], 10000, "zero-decimal: 10 000 F CFA");
    assert_eq!(s["currency"], "xof");
    assert_eq!(
        (s["status"].as_str(), s["payment_status"].as_str()),
        (Some("open"), Some("unpaid"))
    );
    assert_eq!(s["metadata"]["payment_id"], "order-42");
    assert!(
        s["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/c/pay/cs_test_", fake.base_url))
    );
    let page = reqwest::get(s["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<p id=\"amount\">10000 XOF</p>"), "{html}");
    assert!(html.contains("id=\"pay\""), "{html}");
}

#[tokio::test]
async fn an_idempotency_key_gives_the_same_answer_and_refuses_other_parameters() {
    let fake = FakeStripe::start().await;
    fake.add_account(KEY);
    let body = form(3600, "10000");
    let (_, first) = create(&fake, Some(KEY), Some("pay-1"), &body).await;
    let (status, again) = create(&fake, Some(KEY), Some("pay-1"), &body).await;
    assert_eq!((status, &again), (200, &first), "the saved answer");
    assert_eq!(fake.sessions().len(), 1, "never a second session");
    let (status, other) = create(&fake, Some(KEY), Some("pay-1"), &form(3600, "500")).await;
    assert_eq!(status, 400);
    assert_eq!(other["error"]["type"], "idempotency_error");
    // A refused request saves nothing for its key: the key may then be used for a good one.
    let (status, _) = create(&fake, Some(KEY), Some("pay-2"), &form(60, "10000")).await;
    assert_eq!(status, 400);
    let (status, made) = create(&fake, Some(KEY), Some("pay-2"), &body).await;
    assert_eq!(status, 200);
    assert_ne!(made["id"], first["id"]);
    // Without a key, every request makes a session.
    create(&fake, Some(KEY), None, &body).await;
    create(&fake, Some(KEY), None, &body).await;
    assert_eq!(fake.sessions().len(), 4);
    // A failure before Stripe begins saves nothing either.
    fake.fail_next(1, 500);
    let (status, _) = create(&fake, Some(KEY), Some("pay-3"), &body).await;
    assert_eq!(status, 500);
    let (status, _) = create(&fake, Some(KEY), Some("pay-3"), &body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sessions_complete_or_expire_and_their_events_are_signed() {
    let fake = FakeStripe::start().await;
    fake.add_account(KEY);
    let hook = Receiver::start().await;
    fake.add_webhook(KEY, &hook.url, "whsec_fake");
    let (_, s) = create(&fake, Some(KEY), None, &form(3600, "10000")).await;
    let id = s["id"].as_str().unwrap();
    let back = fake.pay(id).await.unwrap();
    assert_eq!(back, format!("http://127.0.0.1:9/ok?cs={id}"));
    let (_, read) = get(
        &fake,
        &format!("/v1/checkout/sessions/{id}?expand[]=payment_intent"),
    )
    .await;
    assert_eq!(
        (read["status"].as_str(), read["payment_status"].as_str()),
        (Some("complete"), Some("paid"))
    );
    assert_eq!(read["payment_intent"]["status"], "succeeded");
    assert!(read["url"].is_null(), "no page once complete");
    assert!(fake.pay(id).await.is_err(), "paid once");
    let received = hook.wait_for(1).await;
    let event = &received[0];
    assert_eq!(event.json["type"], "checkout.session.completed");
    assert_eq!(event.json["data"]["object"]["id"], id);
    // Stripe-Signature: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<raw body>").
    let header = event.header("stripe-signature").unwrap().to_string();
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap();
    let v1 = header
        .split(',')
        .find_map(|p| p.strip_prefix("v1="))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_fake").unwrap();
    mac.update(format!("{t}.{}", event.body).as_bytes());
    assert_eq!(hex::encode(mac.finalize().into_bytes()), v1);

    // Expiring: an open one expires (and says so); a complete one cannot.
    let expire = |id: String| {
        let url = format!("{}/v1/checkout/sessions/{id}/expire", fake.base_url);
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) = expire(id.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    let (_, open) = create(&fake, Some(KEY), None, &form(3600, "10000")).await;
    let open_id = open["id"].as_str().unwrap().to_string();
    let (status, expired) = expire(open_id.clone()).await;
    assert_eq!((status, expired["status"].as_str()), (200, Some("expired")));
    assert!(fake.pay(&open_id).await.is_err());
    let received = hook.wait_for(2).await;
    assert_eq!(received[1].json["type"], "checkout.session.expired");
    let (status, _) = get(&fake, "/v1/checkout/sessions/cs_test_nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn asynchronous_payments_complete_unpaid_then_settle() {
    let fake = FakeStripe::start().await;
    fake.add_account(KEY);
    let (_, s) = create(&fake, Some(KEY), None, &form(3600, "10000")).await;
    let id = s["id"].as_str().unwrap();
    fake.pay_async(id).await.unwrap();
    let (_, read) = get(
        &fake,
        &format!("/v1/checkout/sessions/{id}?expand[]=payment_intent"),
    )
    .await;
    assert_eq!(
        (read["status"].as_str(), read["payment_status"].as_str()),
        (Some("complete"), Some("unpaid"))
    );
    assert_eq!(read["payment_intent"]["status"], "processing");
    fake.settle_async(id, false).await.unwrap();
    let (_, read) = get(
        &fake,
        &format!("/v1/checkout/sessions/{id}?expand[]=payment_intent"),
    )
    .await;
    assert_eq!(read["payment_intent"]["status"], "requires_payment_method");
    let kinds: Vec<Value> = fake.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        kinds,
        [
            "checkout.session.completed",
            "checkout.session.async_payment_failed"
        ]
    );
}

#[tokio::test]
async fn a_lost_answer_is_cut_off_but_its_result_is_saved() {
    let fake = FakeStripe::start().await;
    fake.add_account(KEY);
    fake.lose_next_answer();
    let body = form(3600, "10000");
    let res = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", fake.base_url))
        .bearer_auth(KEY)
        .header("Idempotency-Key", "pay-9")
        .form(&body)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    let cut = match res {
        Err(_) => true,
        Ok(res) => res.bytes().await.is_err(),
    };
    assert!(cut, "the answer never arrives whole");
    assert_eq!(fake.sessions().len(), 1);
    let (status, again) = create(&fake, Some(KEY), Some("pay-9"), &body).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], fake.sessions()[0]["id"]);
}
