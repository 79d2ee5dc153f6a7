//! MTN MoMo going wrong, over HTTP against the local fake (`tests/support/mtn.rs`): tokens
//! that expire early (renewed once) or are never accepted, MTN answering 500 or hanging at the
//! token endpoint, the start or the status read, and a start whose 202 was lost (found again by
//! its reference id, never sent twice). Nothing is charged that caisse does not learn of.

use std::time::{Duration, Instant};

use crate::helpers::{Backend, id_of, session_body};
use crate::mtn_shop::{PHONE, shop, shop_reading_every};
use crate::page::submit;

/// Tokens are kept until they expire, and one MTN ends early is renewed once.
async fn tokens_are_kept_and_an_expired_one_is_renewed_once(backend: Backend) {
    let Some(shop) = shop_reading_every(backend, 3600).await else {
        return;
    };
    let (_, _) = shop.choose_mtn().await;
    let (id, reference) = shop.choose_mtn().await;
    assert_eq!(shop.mtn.calls_to("token").len(), 1, "one token for both");
    shop.mtn.expire_tokens();
    shop.mtn.approve(&reference).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    assert_eq!(shop.mtn.calls_to("token").len(), 2, "renewed once");
    let refused = shop.mtn.calls().iter().filter(|c| c.status == 401).count();
    assert_eq!(refused, 1, "one call refused, then the new token");
}

/// A token MTN refuses even when new: the start is refused (after one renewal, not more), the
/// customer is told, and nothing stays pending.
async fn a_token_refused_after_its_renewal_refuses_the_payment(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.mtn.set_token_lifetime(Duration::ZERO);
    let id = id_of(&shop.app.session(&session_body()).await);
    let pay = [("provider", "MTN"), ("customer_phone", PHONE)];
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay", &pay).await;
    assert_eq!(res.status(), 502);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Le paiement a été refusé")
    );
    assert_eq!(shop.mtn.calls_to("start").len(), 2, "one renewal, not more");
    let payments = shop.app.payments(&id).await;
    assert_eq!(payments[0]["status"], "failed");
    assert_eq!(payments[0]["failure_code"], "provider_refused");
    assert!(
        payments[0]["failure_message"]
            .as_str()
            .unwrap()
            .contains("401"),
        "{}",
        payments[0]
    );
}

