//! Paying with Orange Money Web Payment, over HTTP, against the local fake of Orange's API
//! (`tests/support/orange.rs`): the customer's path from the page to Orange's payment page and
//! back, and every way it can go wrong — forged notifications (Orange's are unsigned), a
//! matching one Orange's status does not confirm, duplicates, a lost notification, an expired
//! token, Orange answering 500 or hanging, a lost creation answer, and money for an attempt
//! the customer had abandoned. Each ends in exactly one completion and one merchant event, or
//! none.

use std::time::{Duration, Instant};

use caisse::domain::payment::{parse_short_id, short_id};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app_with};
use crate::orange::FakeOrange;
use crate::page::{submit, visit};
use crate::receiver::Receiver;

const CLIENT_ID: &str = "om_client_Boutique7Hq2";
const CLIENT_SECRET: &str = "om_secret_Xk91pLm3";
const MERCHANT_KEY: &str = "e9afd305";

/// A merchant with an Orange Money account registered at caisse, and a receiver of the
/// merchant's own events.
struct Shop {
    app: TestApp,
    orange: FakeOrange,
    webhook_url: String,
    events: Receiver,
}

async fn shop(backend: Backend) -> Option<Shop> {
    shop_reading_every(backend, 1).await
}

/// A shop whose reconciler first reads a pending payment after `secs` seconds: an hour keeps
/// its reads out of a test that counts the calls made to Orange.
async fn shop_reading_every(backend: Backend, secs: u64) -> Option<Shop> {
    let orange = FakeOrange::start().await;
    orange.add_merchant(CLIENT_ID, CLIENT_SECRET, MERCHANT_KEY, "ci");
    let base = orange.base_url.clone();
    let app = spawn_app_with(backend, move |s| {
        s.orange_api_url = base;
        s.reconcile_interval_secs = secs;
    })
    .await?;
    let webhook_url = set_account(&app, &app.key).await;
    let events = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": events.url}))
        .await;
    assert_eq!(res.status(), 201);
    Some(Shop {
        app,
        orange,
        webhook_url,
        events,
    })
}

