//! The fake of MTN MoMo's Collection API (`tests/support/mtn.rs`) behaves as MTN documents,
//! driven over HTTP without caisse: the subscription key, Basic tokens and their expiry, the
//! request-to-pay's headers and body, 409 on a reused reference id, the status read, the
//! approval window, the unsigned callback, and the failure knobs.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mtn::FakeMtn;
use crate::receiver::Receiver;

const KEY: &str = "sub-1";
const USER: &str = "user-1";
const SECRET: &str = "secret-1";

async fn fake() -> FakeMtn {
    let fake = FakeMtn::start().await;
    fake.add_user(KEY, USER, SECRET, &["sandbox"]);
    fake
}

async fn token_response(fake: &FakeMtn, key: &str, user: &str, secret: &str) -> Response {
    Client::new()
        .post(format!("{}/collection/token/", fake.base_url))
        .basic_auth(user, Some(secret))
        .header("Ocp-Apim-Subscription-Key", key)
        .send()
        .await
        .unwrap()
}

async fn token(fake: &FakeMtn) -> String {
    let res = token_response(fake, KEY, USER, SECRET).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "access_token");
    assert_eq!(body["expires_in"], 3600);
    body["access_token"].as_str().unwrap().to_string()
}

fn authed(req: RequestBuilder, token: &str, target: &str) -> RequestBuilder {
    req.bearer_auth(token)
        .header("Ocp-Apim-Subscription-Key", KEY)
        .header("X-Target-Environment", target)
}

fn body(currency: &str) -> Value {
    json!({"amount": "1000", "currency": currency, "externalId": "order-1",
           "payer": {"partyIdType": "MSISDN", "partyId": "46733123450"},
           "payerMessage": "Pagne wax", "payeeNote": "Pagne wax"})
}

async fn start(fake: &FakeMtn, token: &str, reference: &str, body: &Value) -> Response {
    authed(
        Client::new().post(format!("{}/collection/v1_0/requesttopay", fake.base_url)),
        token,
        "sandbox",
    )
    .header("X-Reference-Id", reference)
    .json(body)
    .send()
    .await
    .unwrap()
}

