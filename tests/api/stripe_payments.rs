//! Paying by card through Stripe Checkout, over HTTP, against the local fake of Stripe's API
//! (`tests/support/stripe/`): the customer's path from the page to Stripe's hosted page and
//! back, in XOF (zero-decimal) and USD (cents), and the events that can go wrong — forged,
//! stale and duplicate ones, a lost one, asynchronous payments that succeed or fail later, an
//! expired session, a signed event for the wrong amount or currency. Each ends in exactly one
//! completion and one merchant event, or none. Stripe failing, hanging, losing its answer and
//! late money are in `stripe_recovery.rs`.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app_with};
use crate::page::{submit, visit};
use crate::receiver::{Receiver, kinds};
use crate::stripe::{FakeStripe, Forgery};

pub const SECRET_KEY: &str = "sk_test_51Boutique7Hq2Xk91pLm3";
pub const WEBHOOK_SECRET: &str = "whsec_Zq81xKv2Lm7pT0aaU3Ye6qP9";

/// A merchant with a Stripe account registered at caisse and its webhook endpoint registered
/// at Stripe, and a receiver of the merchant's own events.
pub struct Shop {
    pub app: TestApp,
    pub stripe: FakeStripe,
    pub events: Receiver,
}

pub async fn shop(backend: Backend) -> Option<Shop> {
    shop_with_key(backend, SECRET_KEY).await
}

