//! Paying with Wave, over HTTP, against the local fake of Wave's API (`tests/support/wave.rs`):
//! the customer's path from the page to Wave's launch page and back, and every way it can go
//! wrong — forged, stale and duplicate notifications, a lost notification, one racing the
//! customer's return, Wave answering 500 or hanging, a lost creation answer, a method
//! switched, and money for an attempt the customer had abandoned. Each ends in exactly one completion and one merchant event, or none.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app_with};
use crate::page::{submit, visit};
use crate::receiver::Receiver;
use crate::wave::{FakeWave, Forgery, WebhookAuth, WebhookId};

const API_KEY: &str = "wave_sn_prod_Zq81xKv2Lm7pT0aa";
const SECRET: &str = "wave_sn_WHS_u3Ye6qP9rN4cB2bb";
const BUSINESS: &str = "Boutique Awa";

/// A merchant with a Wave account registered at caisse and its webhook registered at Wave,
/// and a receiver of the merchant's own events.
struct Shop {
    app: TestApp,
    wave: FakeWave,
    webhook: WebhookId,
    events: Receiver,
}

async fn shop(backend: Backend, auth: WebhookAuth) -> Option<Shop> {
    let wave = FakeWave::start().await;
    wave.add_api_key(API_KEY, BUSINESS);
    let base = wave.base_url.clone();
    let app = spawn_app_with(backend, move |s| s.wave_api_url = base).await?;
    let mode = if auth == WebhookAuth::Bearer {
        "bearer"
    } else {
        "signature"
    };
    let res = app
        .put(
            "/v1/providers/wave",
            &app.key,
            &json!({"api_key": API_KEY, "webhook_secret": SECRET, "webhook_auth": mode}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    let webhook_url = account["webhook_url"].as_str().unwrap().to_string();
    assert!(
        webhook_url.starts_with(&app.url("/providers/wave/")),
        "{webhook_url}"
    );
    let webhook = wave.add_webhook(BUSINESS, &webhook_url, SECRET, auth);
    let events = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": events.url}))
        .await;
    assert_eq!(res.status(), 201);
    Some(Shop {
        app,
        wave,
        webhook,
        events,
    })
}

impl Shop {
    /// Waits (for ten seconds at most) until Wave's session is no longer open; its
    /// `checkout_status` then.
    async fn wave_status_after_open(&self, wave_id: &str) -> String {
        let status = || self.wave.session(wave_id).unwrap()["checkout_status"].clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        while status() == "open" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        status().as_str().unwrap_or_default().to_string()
    }

    /// A 10 000 F CFA session paid with Wave on the page: the pay form answers 303 to Wave's
    /// launch page. Returns the session id and Wave's session id.
    async fn choose_wave(&self) -> (String, String) {
        let id = id_of(&self.app.session(&session_body()).await);
        let (wave_id, _) = self.choose_again(&id).await;
        (id, wave_id.expect("sent to Wave"))
    }

    /// The pay form posted for `id`: Wave's session id when it sent the customer to Wave, and
    /// the answer's status.
    async fn choose_again(&self, id: &str) -> (Option<String>, u16) {
        let path = format!("/checkout/{id}");
        let res = submit(
            &self.app,
            &path,
            "/pay",
            &[("provider", "WAVE"), ("customer_phone", "+221770000000")],
        )
        .await;
        let status = res.status().as_u16();
        let launch = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .filter(|l| l.starts_with(&format!("{}/c/", self.wave.base_url)))
            .map(|l| l.rsplit('/').next().unwrap().to_string());
        (launch, status)
    }

    fn created_at_wave(&self) -> Vec<Value> {
        self.wave
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/checkout/sessions")
            .map(|r| r.json())
            .collect()
    }
}

async fn a_customer_pays_with_wave_and_comes_back(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, wave_id) = shop.choose_wave().await;
    let asked = shop.created_at_wave();
    assert_eq!(asked.len(), 1);
    let payment = &shop.app.payments(&id).await[0];
    assert_eq!(asked[0]["amount"], "10000", "a string of whole francs");
    assert_eq!(asked[0]["currency"], "XOF");
    assert_eq!(asked[0]["client_reference"], payment["payment_id"]);
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["provider_reference"], wave_id.as_str());
    // Back on the page before paying: the order is frozen, the way to Wave offered again.
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(!page.html.contains("/quantity"));
    assert!(
        page.html
            .contains(&format!("href=\"{}/c/{wave_id}\"", shop.wave.base_url)),
        "the way back to Wave's page"
    );
    assert!(
        !page.html.contains("data-sandbox"),
        "no sandbox for a real account"
    );

    shop.wave.pay(&wave_id).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["payment"]["status"], "succeeded");
    assert_eq!(done["payment_provider"], "WAVE");

    // Wave sends the customer to caisse's return URL, which leads to the merchant's.
    let back = shop
        .app
        .client
        .get(shop.app.url(&format!("/checkout/{id}/return")))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
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

    // Wave delivers at least once: the same event again changes nothing.
    let event = shop.wave.events().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for d in shop.wave.resend(&event).await {
        assert!(d.delivered(), "{d:?}");
    }
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
    assert_eq!(events[0]["data"]["payment"]["amount"], 10000);
    assert_eq!(shop.app.payments(&id).await.len(), 1);
}