async fn status(fake: &FakeMtn, token: &str, reference: &str) -> (u16, Value) {
    let res = authed(
        Client::new().get(format!(
            "{}/collection/v1_0/requesttopay/{reference}",
            fake.base_url
        )),
        token,
        "sandbox",
    )
    .send()
    .await
    .unwrap();
    let code = res.status().as_u16();
    (code, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tokens_need_the_subscription_key_and_the_api_users_key() {
    let fake = fake().await;
    assert_eq!(token_response(&fake, "", USER, SECRET).await.status(), 401);
    assert_eq!(
        token_response(&fake, "other", USER, SECRET).await.status(),
        401
    );
    assert_eq!(
        token_response(&fake, KEY, USER, "wrong").await.status(),
        401
    );
    let token = token(&fake).await;
    let reference = Uuid::new_v4().to_string();
    let res = Client::new()
        .post(format!("{}/collection/v1_0/requesttopay", fake.base_url))
        .bearer_auth(&token)
        .header("X-Target-Environment", "sandbox")
        .header("X-Reference-Id", &reference)
        .json(&body("EUR"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no subscription key");
    assert_eq!(
        start(&fake, "not-a-token", &reference, &body("EUR"))
            .await
            .status(),
        401
    );
    fake.expire_tokens();
    assert_eq!(
        start(&fake, &token, &reference, &body("EUR"))
            .await
            .status(),
        401
    );
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn a_request_is_accepted_once_and_read_by_its_reference() {
    let fake = fake().await;
    let token = token(&fake).await;
    let reference = Uuid::new_v4().to_string();
    let res = start(&fake, &token, &reference, &body("EUR")).await;
    assert_eq!(res.status(), 202);
    assert!(res.bytes().await.unwrap().is_empty(), "no body");
    let again = start(&fake, &token, &reference, &body("EUR")).await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        again.json::<Value>().await.unwrap()["code"],
        "RESOURCE_ALREADY_EXIST"
    );
    assert_eq!(fake.request_count(), 1);
    let (code, read) = status(&fake, &token, &reference).await;
    assert_eq!(code, 200);
    assert_eq!(read["status"], "PENDING");
    assert_eq!(read["amount"], "1000");
    assert_eq!(read["externalId"], "order-1");
    let (code, read) = status(&fake, &token, &Uuid::new_v4().to_string()).await;
    assert_eq!(
        (code, read["code"].as_str()),
        (404, Some("RESOURCE_NOT_FOUND"))
    );

    fake.approve(&reference).await.unwrap();
    let (_, read) = status(&fake, &token, &reference).await;
    assert_eq!(read["status"], "SUCCESSFUL");
    assert!(read["financialTransactionId"].is_string());
    assert!(
        fake.decline(&reference, "APPROVAL_REJECTED").await.is_err(),
        "settled once"
    );
}

#[tokio::test]
async fn the_sandbox_takes_eur_and_well_formed_requests_only() {
    let fake = fake().await;
    let token = token(&fake).await;
    let new = || Uuid::new_v4().to_string();
    assert_eq!(
        start(&fake, &token, &new(), &body("XOF")).await.status(),
        400
    );
    assert_eq!(
        start(&fake, &token, "order-1", &body("EUR")).await.status(),
        400
    );
    assert_eq!(
        start(
            &fake,
            &token,
            &Uuid::from_u128(0x1234).to_string(),
            &body("EUR")
        )
        .await
        .status(),
        400
    );
    let mut no_payer = body("EUR");
    no_payer["payer"]["partyId"] = json!("+46733123450");
    assert_eq!(start(&fake, &token, &new(), &no_payer).await.status(), 400);
    let res = authed(
        Client::new().post(format!("{}/collection/v1_0/requesttopay", fake.base_url)),
        &token,
        "mtnivorycoast",
    )
    .header("X-Reference-Id", new())
    .json(&body("XOF"))
    .send()
    .await
    .unwrap();
    assert_eq!(
        res.status(),
        403,
        "a target environment the user may not use"
    );
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn an_unapproved_request_fails_expired_and_callbacks_are_unsigned() {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    let token = token(&fake).await;
    let reference = Uuid::new_v4().to_string();
    let res = authed(
        Client::new().post(format!("{}/collection/v1_0/requesttopay", fake.base_url)),
        &token,
        "sandbox",
    )
    .header("X-Reference-Id", &reference)
    .header("X-Callback-Url", &receiver.url)
    .json(&body("EUR"))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 202);
    fake.decline(&reference, "NOT_ENOUGH_FUNDS").await.unwrap();
    let sent = &fake.callbacks()[0];
    assert_eq!(
        (sent.method.as_str(), sent.outcome.clone()),
        ("POST", Ok(200))
    );
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].json["status"], "FAILED");
    assert_eq!(got[0].json["reason"], "NOT_ENOUGH_FUNDS");

    fake.set_approval_window(Duration::ZERO);
    let late = Uuid::new_v4().to_string();
    assert_eq!(
        start(&fake, &token, &late, &body("EUR")).await.status(),
        202
    );
    let (_, read) = status(&fake, &token, &late).await;
    assert_eq!(
        (read["status"].as_str(), read["reason"].as_str()),
        (Some("FAILED"), Some("EXPIRED"))
    );
    assert!(fake.approve(&late).await.is_err(), "too late to approve");
}

#[tokio::test]
async fn failure_knobs_answer_as_asked() {
    let fake = fake().await;
    fake.fail_tokens_next(1, 500);
    assert_eq!(token_response(&fake, KEY, USER, SECRET).await.status(), 500);
    let token = token(&fake).await;
    fake.fail_starts(1, 503);
    let reference = Uuid::new_v4().to_string();
    assert_eq!(
        start(&fake, &token, &reference, &body("EUR"))
            .await
            .status(),
        503
    );
    assert_eq!(fake.request_count(), 0, "a failed start does nothing");
    fake.lose_next_acceptance();
    assert_eq!(
        start(&fake, &token, &reference, &body("EUR"))
            .await
            .status(),
        500
    );
    assert_eq!(
        fake.request_count(),
        1,
        "a lost acceptance made the request"
    );
    fake.fail_reads(1, 500);
    assert_eq!(status(&fake, &token, &reference).await.0, 500);
    assert_eq!(status(&fake, &token, &reference).await.0, 200);
    fake.approve_paying(&reference, "999").await.unwrap();
    assert_eq!(status(&fake, &token, &reference).await.1["amount"], "999");
}