/// Sets the key's organization's Orange account; returns its `webhook_url`.
async fn set_account(app: &TestApp, key: &str) -> String {
    let res = app
        .put(
            "/v1/providers/orange",
            key,
            &json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                    "merchant_key": MERCHANT_KEY, "country": "CI"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    let url = account["webhook_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&app.url("/providers/orange/")), "{url}");
    url
}

impl Shop {
    /// A 10 000 F CFA session paid with Orange Money on the page: the pay form answers 303 to
    /// Orange's payment page. Returns the session id and the payment's `pay_token`.
    async fn choose_orange(&self) -> (String, String) {
        let id = id_of(&self.app.session(&session_body()).await);
        let (token, _) = self.choose_again(&id).await;
        (id, token.expect("sent to Orange"))
    }

    /// The pay form posted for `id`: the `pay_token` when it sent the customer to Orange, and
    /// the answer's status.
    async fn choose_again(&self, id: &str) -> (Option<String>, u16) {
        let res = submit(
            &self.app,
            &format!("/checkout/{id}"),
            "/pay",
            &[("provider", "ORANGE"), ("customer_phone", "+2250701020304")],
        )
        .await;
        let status = res.status().as_u16();
        let token = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.strip_prefix(&format!("{}/payment/pay_token/", self.orange.base_url)))
            .map(str::to_string);
        (token, status)
    }

    fn status_reads(&self) -> usize {
        self.orange.requests_to("transactionstatus").len()
    }
}

async fn a_customer_pays_with_orange_and_comes_back(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, pay_token) = shop.choose_orange().await;
    let tokens = shop.orange.requests_to("token");
    assert_eq!(tokens.len(), 1);
    assert!(
        tokens[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(tokens[0].body, "grant_type=client_credentials");
    let asked = shop.orange.requests_to("webpayment");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].path, "/orange-money-webpay/dev/v1/webpayment",
        "the sandbox"
    );
    let asked = asked[0].json();
    let payment = &shop.app.payments(&id).await[0];
    let payment_id: Uuid = payment["payment_id"].as_str().unwrap().parse().unwrap();
    let order_id = asked["order_id"].as_str().unwrap();
    assert!(order_id.len() <= 30);
    assert_eq!(parse_short_id(order_id), Some(payment_id));
    assert_eq!(asked["amount"], 10000, "a JSON integer of whole francs");
    assert_eq!(asked["currency"], "OUV", "XOF as the sandbox calls it");
    assert_eq!(asked["merchant_key"], MERCHANT_KEY);
    assert_eq!(asked["lang"], "fr");
    assert_eq!(asked["reference"], "Pagne wax");
    assert_eq!(
        asked["return_url"],
        shop.app.url(&format!("/checkout/{id}/return"))
    );
    assert_eq!(asked["cancel_url"], asked["return_url"]);
    assert_eq!(
        asked["notif_url"],
        format!("{}/{order_id}", shop.webhook_url)
    );
    assert_eq!(payment["status"], "pending");
    // Back on the page before paying: the order is frozen, the way to Orange offered again.
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(!page.html.contains("/quantity"));
    assert!(
        page.html
            .contains(&format!("/payment/pay_token/{pay_token}"))
    );

    let back = shop.orange.pay(&pay_token).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["payment"]["status"], "succeeded");
    assert_eq!(done["payment_provider"], "ORANGE");
    let txnid = shop.orange.payment(&pay_token).unwrap()["txnid"].clone();
    assert_eq!(done["payment"]["provider_reference"], txnid);
    assert!(
        shop.status_reads() >= 1,
        "confirmed at Orange before completing"
    );

    // Orange sends the customer back to caisse's return URL, which leads to the merchant's.
    let res = shop.app.client.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let page = shop
        .app
        .client
        .get(shop.app.url(&format!("/checkout/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("https://shop.example/")
    );

    // The same notification again changes nothing, and is not even read again at Orange.
    let reads = shop.status_reads();
    assert_eq!(shop.orange.resend(&pay_token).await.outcome, Ok(200));
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
    assert_eq!(events[0]["data"]["payment"]["amount"], 10000);
    assert_eq!(events[0]["data"]["payment"]["currency_code"], "XOF");
    assert_eq!(shop.app.payments(&id).await.len(), 1);
    assert_eq!(shop.status_reads(), reads);
}

/// Orange's notifications are unsigned: one whose `notif_token` is not the payment's, one at
/// a URL naming no payment of the account, or one without a token is refused, and nothing is
/// even read at Orange.
async fn a_forged_notification_completes_nothing(backend: Backend) {
    let Some(shop) = shop_reading_every(backend, 3600).await else {
        return;
    };
    let (id, pay_token) = shop.choose_orange().await;
    let (other_id, other_token) = shop.choose_orange().await;
    let other_notif = shop.orange.payment(&other_token).unwrap()["notif_token"].clone();
    let reads = shop.status_reads();
    let claim = |token: &Value| json!({"status": "SUCCESS", "notif_token": token, "txnid": "MP000000000001"});
    for body in [
        claim(&json!("dd497bda3b250e536186fc0663f32f40")),
        claim(&other_notif),
        json!({"status": "SUCCESS"}),
    ] {
        let sent = shop.orange.send_forged(&pay_token, &body).await;
        assert_eq!(sent.outcome, Ok(401), "{body}");
    }
    let mine = shop.orange.payment(&pay_token).unwrap()["notif_token"].clone();
    // The right token, at URLs that do not name its payment.
    for path in [
        shop.webhook_url.clone(),
        format!("{}/{}", shop.webhook_url, short_id(Uuid::new_v4())),
        format!("{}/not-a-payment", shop.webhook_url),
    ] {
        let path = path.strip_prefix(&shop.app.address).unwrap().to_string();
        let res = shop.app.post_raw(&path, claim(&mine).to_string()).await;
        assert_eq!(res.status(), 401, "{path}");
    }
    // Another account's URL is not found.
    let res = shop
        .app
        .post_raw(
            &format!(
                "/providers/orange/{}/{}",
                Uuid::new_v4(),
                short_id(Uuid::new_v4())
            ),
            claim(&mine).to_string(),
        )
        .await;
    assert_eq!(res.status(), 404);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in [&id, &other_id] {
        let s = shop.app.api_session(id).await;
        assert_eq!(
            (s["status"].as_str(), s["payment"]["status"].as_str()),
            (Some("open"), Some("pending"))
        );
    }
    assert!(shop.events.received().is_empty());
    assert_eq!(
        shop.status_reads(),
        reads,
        "nothing is read at Orange for a forgery"
    );
}

/// A notification with the payment's own token, claiming a success Orange does not confirm
/// (the payment is still pending there, or failed), completes nothing: the status read decides.
async fn a_matching_notification_orange_does_not_confirm_completes_nothing(backend: Backend) {
    let Some(shop) = shop_reading_every(backend, 3600).await else {
        return;
    };
    let (id, pay_token) = shop.choose_orange().await;
    let notif_token = shop.orange.payment(&pay_token).unwrap()["notif_token"].clone();
    let claim = json!({"status": "SUCCESS", "notif_token": notif_token, "txnid": "MP999"});
    let reads = shop.status_reads();
    let sent = shop.orange.send_forged(&pay_token, &claim).await;
    assert_eq!(sent.outcome, Ok(200), "a hint, answered at once");
    let deadline = Instant::now() + Duration::from_secs(5);
    while shop.status_reads() == reads && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        shop.status_reads(),
        reads + 1,
        "the hint made caisse read the payment, once"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = shop.app.api_session(&id).await;
    assert_eq!(
        (s["status"].as_str(), s["payment"]["status"].as_str()),
        (Some("open"), Some("pending"))
    );

    // The customer fails at Orange; the same claim of success again still completes nothing.
    shop.orange.fail(&pay_token).await.unwrap();
    let failed = shop
        .app
        .wait_for_session(&id, |s| s["payment"]["status"] == "failed")
        .await;
    assert_eq!(failed["payment"]["status"], "failed");
    assert_eq!(failed["status"], "open", "payable another way");
    assert_eq!(
        shop.orange.send_forged(&pay_token, &claim).await.outcome,
        Ok(200)
    );
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.payment_failed"]
    );
    assert_eq!(shop.app.api_session(&id).await["status"], "open");
}

