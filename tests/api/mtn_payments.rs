//! Paying with MTN MoMo (request-to-pay), over HTTP, against the local fake of MTN's Collection
//! API (`tests/support/mtn.rs`): the customer's path from the page to the approval on the
//! phone, and the ways it can go wrong — a callback (unsigned) MTN's status does not confirm,
//! forged callbacks at wrong URLs, duplicates, a lost callback, a late success after another
//! payment, a failure with MTN's reason, odd amounts. MTN failing, hanging, expiring tokens and
//! lost answers are in `mtn_failures.rs`. Each ends in exactly one completion and one merchant
//! event, or none.

use std::time::Duration;

use caisse::domain::payment::short_id;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, id_of, session_body};
use crate::mtn_shop::{SUBSCRIPTION_KEY, set_account, shop, shop_reading_every};
use crate::page::{submit, visit};

async fn a_customer_approves_on_the_phone_and_the_page_moves_on(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, reference) = shop.choose_mtn().await;
    let tokens = shop.mtn.calls_to("token");
    assert_eq!(tokens.len(), 1);
    assert!(
        tokens[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(
        tokens[0].subscription_key.as_deref(),
        Some(SUBSCRIPTION_KEY)
    );
    let starts = shop.mtn.calls_to("start");
    assert_eq!(starts.len(), 1);
    let start = &starts[0];
    assert_eq!(start.status, 202);
    assert!(
        start
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer ")
    );
    assert_eq!(start.subscription_key.as_deref(), Some(SUBSCRIPTION_KEY));
    assert_eq!(start.reference_id.as_deref(), Some(reference.as_str()));
    assert_eq!(start.target_environment.as_deref(), Some("sandbox"));
    assert_eq!(
        start.callback_url.as_deref(),
        Some(shop.callback_url(&reference).as_str())
    );
    let body = start.json();
    assert_eq!(body["amount"], "10000", "a string");
    assert_eq!(body["currency"], "EUR", "the sandbox's only currency");
    assert_eq!(body["externalId"], reference);
    assert_eq!(
        body["payer"],
        json!({"partyIdType": "MSISDN", "partyId": "2250501020304"})
    );
    assert_eq!(body["payerMessage"], "Pagne wax");

    // The page says what to do, and for how long; the order is frozen.
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    let text = page.text();
    assert!(
        text.contains("Validez 10 000 F CFA sur le +225 05 01 02 03 04"),
        "{text}"
    );
    assert!(page.html.contains("Pas de demande ?"));
    assert!(
        page.html.contains("data-seconds-left=\"29"),
        "{}",
        page.html
    );
    assert!(page.html.contains("<strong data-remaining>4:5"));
    assert!(page.html.contains(&format!("/status?payment={reference}")));
    assert!(
        page.html.contains("/pay/reset"),
        "another method stays offered"
    );
    assert!(!page.html.contains("/quantity"));
    let en = visit(
        &shop.app,
        &format!("/checkout/{id}"),
        &[("Accept-Language", "en")],
    )
    .await;
    assert!(
        en.html.contains("in the prompt on your phone"),
        "{}",
        en.html
    );
    assert!(en.html.contains("Time left to approve:"));

    shop.mtn.approve(&reference).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["payment"]["status"], "succeeded");
    assert_eq!(done["payment_provider"], "MTN");
    let txn = shop.mtn.request(&reference).unwrap()["financialTransactionId"].clone();
    assert_eq!(done["payment"]["provider_reference"], txn);
    assert!(
        shop.status_reads() >= 1,
        "confirmed at MTN before completing"
    );
    assert_eq!(shop.mtn.callbacks()[0].outcome, Ok(200));
    // The waiting page's poll is told where to go.
    let status: Value = shop
        .app
        .client
        .get(
            shop.app
                .url(&format!("/checkout/{id}/status?payment={reference}")),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "completed");
    assert!(
        status["redirect_url"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example/merci")
    );

    // Duplicate callbacks (MTN may retry) change nothing.
    for _ in 0..3 {
        assert_eq!(shop.mtn.resend(&reference).await.outcome, Ok(200));
    }
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
    assert_eq!(events[0]["data"]["payment"]["currency_code"], "XOF");
    assert_eq!(shop.app.payments(&id).await.len(), 1);
    assert_eq!(shop.mtn.request_count(), 1);
}

/// The callback is unsigned: one saying SUCCESSFUL while MTN's status read says PENDING
/// completes nothing, with POST or PUT.
async fn a_callback_mtn_does_not_confirm_completes_nothing(backend: Backend) {
    let Some(shop) = shop_reading_every(backend, 3600).await else {
        return;
    };
    let (id, reference) = shop.choose_mtn().await;
    let claim = json!({"status": "SUCCESSFUL", "externalId": reference, "amount": "10000",
                       "currency": "EUR", "financialTransactionId": "99999999"});
    for put in [false, true] {
        shop.mtn.callback_with_put(put);
        let reads = shop.status_reads();
        let sent = shop
            .mtn
            .send_forged(&shop.callback_url(&reference), &claim)
            .await;
        assert_eq!(sent.outcome, Ok(200), "a hint, answered at once");
        shop.wait_reads(reads).await;
        assert_eq!(
            shop.status_reads(),
            reads + 1,
            "the hint made caisse read MTN, once"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = shop.app.api_session(&id).await;
    assert_eq!(
        (s["status"].as_str(), s["payment"]["status"].as_str()),
        (Some("open"), Some("pending"))
    );
    assert!(shop.events.received().is_empty());
}

/// A callback at a URL that names no payment of the account is refused, and nothing is read.
async fn a_forged_callback_at_a_wrong_url_is_refused(backend: Backend) {
    let Some(shop) = shop_reading_every(backend, 3600).await else {
        return;
    };
    let (id, reference) = shop.choose_mtn().await;
    let claim = json!({"status": "SUCCESSFUL", "externalId": reference});
    let reads = shop.status_reads();
    for url in [
        shop.webhook_url.clone(),
        format!("{}/{}", shop.webhook_url, short_id(Uuid::new_v4())),
        format!("{}/not-a-payment", shop.webhook_url),
    ] {
        assert_eq!(
            shop.mtn.send_forged(&url, &claim).await.outcome,
            Ok(401),
            "{url}"
        );
    }
    let other = shop.app.url(&format!(
        "/providers/mtn/{}/{}",
        Uuid::new_v4(),
        short_id(reference.parse().unwrap())
    ));
    assert_eq!(shop.mtn.send_forged(&other, &claim).await.outcome, Ok(404));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        shop.app.api_session(&id).await["payment"]["status"],
        "pending"
    );
    assert_eq!(shop.status_reads(), reads, "nothing is read for a forgery");
    assert!(shop.events.received().is_empty());
}

async fn a_lost_callback_is_made_up_by_the_reconciler(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.mtn.hold_callbacks(true);
    let (id, reference) = shop.choose_mtn().await;
    shop.mtn.approve(&reference).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(
        done["status"], "completed",
        "read from MTN without a callback"
    );
    for sent in shop.mtn.release_callbacks().await {
        assert_eq!(sent.outcome, Ok(200), "late, and harmless");
    }
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

/// MTN documents no cancel: a request the customer abandoned stays payable at MTN. Approved
/// after another payment completed the session, its money is recorded and told to the
/// merchant (to refund), never dropped, never a second completion.
async fn a_late_success_after_another_payment_is_unmatched(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, first) = shop.choose_mtn().await;
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(shop.app.payments(&id).await[0]["status"], "canceled");
    assert_eq!(shop.mtn.request(&first).unwrap()["status"], "PENDING");
    assert_eq!(shop.choose_again(&id).await, 303);
    let second = shop.pending_reference(&id).await;
    assert_ne!(first, second);

    shop.mtn.approve(&second).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    shop.mtn.approve(&first).await.unwrap();
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

/// The session expires (the merchant ends it) while its MTN request is still pending: the
/// payer's late approval is money recorded for the merchant to refund, never a completion.
async fn a_late_success_after_the_session_expired_is_unmatched(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, reference) = shop.choose_mtn().await;
    let path = format!("/v1/checkout_sessions/{id}");
    assert_eq!(shop.app.delete(&path, &shop.app.key).await.status(), 204);
    assert_eq!(shop.app.api_session(&id).await["status"], "expired");
    assert_eq!(shop.mtn.request(&reference).unwrap()["status"], "PENDING");
    shop.mtn.approve(&reference).await.unwrap();
    let events = shop.events.settled(2).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec![
            "checkout_session.expired",
            "checkout_session.payment_unmatched"
        ]
    );
    let s = shop.app.api_session(&id).await;
    assert_eq!(s["status"], "expired");
    assert_eq!(s["payment"]["status"], "succeeded", "the money is recorded");
}

/// A request that fails at MTN: the merchant is told, the page (which learns it by itself)
/// says why in plain words, and the customer can try again.
async fn a_failed_request_says_why_and_the_customer_can_try_again(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, reference) = shop.choose_mtn().await;
    shop.mtn
        .decline(&reference, "NOT_ENOUGH_FUNDS")
        .await
        .unwrap();
    let failed = shop
        .app
        .wait_for_session(&id, |s| s["payment"]["status"] == "failed")
        .await;
    assert_eq!(failed["payment"]["failure_code"], "NOT_ENOUGH_FUNDS");
    assert_eq!(failed["status"], "open");
    // The waiting page's poll is sent back to the page, which says why.
    let status: Value = shop
        .app
        .client
        .get(
            shop.app
                .url(&format!("/checkout/{id}/status?payment={reference}")),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status,
        json!({"status": "open", "redirect_url": format!("/checkout/{id}")})
    );
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(
        page.html.contains("Le solde MoMo est insuffisant"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("name=\"provider\" value=\"MTN\""),
        "it can be tried again"
    );
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.payment_failed"]
    );

    // A reason caisse has no words for is shown as MTN gives it.
    assert_eq!(shop.choose_again(&id).await, 303);
    let again = shop.pending_reference(&id).await;
    shop.mtn
        .decline(&again, "PAYER_LIMIT_REACHED")
        .await
        .unwrap();
    shop.app
        .wait_for_session(&id, |s| {
            s["payment"]["failure_code"] == "PAYER_LIMIT_REACHED"
        })
        .await;
    let page = visit(
        &shop.app,
        &format!("/checkout/{id}"),
        &[("Accept-Language", "en")],
    )
    .await;
    assert!(
        page.html
            .contains("MTN MoMo declined the payment (PAYER_LIMIT_REACHED)"),
        "{}",
        page.html
    );

    assert_eq!(shop.choose_again(&id).await, 303);
    let third = shop.pending_reference(&id).await;
    shop.mtn.approve(&third).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
}

