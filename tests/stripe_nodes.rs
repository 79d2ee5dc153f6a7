//! caisse as a separate process paying by card through the fake of Stripe: killed (SIGKILL)
//! between Stripe's answer to a creation and caisse's own write, it finds that session again
//! once restarted, through Stripe's idempotency, and never makes a second one.

#[path = "support/process.rs"]
mod process;
#[path = "api/receiver.rs"]
#[allow(dead_code)] // this test reads what each event was, not how it was signed
mod receiver;
#[path = "support/stripe/mod.rs"]
mod stripe;

use std::time::Duration;

use process::*;
use receiver::Receiver;
use reqwest::Client;
use serde_json::{Value, json};

const SECRET_KEY: &str = "sk_test_nodes_51Boutique";
const WEBHOOK_SECRET: &str = "whsec_nodes";

async fn call(
    client: &Client,
    server: &Server,
    key: &str,
    path: &str,
    body: Option<&Value>,
) -> Value {
    let url = server.url(path);
    let req = match body {
        Some(b) => client.post(url).json(b),
        None => client.get(url),
    };
    let res = req.header("X-API-KEY", key).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// The customer chooses to pay by card on `server`'s page for session `id`: the pay form's
/// request, ready to send (with the page's cookie and CSRF token).
async fn card_chosen(client: &Client, server: &Server, id: &str) -> reqwest::RequestBuilder {
    let page = client
        .get(server.url(&format!("/checkout/{id}")))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let html = page.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = html[at..at + html[at..].find('"').unwrap()].to_string();
    client
        .post(server.url(&format!("/checkout/{id}/pay")))
        .header("cookie", cookies.join("; "))
        .form(&[("csrf", csrf.as_str()), ("provider", "CARD")])
}

/// caisse is killed after Stripe made the session of a customer's payment (and saved its
/// answer for the payment's idempotency key) and before caisse wrote that answer; Stripe's
/// event of the money is lost too. Restarted, caisse sends the kept request again under the
/// same key, Stripe answers with the same session, and the money completes the checkout once.
async fn killed_between_stripes_answer_and_its_own_write(ws: Workspace) {
    let fake = stripe::FakeStripe::start().await;
    fake.add_account(SECRET_KEY);
    let envs = [
        ("CAISSE_STRIPE_API_URL", fake.base_url.as_str()),
        ("CAISSE_RECONCILE_INTERVAL", "1"),
        ("CAISSE_SWEEP_INTERVAL", "1"),
    ];
    let client = client();
    let port = free_port();
    let mut first = ws.serve("first", port, &[], &envs);
    first.wait_healthy(&client).await;
    let key = ws.organization_and_key();
    let receiver = Receiver::start().await;
    call(
        &client,
        &first,
        &key,
        "/v1/webhooks",
        Some(&json!({"url": receiver.url})),
    )
    .await;
    let res = client
        .put(first.url("/v1/providers/stripe"))
        .header("X-API-KEY", &key)
        .json(&json!({"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    fake.add_webhook(
        SECRET_KEY,
        account["webhook_url"].as_str().unwrap(),
        WEBHOOK_SECRET,
    );
    fake.hold_events(true);
    let body = json!({"amount": 10000, "currency_code": "XOF", "title": "Pagne wax"});
    let s = call(&client, &first, &key, "/v1/checkout_sessions", Some(&body)).await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();

    // Stripe makes the session and is slow to answer; caisse dies while it waits.
    fake.hang_for(Duration::from_secs(30));
    let customer = tokio::spawn(card_chosen(&client, &first, &id).await.send());
    let made = |fake: &stripe::FakeStripe| {
        fake.requests_to("POST", "/v1/checkout/sessions")
            .into_iter()
            .next()
    };
    for _ in 0..POLL_TRIES {
        if made(&fake).is_some() {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let asked = made(&fake).expect("Stripe was asked");
    let payment_id = asked.idempotency_key.clone().expect("an idempotency key");
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(
        customer.await.unwrap().is_err(),
        "no answer from a killed server"
    );
    fake.hang_for(Duration::ZERO);

    let mut second = ws.serve("second", port, &[], &envs);
    second.wait_healthy(&client).await;
    let payments = call(
        &client,
        &second,
        &key,
        &format!("/v1/checkout_sessions/{id}/payments"),
        None,
    )
    .await;
    let payment = &payments["data"][0];
    assert_eq!(payment["payment_id"], payment_id.as_str());
    assert_eq!(payment["status"], "pending");
    assert!(
        payment["provider_reference"].is_null(),
        "Stripe's answer was never written"
    );

    // The customer pays the session Stripe made (its page was open on the phone).
    let at_stripe = fake.sessions_for(&payment_id);
    assert_eq!(at_stripe.len(), 1);
    fake.pay(&at_stripe[0]).await.unwrap();
    let mut read = Value::Null;
    for _ in 0..3 * POLL_TRIES {
        read = call(
            &client,
            &second,
            &key,
            &format!("/v1/checkout_sessions/{id}"),
            None,
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
    assert_eq!(read["payment"]["provider_reference"], at_stripe[0].as_str());
    // Found again with the same request under the same key: one session, never a second.
    let creations = fake.requests_to("POST", "/v1/checkout/sessions");
    assert!(creations.len() >= 2, "{creations:?}");
    assert!(
        creations
            .iter()
            .all(|c| c.body == asked.body
                && c.idempotency_key.as_deref() == Some(payment_id.as_str()))
    );
    assert_eq!(fake.sessions_for(&payment_id), at_stripe);
    // The lost event arrives after all: nothing more happens.
    fake.release_events().await;
    receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kinds: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| r.json["event"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![json!("checkout_session.completed")],
        "one completion, one event"
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_stripes_answer_and_its_own_write_on_sqlite() {
    killed_between_stripes_answer_and_its_own_write(Workspace::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_stripes_answer_and_its_own_write_on_postgres() {
    let Some((admin, base, name)) = postgres_database().await else {
        return;
    };
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let mut ws = Workspace::new();
    ws.database_url = format!("{prefix}/{name}");
    killed_between_stripes_answer_and_its_own_write(ws).await;
    admin.close().await;
}
