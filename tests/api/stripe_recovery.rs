//! Card payments through Stripe when things go wrong between caisse and Stripe: Stripe
//! answering 500 or hanging (at the start and at a read), a creation answer lost between
//! Stripe and caisse's write (found again through Stripe's idempotency, never made twice),
//! a method switched, money that comes after the session was paid another way or expired, and
//! a key Stripe refuses.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, id_of, session_body};
use crate::page::{submit, visit};
use crate::receiver::kinds;
use crate::stripe_payments::{shop, shop_with_key};

/// Stripe answers 500 before it begins: the customer is told to try again or use another
/// method, nothing is charged, and trying again pays one session.
async fn stripe_answering_500_leaves_the_session_payable(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.stripe.fail_next(1, 500);
    let path = format!("/checkout/{id}");
    let res = submit(&shop.app, &path, "/pay", &[("provider", "CARD")]).await;
    assert_eq!(res.status(), 502);
    let told = res.text().await.unwrap();
    assert!(told.contains("Réessayez"), "{told}");
    assert!(
        told.contains("/pay/reset"),
        "another method can be chosen: {told}"
    );
    let first = shop.app.payments(&id).await[0].clone();
    assert_eq!(first["status"], "pending");
    assert!(
        shop.stripe
            .sessions()
            .iter()
            .all(|s| s["payment_status"] == "unpaid")
    );
    // The customer tries again, and pays; the first attempt's request, sent again, made at
    // most one session, which is expired: it cannot be paid.
    let (cs, _) = shop.choose_again(&id).await;
    shop.stripe.pay(&cs.expect("sent to Stripe")).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let first_id = first["payment_id"].as_str().unwrap();
    let made = shop.stripe.sessions_for(first_id);
    assert!(made.len() <= 1, "{made:?}");
    for cs in &made {
        assert_ne!(shop.stripe.session(cs).unwrap()["status"], "open");
    }
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
}

/// Stripe made the session but its answer never reached caisse's write (the connection lost
/// mid-answer, as when caisse dies between Stripe's answer and its own write): the same
/// request, sent again with the same idempotency key, finds that session, and its money
/// completes the session, with one session at Stripe and one attempt here.
async fn a_lost_creation_answer_is_found_again_never_made_twice(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.stripe.hold_events(true);
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.stripe.lose_next_answer();
    let (cs, status) = shop.choose_again(&id).await;
    assert_eq!((cs, status), (None, 502));
    let payment = shop.app.payments(&id).await[0].clone();
    let payment_id = payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(payment["status"], "pending");
    assert!(
        payment["provider_reference"].is_null(),
        "never recorded: {payment}"
    );
    let made = shop.stripe.sessions_for(&payment_id);
    assert_eq!(made.len(), 1, "made at Stripe");
    // The customer pays that session after all (Stripe's page open in another tab).
    shop.stripe.pay(&made[0]).await.unwrap();
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["payment"]["provider_reference"], made[0].as_str());
    let creations = shop.creations();
    assert!(creations.len() >= 2, "sent again to find it: {creations:?}");
    for c in &creations {
        assert_eq!(c.idempotency_key.as_deref(), Some(payment_id.as_str()));
        assert_eq!(c.body, creations[0].body, "the same request each time");
        assert_eq!(c.status, 200);
    }
    assert_eq!(
        shop.stripe.sessions_for(&payment_id),
        made,
        "never a second session"
    );
    assert_eq!(shop.app.payments(&id).await.len(), 1);
    shop.stripe.release_events().await;
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
}