async fn forged_stale_and_unsigned_notifications_change_nothing(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, wave_id) = shop.choose_wave().await;
    let claim = shop.wave.claimed_completion(&wave_id);
    for forgery in [Forgery::WrongSecret, Forgery::Stale, Forgery::Unsigned] {
        let d = shop.wave.send_forged(shop.webhook, &claim, forgery).await;
        assert_eq!(d.outcome, Ok(401), "{forgery:?}");
    }
    let s = shop.app.api_session(&id).await;
    assert_eq!(
        (s["status"].as_str(), s["payment"]["status"].as_str()),
        (Some("open"), Some("pending"))
    );
    // An unknown account, or one of another provider, is not found.
    let res = shop
        .app
        .post_raw(
            &format!("/providers/wave/{}", uuid::Uuid::new_v4()),
            claim.clone(),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert!(shop.events.received().is_empty());
}

async fn a_bearer_secret_is_checked_whole(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Bearer).await else {
        return;
    };
    let (id, wave_id) = shop.choose_wave().await;
    let claim = shop.wave.claimed_completion(&wave_id);
    let d = shop
        .wave
        .send_forged(shop.webhook, &claim, Forgery::WrongSecret)
        .await;
    assert_eq!(d.outcome, Ok(401));
    assert_eq!(shop.app.api_session(&id).await["status"], "open");
    shop.wave.pay(&wave_id).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
}

async fn a_lost_notification_is_made_up_by_the_reconciler(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    shop.wave.hold_webhooks(true);
    let (id, wave_id) = shop.choose_wave().await;
    shop.wave.pay(&wave_id).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(
        done["status"], "completed",
        "read from Wave without a notification"
    );
    // The notification comes late after all: nothing more happens.
    shop.wave.release_webhooks().await;
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

async fn wave_answering_500_leaves_the_session_payable(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.wave.fail_next(1, 500);
    let path = format!("/checkout/{id}");
    let pay = [("provider", "WAVE"), ("customer_phone", "+221770000000")];
    let res = submit(&shop.app, &path, "/pay", &pay).await;
    assert_eq!(res.status(), 502);
    let told = res.text().await.unwrap();
    assert!(
        told.contains("Wave ne répond pas pour le moment. Réessayez"),
        "{told}"
    );
    assert!(
        told.contains("/pay/reset"),
        "another method can be chosen: {told}"
    );
    let page = visit(&shop.app, &path, &[]).await;
    assert_eq!(
        shop.app.payments(&id).await[0]["status"],
        "pending",
        "{}",
        page.status
    );
    // Wave never made the session: reading it finds none, and the attempt ends by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    while shop.app.payments(&id).await[0]["status"] == "pending" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shop.app.payments(&id).await[0]["status"], "expired");
    // The customer tries again, and pays.
    let (launch, _) = shop.choose_again(&id).await;
    shop.wave.pay(&launch.expect("sent to Wave")).await.unwrap();
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

/// Wave made the session but its answer was lost (as when caisse is killed between Wave's
/// answer and its own write): the attempt is found again by its id, and its money completes.
async fn a_lost_creation_answer_is_found_again(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.wave.lose_next_creation_answer();
    let (launch, status) = shop.choose_again(&id).await;
    assert_eq!((launch, status), (None, 502));
    let made = shop.created_at_wave();
    assert_eq!(made.len(), 1, "made at Wave");
    let payment_id = made[0]["client_reference"].as_str().unwrap().to_string();
    assert_eq!(
        shop.app.payments(&id).await[0]["payment_id"],
        payment_id.as_str()
    );
    assert_eq!(shop.app.payments(&id).await[0]["status"], "pending");
    // The customer pays that session after all (Wave's page was open in another tab).
    let session_at_wave = find_wave_session(&shop, &payment_id).await;
    shop.wave.pay(&session_at_wave).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
    assert_eq!(
        shop.app.payments(&id).await.len(),
        1,
        "one attempt, never a second"
    );
}

/// Wave's id of the session made for `payment_id`, as its search answers.
async fn find_wave_session(shop: &Shop, payment_id: &str) -> String {
    let res = reqwest::Client::new()
        .get(format!(
            "{}/v1/checkout/sessions/search",
            shop.wave.base_url
        ))
        .query(&[("client_reference", payment_id)])
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let found: Value = res.json().await.unwrap();
    found["result"][0]["id"].as_str().unwrap().to_string()
}

async fn another_method_expires_the_wave_session(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, wave_id) = shop.choose_wave().await;
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        shop.wave.session(&wave_id).unwrap()["checkout_status"],
        "expired"
    );
    assert_eq!(shop.app.payments(&id).await[0]["status"], "canceled");
    assert!(
        shop.wave.pay(&wave_id).await.is_err(),
        "an expired Wave session cannot be paid"
    );
}