/// MTN reports a success for another amount than asked: money recorded as unmatched, never a
/// completion.
async fn a_success_for_another_amount_completes_nothing(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, reference) = shop.choose_mtn().await;
    shop.mtn.approve_paying(&reference, "9000").await.unwrap();
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.payment_unmatched"]
    );
    let s = shop.app.api_session(&id).await;
    assert_eq!(s["status"], "open");
}

/// A live account names a real market: its payments go there in the session's currency, and
/// the page names that network's MoMo menu. A session in USD never offers MTN.
async fn a_live_payment_goes_to_the_accounts_market(backend: Backend) {
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
    set_account(&shop.app, &live_key, "mtncameroon").await;
    let mut body = session_body();
    body["currency_code"] = json!("XAF");
    let res = shop
        .app
        .post_json("/v1/checkout_sessions", &live_key, &body)
        .await;
    assert_eq!(res.status(), 201);
    let id = id_of(&res.json().await.unwrap());
    let pay = [("provider", "MTN"), ("customer_phone", "+237670000000")];
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay", &pay).await;
    assert_eq!(res.status(), 303);
    let start = shop.mtn.calls_to("start").pop().unwrap();
    assert_eq!(start.target_environment.as_deref(), Some("mtncameroon"));
    assert_eq!(start.json()["currency"], "XAF");
    assert_eq!(start.json()["payer"]["partyId"], "237670000000");
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(page.html.contains("Composez le *126#"), "{}", page.html);

    let mut usd = session_body();
    usd["currency_code"] = json!("USD");
    usd["amount"] = json!(1000);
    let usd = id_of(&shop.app.session(&usd).await);
    let page = visit(&shop.app, &format!("/checkout/{usd}"), &[]).await;
    assert!(!page.html.contains("value=\"MTN\""), "{}", page.html);
}

crate::on_both_backends!(
    a_customer_approves_on_the_phone_and_the_page_moves_on,
    a_callback_mtn_does_not_confirm_completes_nothing,
    a_forged_callback_at_a_wrong_url_is_refused,
    a_lost_callback_is_made_up_by_the_reconciler,
    a_late_success_after_another_payment_is_unmatched,
    a_late_success_after_the_session_expired_is_unmatched,
    a_failed_request_says_why_and_the_customer_can_try_again,
    a_success_for_another_amount_completes_nothing,
    a_live_payment_goes_to_the_accounts_market,
);