/// MTN answering 500 at the token endpoint, then at the start: each time the customer is
/// told MTN is not answering, and may try again and pay.
async fn mtn_answering_500_leaves_the_session_payable(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    let path = format!("/checkout/{id}");
    let pay = [("provider", "MTN"), ("customer_phone", PHONE)];
    shop.mtn.fail_tokens_next(1, 500);
    let res = submit(&shop.app, &path, "/pay", &pay).await;
    assert_eq!(res.status(), 502);
    let told = res.text().await.unwrap();
    assert!(
        told.contains("MTN Mobile Money ne répond pas pour le moment. Réessayez"),
        "{told}"
    );
    assert!(
        told.contains("/pay/reset"),
        "another method can be chosen: {told}"
    );
    assert_eq!(shop.mtn.request_count(), 0, "nothing asked of the payer");

    shop.mtn.fail_starts(1, 500);
    assert_eq!(shop.choose_again(&id).await, 502);
    shop.mtn.fail_starts(1, 429);
    assert_eq!(shop.choose_again(&id).await, 502);
    assert_eq!(shop.mtn.request_count(), 0);

    assert_eq!(shop.choose_again(&id).await, 303);
    let reference = shop.pending_reference(&id).await;
    shop.mtn.approve(&reference).await.unwrap();
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

/// MTN's status read failing (500) leaves the payment pending; once MTN answers again, the
/// reconciler completes it.
async fn a_status_read_answering_500_is_read_again(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    shop.mtn.hold_callbacks(true);
    let (id, reference) = shop.choose_mtn().await;
    shop.mtn.approve(&reference).await.unwrap();
    shop.mtn.fail_reads(2, 500);
    assert_eq!(shop.wait_completed(&id, 30).await["status"], "completed");
    let failed = shop
        .mtn
        .calls_to("status")
        .iter()
        .filter(|c| c.status == 500)
        .count();
    assert_eq!(failed, 2, "read again after MTN's failures");
}

/// MTN hanging past caisse's 10 s timeout at the token endpoint, at the start (with a token
/// kept), and at the status read: given up on each time, and paid once MTN answers.
async fn mtn_hanging_is_given_up_on(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.mtn.hang_for(Duration::from_secs(30));
    let started = Instant::now();
    assert_eq!(
        shop.choose_again(&id).await,
        502,
        "the token endpoint hangs"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    shop.mtn.hang_for(Duration::ZERO);
    assert_eq!(
        shop.choose_again(&id).await,
        303,
        "a token, and a first request"
    );
    let first = shop.pending_reference(&id).await;
    let res = submit(&shop.app, &format!("/checkout/{id}"), "/pay/reset", &[]).await;
    assert_eq!(res.status(), 303);

    shop.mtn.hang_for(Duration::from_secs(30));
    let started = Instant::now();
    assert_eq!(
        shop.choose_again(&id).await,
        502,
        "the start hangs (the token is kept)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    shop.mtn.hang_for(Duration::ZERO);

    // The request whose start hung reached MTN: the payer approves it, and the status read
    // (hanging at first) finds it by its reference.
    let hung = shop.pending_reference(&id).await;
    assert_ne!(hung, first);
    shop.mtn.hang_for(Duration::from_secs(12));
    shop.mtn.approve(&hung).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    shop.mtn.hang_for(Duration::ZERO);
    let s = shop.wait_completed(&id, 40).await;
    assert_eq!(s["status"], "completed");
    assert_eq!(s["payment"]["payment_id"], hung);
    assert_eq!(shop.mtn.request_count(), 2, "no request sent twice");
}

/// MTN accepted the request but its 202 never reached caisse (as when caisse stops between
/// MTN's answer and its own write): the payer was prompted and approves; the callback and
/// the status read find the request by the payment's id, and it completes, with no request
/// sent twice.
async fn a_lost_acceptance_is_found_again_by_its_reference(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.mtn.lose_next_acceptance();
    assert_eq!(shop.choose_again(&id).await, 502);
    let reference = shop.pending_reference(&id).await;
    assert_eq!(shop.app.payments(&id).await[0]["status"], "pending");
    assert_eq!(shop.mtn.request(&reference).unwrap()["status"], "PENDING");
    shop.mtn.approve(&reference).await.unwrap();
    assert_eq!(
        shop.app.wait_status(&id, "completed").await["status"],
        "completed"
    );
    let starts = shop.mtn.calls_to("start");
    assert_eq!(starts.len(), 1, "never sent again");
    assert_eq!(shop.mtn.request_count(), 1);
    let events = shop.events.settled(1).await;
    assert_eq!(
        crate::receiver::kinds(&events),
        vec!["checkout_session.completed"]
    );
}

/// A request that never reached MTN (404 at the status read) is expired once its start is
/// over, so the reconciler stops reading it.
async fn a_request_mtn_never_received_expires(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let id = id_of(&shop.app.session(&session_body()).await);
    shop.mtn.fail_starts(1, 503);
    assert_eq!(shop.choose_again(&id).await, 502);
    let reference = shop.pending_reference(&id).await;
    assert!(shop.mtn.request(&reference).is_none());
    // Its start ended long ago, as far as the reader can tell.
    crate::helpers::age_rows(
        &shop.app,
        "UPDATE payments SET created_at = $1",
        chrono::Utc::now() - chrono::Duration::minutes(5),
    )
    .await;
    let s = shop
        .app
        .wait_for_session(&id, |s| s["payment"]["status"] == "expired")
        .await;
    assert_eq!(s["payment"]["status"], "expired");
    assert_eq!(s["status"], "open", "payable another way");
}

crate::on_both_backends!(
    tokens_are_kept_and_an_expired_one_is_renewed_once,
    a_token_refused_after_its_renewal_refuses_the_payment,
    mtn_answering_500_leaves_the_session_payable,
    a_status_read_answering_500_is_read_again,
    mtn_hanging_is_given_up_on,
    a_lost_acceptance_is_found_again_by_its_reference,
    a_request_mtn_never_received_expires,
);