/// The customer abandoned a Wave attempt that could not be expired at Wave, and then paid it
/// anyway: the still-open session completes with it. A second attempt's money, after the
/// session was paid, is recorded and told to the merchant (to refund), never dropped.
async fn money_for_an_abandoned_attempt_completes_and_a_second_is_unmatched(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, first) = shop.choose_wave().await;
    // Wave cannot expire sessions while the customer switches methods (and after): each
    // attempt ends here, and stays payable at Wave.
    shop.wave.fail_expiries(true);
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(shop.app.payments(&id).await[0]["status"], "canceled");
    assert_eq!(
        shop.wave.session(&first).unwrap()["checkout_status"],
        "open"
    );
    let (second, _) = shop.choose_again(&id).await;
    let second = second.expect("a second attempt at Wave");

    // The first attempt's money comes; the second, ended by that completion, cannot be
    // expired at Wave either.
    shop.wave.pay(&first).await.unwrap();
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
    assert_eq!(
        shop.wave.session(&second).unwrap()["checkout_status"],
        "open"
    );

    // The customer pays the second one too: that money is recorded and told, never dropped.
    shop.wave.pay(&second).await.unwrap();
    let events = shop.events.settled(2).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec![
            "checkout_session.completed",
            "checkout_session.payment_unmatched"
        ]
    );
    let unmatched = events
        .iter()
        .find(|e| e["event"] == "checkout_session.payment_unmatched")
        .unwrap();
    assert_eq!(unmatched["data"]["status"], "completed");
    assert_eq!(unmatched["data"]["payment"]["status"], "succeeded");
    let statuses: Vec<_> = shop
        .app
        .payments(&id)
        .await
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("succeeded"), json!("succeeded")]);
    assert_eq!(
        shop.app.api_session(&id).await["payment"]["payment_id"],
        shop.app.payments(&id).await[1]["payment_id"]
    );
}

/// An abandoned attempt Wave could not expire is read until Wave says how it ended: paid
/// there with its notification lost, its money still completes the session, once.
async fn an_abandoned_attempt_paid_without_a_notification_is_found(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, first) = shop.choose_wave().await;
    shop.wave.fail_expiries(true);
    shop.wave.hold_webhooks(true);
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(shop.app.payments(&id).await[0]["status"], "canceled");
    shop.wave.pay(&first).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["status"], "completed", "read from Wave, unnotified");
    assert_eq!(done["payment"]["status"], "succeeded");
    // The notification comes late after all: nothing more happens.
    shop.wave.release_webhooks().await;
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
    assert_eq!(shop.app.payments(&id).await.len(), 1);
}