/// A shop whose account at caisse holds `secret_key` (the fake knows [`SECRET_KEY`] only).
pub async fn shop_with_key(backend: Backend, secret_key: &str) -> Option<Shop> {
    let stripe = FakeStripe::start().await;
    stripe.add_account(SECRET_KEY);
    let base = stripe.base_url.clone();
    let app = spawn_app_with(backend, move |s| s.stripe_api_url = base).await?;
    let res = app
        .put(
            "/v1/providers/stripe",
            &app.key,
            &json!({"secret_key": secret_key, "webhook_secret": WEBHOOK_SECRET}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    let webhook_url = account["webhook_url"].as_str().unwrap().to_string();
    assert!(
        webhook_url.starts_with(&app.url("/providers/stripe/")),
        "{webhook_url}"
    );
    stripe.add_webhook(SECRET_KEY, &webhook_url, WEBHOOK_SECRET);
    let events = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": events.url}))
        .await;
    assert_eq!(res.status(), 201);
    Some(Shop {
        app,
        stripe,
        events,
    })
}

impl Shop {
    /// A 10 000 F CFA session paid by card on the page, sent to Stripe's hosted page:
    /// the session id and Stripe's session id.
    pub async fn choose_card(&self) -> (String, String) {
        let id = id_of(&self.app.session(&session_body()).await);
        let (cs, _) = self.choose_again(&id).await;
        (id, cs.expect("sent to Stripe"))
    }

    /// The pay form posted for `id`: Stripe's session id when it sent the customer to Stripe,
    /// and the answer's status.
    pub async fn choose_again(&self, id: &str) -> (Option<String>, u16) {
        let res = submit(
            &self.app,
            &format!("/checkout/{id}"),
            "/pay",
            &[("provider", "CARD")],
        )
        .await;
        let status = res.status().as_u16();
        let cs = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.strip_prefix(&format!("{}/c/pay/", self.stripe.base_url)))
            .map(str::to_string);
        (cs, status)
    }

    /// The creation requests Stripe received.
    pub fn creations(&self) -> Vec<crate::stripe::ApiRequest> {
        self.stripe.requests_to("POST", "/v1/checkout/sessions")
    }

    pub async fn statuses(&self, id: &str) -> Vec<Value> {
        self.app
            .payments(id)
            .await
            .iter()
            .map(|p| p["status"].clone())
            .collect()
    }
}

async fn a_customer_pays_by_card_and_comes_back(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    let asked = shop.creations();
    assert_eq!(asked.len(), 1);
    let asked = &asked[0];
    let payment = &shop.app.payments(&id).await[0];
    let payment_id = payment["payment_id"].as_str().unwrap();
    assert_eq!(
        asked.authorization.as_deref(),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(asked.idempotency_key.as_deref(), Some(payment_id));
    assert!(
        asked
            .content_type
            .as_deref()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let field = |k: &str| {
        asked
            .field(k)
            .unwrap_or_else(|| panic!("{k} in {}", asked.body))
    };
    assert_eq!(field("mode"), "payment");
    assert_eq!(field("line_items[0][price_data][currency]"), "xof");
    assert_eq!(
        field("line_items[0][price_data][unit_amount]"),
        "10000",
        "zero-decimal"
    );
    assert_eq!(
        field("line_items[0][price_data][product_data][name]"),
        "Pagne wax"
    );
    assert_eq!(field("line_items[0][quantity]"), "1");
    assert_eq!(
        field("success_url"),
        shop.app.url(&format!("/checkout/{id}/return"))
    );
    assert_eq!(field("cancel_url"), field("success_url"));
    assert_eq!(field("client_reference_id"), payment_id);
    assert_eq!(field("metadata[payment_id]"), payment_id);
    assert_eq!(field("locale"), "fr");
    let expires: i64 = field("expires_at").parse().unwrap();
    let lifetime = expires - chrono::Utc::now().timestamp();
    assert!((29 * 60..=24 * 3600).contains(&lifetime), "{lifetime}");
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["provider_reference"], cs.as_str());
    // Back on the page before paying: the order is frozen, the way to Stripe offered again.
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(!page.html.contains("/quantity"));
    assert!(
        page.html
            .contains(&format!("{}/c/pay/{cs}", shop.stripe.base_url))
    );
    assert!(
        !page.html.contains("data-sandbox"),
        "no sandbox for a real account"
    );

    let back = shop.stripe.pay(&cs).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["payment"]["status"], "succeeded");
    assert_eq!(done["payment_provider"], "CARD");
    assert_eq!(done["payment"]["provider_reference"], cs.as_str());
    // Stripe sends the customer to caisse's return URL, which leads to the merchant's.
    let res = shop.app.client.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let res = shop
        .app
        .client
        .get(shop.app.url(&format!("/checkout/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("https://shop.example/")
    );

    // At least once: the same event again (and again) completes nothing more.
    let event = shop.stripe.events().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..2 {
        for d in shop.stripe.resend(&event).await {
            assert!(d.delivered(), "{d:?}");
        }
    }
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
    assert_eq!(events[0]["data"]["payment"]["amount"], 10000);
    assert_eq!(events[0]["data"]["payment"]["currency_code"], "XOF");
    assert_eq!(shop.app.payments(&id).await.len(), 1);
}

/// USD counts cents at Stripe as in caisse: $12.50 is `unit_amount=1250`, and the page in
/// English (a dollar session's own language) asks Stripe for its English page.
async fn dollars_are_asked_in_cents(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let mut body = session_body();
    body["amount"] = json!(1250);
    body["currency_code"] = json!("USD");
    let id = id_of(&shop.app.session(&body).await);
    // A page in F CFA may send the customer to Stripe's pages beside Wave's and Orange's.
    let xof = id_of(&shop.app.session(&session_body()).await);
    let page = visit(&shop.app, &format!("/checkout/{xof}"), &[]).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    let form_action = csp.split(';').find(|d| d.contains("form-action")).unwrap();
    for origin in [
        shop.stripe.base_url.as_str(),
        "https://pay.wave.com",
        "orange-money.com",
    ] {
        assert!(form_action.contains(origin), "{origin}: {form_action}");
    }
    let res = submit(
        &shop.app,
        &format!("/checkout/{id}"),
        "/pay",
        &[("provider", "CARD")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let asked = &shop.creations()[0];
    assert_eq!(
        asked
            .field("line_items[0][price_data][currency]")
            .as_deref(),
        Some("usd")
    );
    assert_eq!(
        asked
            .field("line_items[0][price_data][unit_amount]")
            .as_deref(),
        Some("1250")
    );
    assert_eq!(asked.field("locale").as_deref(), Some("en"));
    let cs = shop.stripe.sessions()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(shop.stripe.session(&cs).unwrap()["amount_total"], 1250);
    shop.stripe.pay(&cs).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["payment"]["amount"], 1250);
    assert_eq!(done["payment"]["currency_code"], "USD");
}

async fn forged_stale_and_unsigned_events_change_nothing(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    shop.stripe.hold_events(true);
    shop.stripe.pay(&cs).await.unwrap();
    // The real event's body, with the wrong secret, a stale timestamp, or no signature.
    let body = shop.stripe.events().last().unwrap().to_string();
    for forgery in [Forgery::WrongSecret, Forgery::Stale, Forgery::Unsigned] {
        for d in shop.stripe.send_forged(&body, forgery).await {
            assert_eq!(d.outcome, Ok(401), "{forgery:?}");
        }
    }
    let s = shop.app.api_session(&id).await;
    assert_eq!(s["status"], "open");
    assert_eq!(s["payment"]["status"], "pending");
    // An account that does not exist is not found.
    let res = shop
        .app
        .post_raw(&format!("/providers/stripe/{}", uuid::Uuid::new_v4()), body)
        .await;
    assert_eq!(res.status(), 404);
    assert!(shop.events.received().is_empty());
}

/// caisse holds another webhook secret than the endpoint's (a merchant's mistake, or a secret
/// rolled at Stripe only): every event is refused, and the reconciler's read completes the
/// session all the same.
async fn a_wrong_webhook_secret_is_refused_and_the_read_still_completes(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.stripe
        .set_webhook_secrets(&["whsec_rolled_at_stripe_only"]);
    let (id, cs) = shop.choose_card().await;
    shop.stripe.pay(&cs).await.unwrap();
    assert!(
        shop.stripe
            .deliveries()
            .iter()
            .all(|d| d.outcome == Ok(401))
    );
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["status"], "completed", "read from Stripe");
    // While it is rolled, the endpoint's old and new secrets both sign: caisse's one matches.
    shop.stripe
        .set_webhook_secrets(&["whsec_rolled_at_stripe_only", WEBHOOK_SECRET]);
    let event = shop.stripe.events().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        shop.stripe
            .resend(&event)
            .await
            .iter()
            .all(|d| d.outcome == Ok(200))
    );
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
}

async fn a_lost_event_is_made_up_by_the_reconciler(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.stripe.hold_events(true);
    let (id, cs) = shop.choose_card().await;
    // Stripe fails a couple of the reads too (an error, then too many requests).
    shop.stripe.fail_next(1, 500);
    shop.stripe.fail_next(1, 429);
    shop.stripe.pay(&cs).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(
        done["status"], "completed",
        "read from Stripe without an event"
    );
    let reads = shop
        .stripe
        .requests_to("GET", &format!("/v1/checkout/sessions/{cs}"));
    assert!(
        reads.iter().any(|r| r.query.contains("expand")),
        "{reads:?}"
    );
    // The event comes late after all: nothing more happens.
    for d in shop.stripe.release_events().await {
        assert!(d.delivered(), "{d:?}");
    }
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
}

/// A delayed method: `checkout.session.completed` comes `unpaid`, and the session waits for
/// `async_payment_succeeded`; a failed one leaves the session payable.
async fn asynchronous_payments_wait_for_their_outcome(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    shop.stripe.pay_async(&cs).await.unwrap();
    assert!(shop.stripe.deliveries().iter().all(|d| d.delivered()));
    let s = shop.app.api_session(&id).await;
    assert_eq!(
        (s["status"].as_str(), s["payment"]["status"].as_str()),
        (Some("open"), Some("pending"))
    );
    shop.stripe.settle_async(&cs, true).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );

    let (other, cs) = shop.choose_card().await;
    shop.stripe.pay_async(&cs).await.unwrap();
    shop.stripe.settle_async(&cs, false).await.unwrap();
    let failed = shop
        .app
        .wait_for_session(&other, |s| s["payment"]["status"] == "failed")
        .await;
    assert_eq!(failed["status"], "open", "the customer may try again");
    assert_eq!(failed["payment"]["failure_code"], "async_payment_failed");
    let events = shop.events.settled(2).await;
    assert_eq!(
        kinds(&events),
        vec![
            "checkout_session.completed",
            "checkout_session.payment_failed"
        ]
    );
}

/// A delayed payment whose events are lost: the read (the session `complete` and `unpaid`,
/// its payment intent processing, then succeeded) settles it.
async fn an_asynchronous_payment_is_read_until_it_settles(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.stripe.hold_events(true);
    let (id, cs) = shop.choose_card().await;
    shop.stripe.pay_async(&cs).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        shop.app.api_session(&id).await["payment"]["status"],
        "pending"
    );
    shop.stripe.settle_async(&cs, true).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
}

