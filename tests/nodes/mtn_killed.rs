//! caisse killed between MTN's 202 and its own write of it: the request-to-pay exists at MTN
//! (the payer was prompted), caisse never recorded MTN's acceptance, and MTN's callback is
//! lost too. Restarted, caisse reads the request by the payment's id (its `X-Reference-Id`),
//! never sends it again, and the payer's approval completes the checkout once.

use std::time::Duration;

use serde_json::{Value, json};

use super::mtn::FakeMtn;
use super::process::*;
use super::receiver::Receiver;
use super::{get, post, postgres_workspace, session_body, settled_events};

async fn killed_between_mtns_202_and_its_own_write(ws: Workspace) {
    let fake = FakeMtn::start().await;
    fake.add_user("sub-nodes", "user-nodes", "key-nodes", &["sandbox"]);
    let envs = [
        ("CAISSE_MTN_API_URL", fake.base_url.as_str()),
        ("CAISSE_RECONCILE_INTERVAL", "1"),
        ("CAISSE_SWEEP_INTERVAL", "1"),
    ];
    let client = client();
    let port = free_port();
    let mut first = ws.serve("first", port, &[], &envs);
    first.wait_healthy(&client).await;
    let key = ws.organization_and_key();
    let receiver = Receiver::start().await;
    post(
        &client,
        &first,
        &key,
        "/v1/webhooks",
        &json!({"url": receiver.url}),
    )
    .await;
    let res = client
        .put(first.url("/v1/providers/mtn"))
        .header("X-API-KEY", &key)
        .json(
            &json!({"subscription_key": "sub-nodes", "api_user": "user-nodes",
                      "api_key": "key-nodes", "target_environment": "sandbox"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    fake.hold_callbacks(true);
    let s = post(
        &client,
        &first,
        &key,
        "/v1/checkout_sessions",
        &session_body(),
    )
    .await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();

    // MTN accepts the request and is slow to say so; caisse dies while it waits.
    fake.hang_starts_for(Duration::from_secs(30));
    let pay = super::chosen(&client, &first, &id, "MTN", "+2250501020304").await;
    let customer = tokio::spawn(pay.send());
    for _ in 0..POLL_TRIES {
        if fake.request_count() > 0 {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let start = fake.calls_to("start").pop().expect("MTN was asked");
    let reference = start.reference_id.expect("an X-Reference-Id");
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(
        customer.await.unwrap().is_err(),
        "no answer from a killed server"
    );
    fake.hang_starts_for(Duration::ZERO);

    let mut second = ws.serve("second", port, &[], &envs);
    second.wait_healthy(&client).await;
    let payments = get(
        &client,
        &second,
        &key,
        &format!("/v1/checkout_sessions/{id}/payments"),
    )
    .await;
    assert_eq!(payments["data"][0]["payment_id"], reference.as_str());
    assert_eq!(payments["data"][0]["status"], "pending");

    // The payer approves the prompt they got; the callback is lost.
    fake.approve(&reference).await.unwrap();
    let mut read = Value::Null;
    for _ in 0..3 * POLL_TRIES {
        read = get(
            &client,
            &second,
            &key,
            &format!("/v1/checkout_sessions/{id}"),
        )
        .await;
        if read["status"] == "completed" {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert_eq!(
        read["status"],
        "completed",
        "{}",
        second.output_for_diagnosis()
    );
    assert_eq!(read["payment"]["payment_id"], reference.as_str());
    assert_eq!(fake.calls_to("start").len(), 1, "never sent again");
    assert_eq!(fake.request_count(), 1);
    fake.release_callbacks().await;
    assert_eq!(
        settled_events(&receiver, 1).await,
        vec![json!("checkout_session.completed")],
        "one completion, one event"
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_mtns_202_and_its_own_write_on_sqlite() {
    killed_between_mtns_202_and_its_own_write(Workspace::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_mtns_202_and_its_own_write_on_postgres() {
    let Some((admin, ws, _)) = postgres_workspace().await else {
        return;
    };
    killed_between_mtns_202_and_its_own_write(ws).await;
    admin.close().await;
}