/// A session the merchant reports paid another way while a Wave attempt is under way: the
/// attempt is ended at Wave too, so the customer cannot pay twice; if Wave is down then, it
/// is ended once Wave is back.
async fn a_session_paid_another_way_ends_its_wave_attempt_at_wave(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, wave_id) = shop.choose_wave().await;
    shop.wave.fail_expiries(true);
    let report = json!({"provider": "ORANGE", "provider_reference": "om-77", "amount_paid": 10000});
    let res = shop
        .app
        .post_json(
            &format!("/v1/checkout_sessions/{id}/complete"),
            &shop.app.key,
            &report,
        )
        .await;
    assert_eq!(res.status(), 200);
    let statuses: Vec<_> = shop
        .app
        .payments(&id)
        .await
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("canceled"), json!("succeeded")]);
    // Tried, and tried again while Wave's expiry fails.
    let expiries = || {
        shop.wave
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/expire"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while expiries() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(expiries() >= 2, "{:?}", shop.wave.requests());
    assert_eq!(
        shop.wave.session(&wave_id).unwrap()["checkout_status"],
        "open"
    );
    shop.wave.fail_expiries(false);
    assert_eq!(shop.wave_status_after_open(&wave_id).await, "expired");
    assert!(
        shop.wave.pay(&wave_id).await.is_err(),
        "cannot be paid twice"
    );
    // Once Wave confirmed it, the attempt is no longer read.
    let seen = shop.wave.requests().len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(shop.wave.requests().len(), seen);
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

/// A failed Wave payment leaves Wave's session payable; caisse ends it there, so a customer
/// who tries again here pays one new attempt, not the old one too.
async fn a_failed_attempt_is_ended_at_wave(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, wave_id) = shop.choose_wave().await;
    shop.wave
        .fail(&wave_id, "insufficient-funds")
        .await
        .unwrap();
    assert_eq!(shop.wave_status_after_open(&wave_id).await, "expired");
    let payment = &shop.app.payments(&id).await[0];
    assert_eq!(payment["status"], "failed");
    assert_eq!(payment["failure_code"], "insufficient-funds");
    let s = shop.app.api_session(&id).await;
    assert_eq!(s["status"], "open", "the customer may try again");
    let (again, _) = shop.choose_again(&id).await;
    shop.wave.pay(&again.expect("a new attempt")).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let events = shop.events.settled(2).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec![
            "checkout_session.completed",
            "checkout_session.payment_failed"
        ]
    );
}

/// The customer comes back from Wave the moment its notification arrives: the return's read
/// and the notification settle the same payment at once, and each session completes once,
/// with one event.
async fn a_notification_racing_the_customers_return_completes_once(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    shop.wave.hold_webhooks(true);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (id, wave_id) = shop.choose_wave().await;
        shop.wave.pay(&wave_id).await.unwrap();
        ids.push(id);
    }
    let returns: Vec<_> = ids
        .iter()
        .map(|id| {
            let back = shop.app.url(&format!("/checkout/{id}/return"));
            tokio::spawn(shop.app.client.get(back).send())
        })
        .collect();
    let deliveries = shop.wave.release_webhooks().await;
    for back in returns {
        assert_eq!(back.await.unwrap().unwrap().status(), 303);
    }
    assert!(
        deliveries.iter().all(|d| d.outcome == Ok(200)),
        "{deliveries:?}"
    );
    for id in &ids {
        let s = shop.app.api_session(id).await;
        assert_eq!(s["status"], "completed");
        assert_eq!(shop.app.payments(id).await.len(), 1);
    }
    let events = shop.events.settled(3).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"; 3]
    );
}