/// Stripe's session expires unpaid: the attempt expires, and the customer may pay again.
async fn an_expired_stripe_session_expires_the_attempt(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    shop.stripe.expire_session(&cs).await.unwrap();
    let s = shop
        .app
        .wait_for_session(&id, |s| s["payment"]["status"] == "expired")
        .await;
    assert_eq!(s["status"], "open");
    let (again, _) = shop.choose_again(&id).await;
    shop.stripe.pay(&again.unwrap()).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
}

/// A correctly signed event for another amount or currency than the payment's (a session
/// edited at Stripe, a bug): the money is recorded and told as unmatched, never taken as the
/// session's total.
async fn a_wrong_amount_or_currency_never_completes(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    for (amount, currency) in [(100, "xof"), (10000, "usd"), (10000, "gbp")] {
        let (id, cs) = shop.choose_card().await;
        let payment_id = shop.app.payments(&id).await[0]["payment_id"].clone();
        let mut object = shop.stripe.session(&cs).unwrap();
        object["status"] = json!("complete");
        object["payment_status"] = json!("paid");
        object["amount_total"] = json!(amount);
        object["currency"] = json!(currency);
        assert_eq!(object["client_reference_id"], payment_id);
        let event = json!({"id": format!("evt_test_{amount}{currency}"), "object": "event",
            "type": "checkout.session.completed", "data": {"object": object}});
        for d in shop.stripe.send_signed(&event.to_string()).await {
            assert_eq!(d.outcome, Ok(200));
        }
        let s = shop.app.api_session(&id).await;
        assert_eq!(s["status"], "open", "{amount} {currency}");
    }
    let events = shop.events.settled(3).await;
    assert_eq!(
        kinds(&events),
        vec!["checkout_session.payment_unmatched"; 3]
    );
}