/// Tokens are kept until they expire, and one Orange ends early is renewed once.
async fn tokens_are_kept_and_an_expired_one_is_renewed_once(backend: Backend) {
    let Some(shop) = shop_reading_every(backend, 3600).await else {
        return;
    };
    let (_, _) = shop.choose_orange().await;
    let (id, pay_token) = shop.choose_orange().await;
    assert_eq!(
        shop.orange.requests_to("token").len(),
        1,
        "one token for both"
    );
    shop.orange.expire_tokens();
    shop.orange.pay(&pay_token).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    assert_eq!(shop.orange.requests_to("token").len(), 2, "renewed once");
    let refused = shop
        .orange
        .requests()
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert_eq!(refused, 1, "one call refused, then the new token");

    // A token that reaches its lifetime is replaced before Orange has to refuse it.
    shop.orange.set_token_lifetime(Duration::from_secs(1));
    shop.orange.expire_tokens();
    let (_, _) = shop.choose_orange().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, _) = shop.choose_orange().await;
    let refused_now = shop
        .orange
        .requests()
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert_eq!(refused_now, 2, "the one early expiry only");
    assert_eq!(shop.orange.requests_to("token").len(), 4);
}

async fn orange_answering_500_leaves_the_session_payable(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.orange.fail_next(1, 500);
    let path = format!("/checkout/{id}");
    let pay = [("provider", "ORANGE"), ("customer_phone", "+2250701020304")];
    let res = submit(&shop.app, &path, "/pay", &pay).await;
    assert_eq!(res.status(), 502);
    let told = res.text().await.unwrap();
    assert!(
        told.contains("Orange Money ne répond pas pour le moment. Réessayez"),
        "{told}"
    );
    assert!(
        told.contains("/pay/reset"),
        "another method can be chosen: {told}"
    );
    let res = shop
        .app
        .client
        .get(shop.app.url(&path))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(shop.app.payments(&id).await[0]["status"], "pending");
    // The customer tries again, and pays.
    let (again, _) = shop.choose_again(&id).await;
    shop.orange
        .pay(&again.expect("sent to Orange"))
        .await
        .unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

/// Orange takes longer than caisse's 10 s timeout: the customer is told once the timeout fires,
/// and the session stays payable.
async fn orange_hanging_is_given_up_on(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.orange.hang_for(Duration::from_secs(30));
    let started = Instant::now();
    let (token, status) = shop.choose_again(&id).await;
    assert_eq!((token, status), (None, 502));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    shop.orange.hang_for(Duration::ZERO);
    let (again, _) = shop.choose_again(&id).await;
    shop.orange
        .pay(&again.expect("sent to Orange"))
        .await
        .unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

/// Orange made the payment but its answer was lost (as when caisse is killed between Orange's
/// answer and its own write): nobody was sent to it, the customer tries again, and only the
/// payment they are sent to completes the session.
async fn a_lost_creation_answer_leaves_nothing_payable_behind(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.orange.lose_next_creation_answer();
    let (token, status) = shop.choose_again(&id).await;
    assert_eq!((token, status), (None, 502));
    let first = shop.app.payments(&id).await[0].clone();
    assert_eq!(first["status"], "pending");
    let (again, _) = shop.choose_again(&id).await;
    shop.orange
        .pay(&again.expect("sent to Orange"))
        .await
        .unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let payments = shop.app.payments(&id).await;
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0]["payment_id"], first["payment_id"]);
    assert_eq!(payments[0]["status"], "canceled");
    assert_eq!(payments[1]["status"], "succeeded");
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

async fn a_lost_notification_is_made_up_by_the_reconciler(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.orange.hold_notifications(true);
    let (id, pay_token) = shop.choose_orange().await;
    shop.orange.pay(&pay_token).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(
        done["status"], "completed",
        "read from Orange without a notification"
    );
    // The notification comes late after all: nothing more happens.
    for sent in shop.orange.release_notifications().await {
        assert_eq!(sent.outcome, Ok(200));
    }
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

/// Orange documents no cancel: an attempt the customer abandons stays payable there. Paid
/// anyway, its money completes the still-open session; a second attempt's money, after that,
/// is recorded and told to the merchant (to refund), never dropped.
async fn money_for_an_abandoned_attempt_completes_and_a_second_is_unmatched(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, first) = shop.choose_orange().await;
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(shop.app.payments(&id).await[0]["status"], "canceled");
    assert_eq!(shop.orange.payment(&first).unwrap()["status"], "INITIATED");
    let (second, _) = shop.choose_again(&id).await;
    let second = second.expect("a second attempt at Orange");

    shop.orange.pay(&first).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(
        done["status"], "completed",
        "the abandoned attempt's money completes it"
    );
    let statuses: Vec<_> = shop
        .app
        .payments(&id)
        .await
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("succeeded"), json!("canceled")]);

    shop.orange.pay(&second).await.unwrap();
    let events = shop.events.settled(2).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec![
            "checkout_session.completed",
            "checkout_session.payment_unmatched"
        ]
    );
    let statuses: Vec<_> = shop
        .app
        .payments(&id)
        .await
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("succeeded"), json!("succeeded")]);
}