/// Stripe takes longer than caisse's 10 s timeout at the start, and then at the reads: the
/// customer is told once the timeout fires, a hung read is given up on and tried again, and
/// the session Stripe made meanwhile is found again and completes.
async fn stripe_hanging_is_given_up_on_at_start_and_read(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.stripe.hold_events(true);
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.stripe.hang_for(Duration::from_secs(30));
    let started = Instant::now();
    let (cs, status) = shop.choose_again(&id).await;
    assert_eq!((cs, status), (None, 502));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let payment_id = shop.app.payments(&id).await[0]["payment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let made = shop.stripe.sessions_for(&payment_id);
    assert_eq!(made.len(), 1);
    shop.stripe.pay(&made[0]).await.unwrap();
    // The reconciler's reads hang meanwhile; once Stripe answers again, one completes it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        shop.app.api_session(&id).await["status"],
        "open",
        "reads hang"
    );
    shop.stripe.hang_for(Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(20);
    while shop.app.api_session(&id).await["status"] != "completed" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(shop.app.api_session(&id).await["status"], "completed");
    assert_eq!(shop.stripe.sessions_for(&payment_id), made);
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
}

async fn another_method_expires_the_stripe_session(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(shop.stripe.session(&cs).unwrap()["status"], "expired");
    assert_eq!(shop.app.payments(&id).await[0]["status"], "canceled");
    assert!(
        shop.stripe.pay(&cs).await.is_err(),
        "an expired session cannot be paid"
    );
    let page = visit(&shop.app, &format!("/checkout/{id}"), &[]).await;
    assert!(!page.html.contains(&cs));
}

/// The customer pays at Stripe, its event is lost, and then the customer (in another tab)
/// chooses another method on caisse's page: ending the attempt at Stripe finds the money came
/// first, and it completes the session, once.
async fn money_that_came_before_another_method_completes_the_session(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.stripe.hold_events(true);
    let (id, cs) = shop.choose_card().await;
    shop.stripe.pay(&cs).await.unwrap();
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let done = shop.app.wait_status(&id, "completed").await;
    assert_eq!(done["payment"]["provider_reference"], cs.as_str());
    assert_eq!(shop.statuses(&id).await, vec![json!("succeeded")]);
    shop.stripe.release_events().await;
    let events = shop.events.settled(1).await;
    assert_eq!(kinds(&events), vec!["checkout_session.completed"]);
}

/// The session is paid another way while a Stripe attempt is under way that Stripe cannot
/// expire: the customer pays it anyway, and that money is recorded and told, never dropped.
async fn money_after_another_payment_is_unmatched(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let (id, cs) = shop.choose_card().await;
    shop.stripe.fail_expiries(true);
    let report = json!({"provider": "WAVE", "provider_reference": "T-77", "amount_paid": 10000});
    let res = shop
        .app
        .post_json(
            &format!("/v1/checkout_sessions/{id}/complete"),
            &shop.app.key,
            &report,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(shop.stripe.session(&cs).unwrap()["status"], "open");
    shop.stripe.pay(&cs).await.unwrap();
    let events = shop.events.settled(2).await;
    assert_eq!(
        kinds(&events),
        vec![
            "checkout_session.completed",
            "checkout_session.payment_unmatched"
        ]
    );
    let unmatched = events
        .iter()
        .find(|e| e["event"] == "checkout_session.payment_unmatched")
        .unwrap();
    assert_eq!(
        unmatched["data"]["payment"]["provider_reference"],
        cs.as_str()
    );
    assert_eq!(
        shop.statuses(&id).await,
        vec![json!("succeeded"), json!("succeeded")]
    );
}

/// The customer abandons a Stripe attempt Stripe cannot expire, the session expires, and
/// then the customer pays that attempt at Stripe: recorded and told, the session stays
/// expired.
async fn money_after_expiry_is_unmatched(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let mut body = session_body();
    body["expires_at"] = json!((chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339());
    let id = id_of(&shop.app.session(&body).await);
    let (cs, _) = shop.choose_again(&id).await;
    let cs = cs.expect("sent to Stripe");
    shop.stripe.fail_expiries(true);
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        shop.app.wait_status(&id, "expired").await["status"],
        "expired"
    );
    shop.stripe.pay(&cs).await.unwrap();
    let events = shop.events.settled(2).await;
    assert_eq!(
        kinds(&events),
        vec![
            "checkout_session.expired",
            "checkout_session.payment_unmatched"
        ]
    );
    let s = shop.app.api_session(&id).await;
    assert_eq!(s["status"], "expired");
    assert_eq!(shop.statuses(&id).await, vec![json!("succeeded")]);
}

/// A secret key Stripe refuses (401): the attempt fails with Stripe's message, and the
/// customer may use another method.
async fn a_refused_key_fails_the_attempt_with_stripes_message(backend: Backend) {
    let Some(shop) = shop_with_key(backend, "sk_test_not_one_of_stripes").await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    let (cs, status) = shop.choose_again(&id).await;
    assert_eq!((cs, status), (None, 502));
    let payment = &shop.app.payments(&id).await[0];
    assert_eq!(payment["status"], "failed");
    let message = payment["failure_message"].as_str().unwrap_or_default();
    assert!(message.contains("Invalid API Key provided"), "{payment}");
    assert_eq!(shop.app.api_session(&id).await["status"], "open");
}

crate::on_both_backends!(
    stripe_answering_500_leaves_the_session_payable,
    a_lost_creation_answer_is_found_again_never_made_twice,
    stripe_hanging_is_given_up_on_at_start_and_read,
    another_method_expires_the_stripe_session,
    money_that_came_before_another_method_completes_the_session,
    money_after_another_payment_is_unmatched,
    money_after_expiry_is_unmatched,
    a_refused_key_fails_the_attempt_with_stripes_message,
);