/// A launch URL off Wave's pages, or one that would break out of the page's markup or a
/// header, is never written into the page or a `Location`: the attempt fails as Wave's
/// refusal, the customer may use another method, and a normalized URL on Wave's pages works.
async fn a_launch_url_off_waves_pages_is_refused_not_shown(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let base = shop.wave.base_url.clone();
    for url in [
        "https://evil.example/c/1".to_string(),
        "javascript:alert(1)".to_string(),
    ] {
        let id = id_of(&shop.app.session(&session_body()).await);
        shop.wave.answer_next_launch_url(&url);
        let (launch, status) = shop.choose_again(&id).await;
        assert_eq!((launch, status), (None, 502), "{url}");
        let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
        assert!(!page.html.contains("evil.example") && !page.html.contains("javascript:"));
        assert_eq!(shop.app.payments(&id).await[0]["status"], "failed");
    }
    // On Wave's pages, but with markup and a line break in it: written normalized.
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.wave.answer_next_launch_url(&format!(
        "{base}/c/x?a=\"><b id=xss>INJ</b>\nSet-Cookie: x=1"
    ));
    let res = submit(
        &shop.app,
        &format!("/checkout/{id}"),
        "/pay",
        &[("provider", "WAVE"), ("customer_phone", "+221770000000")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{base}/c/x?a=%22%3E%3Cb")),
        "{location}"
    );
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(!page.html.contains("<b id=xss>"), "{}", page.html);
}

/// The return URL reads the payment at Wave, but a customer (or a script) reloading it does not
/// make caisse call Wave on every load: the merchant's quota there is not caisse's to spend.
async fn returning_again_and_again_reads_wave_rarely(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let (id, _) = shop.choose_wave().await;
    let reads = || {
        shop.wave
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .count()
    };
    let before = reads();
    for _ in 0..20 {
        let back = shop
            .app
            .client
            .get(shop.app.url(&format!("/checkout/{id}/return")))
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 303);
    }
    // One read for the returns, and the reconciler's own (every second or more).
    let made = reads() - before;
    assert!((1..=3).contains(&made), "{made} reads for 20 returns");
}

/// A session is not expired under a Wave payment before Wave's own deadline: money that comes
/// after the session's `expires_at` but inside Wave's window still completes it; past Wave's
/// deadline, the session and its attempt expire.
async fn expiry_waits_for_a_pending_wave_payment(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    shop.wave.set_session_lifetime(Duration::from_secs(5));
    let soon = |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339();
    let mut body = session_body();
    body["expires_at"] = json!(soon(2));
    let paid = id_of(&shop.app.session(&body).await);
    let (wave_paid, _) = shop.choose_again(&paid).await;
    let left = id_of(&shop.app.session(&body).await);
    let (wave_left, _) = shop.choose_again(&left).await;
    assert!(wave_paid.is_some() && wave_left.is_some());
    // Past the session's expiry, and past a sweep (every second in the tests).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        shop.app.api_session(&paid).await["status"],
        "open",
        "held by the payment under way"
    );
    shop.wave.pay(&wave_paid.unwrap()).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&paid, "completed").await["status"],
        "completed"
    );
    // The other one is never paid: once Wave's deadline passes, it expires with its attempt.
    let gone = shop.app.wait_status(&left, "expired").await;
    assert_eq!(gone["status"], "expired");
    assert_eq!(shop.app.payments(&left).await[0]["status"], "expired");
}

/// Wave takes longer than caisse's 10 s timeout: the customer is told at once the timeout
/// fires, the session stays payable, and the session Wave made meanwhile is found again.
async fn wave_hanging_is_given_up_on_and_found_again(backend: Backend) {
    let Some(shop) = shop(backend, WebhookAuth::Signature).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.wave.hang_for(Duration::from_secs(30));
    let started = Instant::now();
    let (launch, status) = shop.choose_again(&id).await;
    assert_eq!((launch, status), (None, 502));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    shop.wave.hang_for(Duration::ZERO);
    let payment_id = shop.app.payments(&id).await[0]["payment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let made = find_wave_session(&shop, &payment_id).await;
    shop.wave.pay(&made).await.unwrap();
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

crate::on_both_backends!(
    a_customer_pays_with_wave_and_comes_back,
    forged_stale_and_unsigned_notifications_change_nothing,
    a_bearer_secret_is_checked_whole,
    a_lost_notification_is_made_up_by_the_reconciler,
    wave_answering_500_leaves_the_session_payable,
    a_lost_creation_answer_is_found_again,
    another_method_expires_the_wave_session,
    money_for_an_abandoned_attempt_completes_and_a_second_is_unmatched,
    an_abandoned_attempt_paid_without_a_notification_is_found,
    a_session_paid_another_way_ends_its_wave_attempt_at_wave,
    a_failed_attempt_is_ended_at_wave,
    returning_again_and_again_reads_wave_rarely,
    a_launch_url_off_waves_pages_is_refused_not_shown,
    a_notification_racing_the_customers_return_completes_once,
    expiry_waits_for_a_pending_wave_payment,
    wave_hanging_is_given_up_on_and_found_again,
);