/// A live account's payments go to its country's API, in XOF.
async fn a_live_payment_goes_to_the_accounts_country_in_xof(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (_, live_key) = caisse::core::organizations::create_key(
        &shop.app.ctx,
        shop.app.organization_id,
        caisse::domain::session::Environment::Live,
    )
    .await
    .unwrap();
    let live_key = secrecy::ExposeSecret::expose_secret(&live_key).to_string();
    set_account(&shop.app, &live_key).await;
    let res = shop
        .app
        .post_json("/v1/checkout_sessions", &live_key, &session_body())
        .await;
    assert_eq!(res.status(), 201);
    let id = id_of(&res.json().await.unwrap());
    let (pay_token, _) = shop.choose_again(&id).await;
    let pay_token = pay_token.expect("sent to Orange");
    let asked = shop.orange.requests_to("webpayment");
    assert_eq!(asked[0].path, "/orange-money-webpay/ci/v1/webpayment");
    assert_eq!(asked[0].json()["currency"], "XOF");
    shop.orange.pay(&pay_token).await.unwrap();
    let res = shop
        .app
        .get(&format!("/v1/checkout_sessions/{id}"), &live_key)
        .await;
    let mut session: Value = res.json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while session["status"] != "completed" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let res = shop
            .app
            .get(&format!("/v1/checkout_sessions/{id}"), &live_key)
            .await;
        session = res.json().await.unwrap();
    }
    assert_eq!(session["status"], "completed");
    assert_eq!(session["payment"]["currency_code"], "XOF");
}

crate::on_both_backends!(
    a_customer_pays_with_orange_and_comes_back,
    a_forged_notification_completes_nothing,
    a_matching_notification_orange_does_not_confirm_completes_nothing,
    tokens_are_kept_and_an_expired_one_is_renewed_once,
    orange_answering_500_leaves_the_session_payable,
    orange_hanging_is_given_up_on,
    a_lost_creation_answer_leaves_nothing_payable_behind,
    a_lost_notification_is_made_up_by_the_reconciler,
    money_for_an_abandoned_attempt_completes_and_a_second_is_unmatched,
    a_live_payment_goes_to_the_accounts_country_in_xof,
);