/// Other event types, and sessions caisse did not make, are acknowledged and ignored.
async fn other_events_are_acknowledged_and_ignored(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    let object = shop.stripe.session(&cs).unwrap();
    let mut foreign = object.clone();
    foreign["client_reference_id"] = json!("order-77");
    foreign["metadata"] = json!({});
    for event in [
        json!({"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", "object": "payment_intent"}}}),
        json!({"id": "evt_2", "type": "checkout.session.completed", "data": {"object": foreign}}),
    ] {
        for d in shop.stripe.send_signed(&event.to_string()).await {
            assert_eq!(d.outcome, Ok(200), "{event}");
        }
    }
    assert_eq!(shop.app.api_session(&id).await["status"], "open");
    assert!(shop.events.received().is_empty());
}

crate::on_both_backends!(
    a_customer_pays_by_card_and_comes_back,
    dollars_are_asked_in_cents,
    forged_stale_and_unsigned_events_change_nothing,
    a_wrong_webhook_secret_is_refused_and_the_read_still_completes,
    a_lost_event_is_made_up_by_the_reconciler,
    asynchronous_payments_wait_for_their_outcome,
    an_asynchronous_payment_is_read_until_it_settles,
    an_expired_stripe_session_expires_the_attempt,
    a_wrong_amount_or_currency_never_completes,
    other_events_are_acknowledged_and_ignored,
);
