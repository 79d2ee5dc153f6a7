//! caisse as separate processes: webhook deliveries survive a server killed in the middle of
//! them (and the delivery log shows every attempt), two nodes on one PostgreSQL database share
//! the work without doing it twice, neither undoes the other's writes, and what one node
//! changes shows on the other's pages at once although each keeps sessions in memory.

#[path = "support/mtn.rs"]
mod mtn;
#[path = "nodes/mtn_killed.rs"]
mod mtn_killed;
#[path = "support/process.rs"]
mod process;
#[path = "api/receiver.rs"]
mod receiver;
#[path = "support/wave.rs"]
mod wave;

use std::collections::HashSet;
use std::time::Duration;

use caisse::domain::event;
use process::*;
use receiver::Receiver;
use reqwest::Client;
use serde_json::{Value, json};

/// Settings that make retries and claims short enough for a test.
const FAST: [(&str, &str); 3] = [
    ("CAISSE_WEBHOOK_TIMEOUT", "2"),
    ("CAISSE_WEBHOOK_RETRY_BASE_MS", "200"),
    ("CAISSE_SWEEP_INTERVAL", "1"),
];

/// Nodes `a` and `b`, started together on the workspace's database and healthy, and a test key.
async fn two_nodes(ws: &Workspace, client: &Client) -> (Server, Server, String) {
    let mut a = ws.serve("a", free_port(), &[], &FAST);
    let mut b = ws.serve("b", free_port(), &[], &FAST);
    a.wait_healthy(client).await;
    b.wait_healthy(client).await;
    (a, b, ws.organization_and_key())
}

/// `GET path` on `server` with the key; the JSON it answers.
async fn get(client: &Client, server: &Server, key: &str, path: &str) -> Value {
    client
        .get(server.url(path))
        .header("X-API-KEY", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post(client: &Client, server: &Server, key: &str, path: &str, body: &Value) -> Value {
    let res = client
        .post(server.url(path))
        .header("X-API-KEY", key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

fn session_body() -> Value {
    json!({"amount": 10000, "currency_code": "XOF", "title": "Pagne wax"})
}

async fn create_and_pay(client: &Client, creator: &Server, payer: &Server, key: &str) -> String {
    let s = post(
        client,
        creator,
        key,
        "/v1/checkout_sessions",
        &session_body(),
    )
    .await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();
    let report =
        json!({"provider": "WAVE", "provider_reference": format!("r-{id}"), "amount_paid": 10000});
    post(
        client,
        payer,
        key,
        &format!("/v1/checkout_sessions/{id}/complete"),
        &report,
    )
    .await;
    id
}

/// Waits (bounded) until `n` distinct events have arrived, and returns their ids.
async fn distinct_events(receiver: &Receiver, n: usize, secret: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    for _ in 0..300 {
        ids = receiver
            .received()
            .iter()
            .inspect(|r| {
                let now = chrono::Utc::now().timestamp();
                assert!(
                    event::verify(secret, &r.signature, &r.body, now, 300),
                    "bad signature"
                );
            })
            .map(|r| r.json["id"].as_str().unwrap().to_string())
            .collect();
        if ids.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_after_the_server_is_killed_mid_delivery() {
    let ws = Workspace::new();
    let client = client();
    let key = ws.organization_and_key();
    let receiver = Receiver::start().await;
    // The receiver takes 3 s to answer (within the 5 s timeout), so deliveries are in flight.
    receiver.delay(Duration::from_secs(3));
    let slow = [("CAISSE_WEBHOOK_TIMEOUT", "5"), FAST[1], FAST[2]];
    let mut first = ws.serve("first", free_port(), &[], &slow);
    first.wait_healthy(&client).await;
    let hook = post(
        &client,
        &first,
        &key,
        "/v1/webhooks",
        &json!({"url": receiver.url}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();

    let mut sessions = HashSet::new();
    for _ in 0..8 {
        sessions.insert(create_and_pay(&client, &first, &first, &key).await);
    }
    // Kill the server (SIGKILL: nothing graceful) the moment a delivery arrives, before the
    // receiver has answered it.
    for _ in 0..250 {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let in_flight = receiver.received();
    assert!(
        !in_flight.is_empty(),
        "no delivery started\n{}",
        first.output_for_diagnosis()
    );
    let cut_short = in_flight[0].json["id"].as_str().unwrap().to_string();

    receiver.delay(Duration::ZERO);
    let mut second = ws.serve("second", free_port(), &[], &FAST);
    second.wait_healthy(&client).await;
    let mut redelivered = false;
    for _ in 0..300 {
        redelivered = receiver.received()[in_flight.len()..]
            .iter()
            .any(|r| r.json["id"] == cut_short.as_str());
        if redelivered && distinct_events(&receiver, 0, &secret).await.len() == sessions.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        redelivered,
        "the delivery cut short by the kill is made again\n{}",
        second.output_for_diagnosis()
    );
    assert_eq!(receiver.sessions(), sessions, "every event arrives");
    assert_eq!(
        distinct_events(&receiver, 8, &secret).await.len(),
        8,
        "one event per payment, signed"
    );

    // The delivery log holds every request the receiver saw, the ones the kill cut short
    // among them (logged, without an outcome).
    let hook_id = hook["webhook_id"].as_str().unwrap();
    let log = get(
        &client,
        &second,
        &key,
        &format!("/v1/webhooks/{hook_id}/deliveries?limit=100"),
    )
    .await;
    let mut logged = std::collections::HashMap::<String, usize>::new();
    let mut unfinished = 0;
    for d in log["data"].as_array().unwrap() {
        let attempts = d["attempt_log"].as_array().unwrap();
        *logged
            .entry(d["event_id"].as_str().unwrap().to_string())
            .or_default() += attempts.len();
        unfinished += attempts
            .iter()
            .filter(|a| a["finished_at"].is_null())
            .count();
    }
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for r in receiver.received() {
        *seen
            .entry(r.json["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for (event, times) in &seen {
        assert!(
            logged.get(event).copied().unwrap_or(0) >= *times,
            "event {event} reached the endpoint {times} times; the log shows {:?}: {log}",
            logged.get(event)
        );
    }
    assert!(
        unfinished >= 1,
        "the attempts the kill cut short are logged: {log}"
    );
    receiver.stop().await;
}

/// A workspace on a new database of the PostgreSQL server named by `CAISSE_TEST_POSTGRES_URL`,
/// with a connection to that server and the database's name; `None` (the test is skipped) when
/// the variable is not set.
async fn postgres_workspace() -> Option<(sqlx::PgPool, Workspace, String)> {
    let (admin, base, name) = postgres_database().await?;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let mut ws = Workspace::new();
    ws.database_url = format!("{prefix}/{name}");
    Some((admin, ws, name))
}

/// Waits (bounded) until `n` connections to the database listen for session changes, as each
/// node's does once it follows them; false if they never do.
async fn listeners(admin: &sqlx::PgPool, database: &str, n: i64) -> bool {
    for _ in 0..100 {
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 \
             AND query LIKE '%caisse_checkout_sessions%' AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .fetch_one(admin)
        .await
        .unwrap();
        if listening == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Reads `path` from `server` until its body contains `wanted`, for at most five seconds; the
/// last body read.
async fn read_until(client: &Client, server: &Server, path: &str, wanted: &str) -> String {
    let mut body = String::new();
    for _ in 0..50 {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        body = res.text().await.unwrap();
        if body.contains(wanted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    body
}

/// Views session `id` on `viewer` (so it keeps it in memory), renames it through `writer`, and
/// tells whether `viewer`'s page then shows the new title (within five seconds).
async fn viewed_then_renamed(
    client: &Client,
    viewer: &Server,
    writer: &Server,
    key: &str,
    id: &str,
    title: &str,
) -> bool {
    let page = format!("/checkout/{id}");
    for _ in 0..3 {
        let body = read_until(client, viewer, &page, "Pagne wax").await;
        assert!(body.contains("Pagne wax"), "{body}");
    }
    let renamed = client
        .patch(writer.url(&format!("/v1/checkout_sessions/{id}")))
        .header("X-API-KEY", key)
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    read_until(client, viewer, &page, title)
        .await
        .contains(title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_database_share_the_work_once() {
    let Some((admin, ws, _)) = postgres_workspace().await else {
        return;
    };

    // Both nodes start at once on an empty database: the migrations run once.
    let client = client();
    let (a, b, key) = two_nodes(&ws, &client).await;
    let receiver = Receiver::start().await;
    let hook = post(
        &client,
        &a,
        &key,
        "/v1/webhooks",
        &json!({"url": receiver.url}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();

    // Created on one node, paid through the other, seen completed from the first.
    let paid = create_and_pay(&client, &a, &b, &key).await;
    let read = get(&client, &a, &key, &format!("/v1/checkout_sessions/{paid}")).await;
    assert_eq!(read["status"], "completed");

    // Sessions nobody reads, for both sweepers to race over.
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let mut expiring = HashSet::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        let mut body = session_body();
        body["expires_at"] = json!(soon);
        let s = post(&client, node, &key, "/v1/checkout_sessions", &body).await;
        expiring.insert(s["checkout_session_id"].as_str().unwrap().to_string());
    }

    let ids = distinct_events(&receiver, 7, &secret).await;
    assert_eq!(ids.len(), 7, "one completion and six expiries");
    // Give both nodes time to deliver anything twice, if they were going to.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = receiver.received();
    assert_eq!(
        all.len(),
        7,
        "each event delivered once, not once per node: {:?}",
        all.iter().map(|r| &r.json["event"]).collect::<Vec<_>>()
    );
    let expired: HashSet<String> = all
        .iter()
        .filter(|r| r.json["event"] == "checkout_session.expired")
        .map(|r| {
            r.json["data"]["checkout_session_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(expired, expiring);
    receiver.stop().await;
    drop((a, b));
    admin.close().await;
}

/// Each node keeps the sessions its customers view in memory; a change made through another
/// node, or by anyone, still shows at once, and still does after the database dropped every
/// connection (the nodes listen again, and read the database until they do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_node_shows_on_the_other_nodes_page() {
    let Some((admin, ws, name)) = postgres_workspace().await else {
        return;
    };
    let client = client();
    let (a, b, key) = two_nodes(&ws, &client).await;
    let s = post(&client, &a, &key, "/v1/checkout_sessions", &session_body()).await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();
    let status = format!("/checkout/{id}/status");

    assert!(
        viewed_then_renamed(&client, &a, &b, &key, &id, "Bazin riche").await,
        "a shows the title b wrote\n{}",
        a.output_for_diagnosis()
    );

    // The database drops every connection, the nodes' listeners with them; then b takes the
    // payment.
    assert!(listeners(&admin, &name, 2).await, "both nodes listen");
    assert!(
        read_until(&client, &a, &status, "open")
            .await
            .contains("\"open\"")
    );
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .execute(&admin)
    .await
    .unwrap();
    let report = json!({"provider": "WAVE", "provider_reference": "r-1", "amount_paid": 10000});
    let mut paid = false;
    for _ in 0..50 {
        // b's first query may meet its own dropped connection.
        let res = client
            .post(b.url(&format!("/v1/checkout_sessions/{id}/complete")))
            .header("X-API-KEY", &key)
            .json(&report)
            .send()
            .await
            .unwrap();
        if res.status() == 200 {
            paid = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(paid, "b takes the payment\n{}", b.output_for_diagnosis());
    let seen = read_until(&client, &a, &status, "completed").await;
    assert!(
        seen.contains("\"completed\""),
        "a sees the payment b took: {seen}\n{}",
        a.output_for_diagnosis()
    );
    // Both listen again, and a shows b's changes as before.
    assert!(
        listeners(&admin, &name, 2).await,
        "the nodes listen again\n{}",
        a.output_for_diagnosis()
    );
    let s = post(&client, &a, &key, "/v1/checkout_sessions", &session_body()).await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();
    assert!(
        viewed_then_renamed(&client, &a, &b, &key, &id, "Kente").await,
        "a shows b's changes after listening again\n{}",
        a.output_for_diagnosis()
    );
    drop((a, b));
    admin.close().await;
}

/// Two merchants' writes to one session through two nodes at once (a title through one, an
/// amount through the other): both answer 200 and both are kept, although each node read the
/// session before the other wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_two_nodes_at_once_are_both_kept() {
    let Some((admin, ws, _)) = postgres_workspace().await else {
        return;
    };
    let client = client();
    let (a, b, key) = two_nodes(&ws, &client).await;
    for i in 0..20 {
        let s = post(&client, &a, &key, "/v1/checkout_sessions", &session_body()).await;
        let path = format!(
            "/v1/checkout_sessions/{}",
            s["checkout_session_id"].as_str().unwrap()
        );
        let title = format!("Pagne wax n°{i}");
        let amount = 20_000 + i;
        let patch = |server: &Server, body: Value| {
            client
                .patch(server.url(&path))
                .header("X-API-KEY", &key)
                .json(&body)
                .send()
        };
        let (x, y) = tokio::join!(
            patch(&a, json!({"title": title})),
            patch(&b, json!({"amount": amount}))
        );
        assert_eq!(
            (x.unwrap().status().as_u16(), y.unwrap().status().as_u16()),
            (200, 200),
            "race {i}"
        );
        // Each node sees both (the other node's write within a notification's delay).
        for server in [&a, &b] {
            let mut read = Value::Null;
            for _ in 0..30 {
                read = get(&client, server, &key, &path).await;
                if read["title"] == title.as_str() && read["amount"] == amount {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(
                (read["title"].as_str(), read["amount"].as_i64()),
                (Some(title.as_str()), Some(amount)),
                "race {i}: both writes are kept"
            );
        }
    }
    drop((a, b));
    admin.close().await;
}

/// The merchant's Wave account, registered through `server` with the key `wave_sn_prod_nodes`
/// (which `fake` knows); the path of its `webhook_url` below `/providers/`.
async fn wave_account(
    client: &Client,
    server: &Server,
    key: &str,
    fake: &wave::FakeWave,
) -> String {
    fake.add_api_key("wave_sn_prod_nodes", "Boutique Awa");
    let res = client
        .put(server.url("/v1/providers/wave"))
        .header("X-API-KEY", key)
        .json(&json!({"api_key": "wave_sn_prod_nodes", "webhook_secret": "whs_nodes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    account["webhook_url"]
        .as_str()
        .unwrap()
        .split_once("/providers/")
        .unwrap()
        .1
        .to_string()
}

/// Registers `server`'s webhook URL for the account (`path` from [`wave_account`]) at Wave.
fn wave_webhook(fake: &wave::FakeWave, server: &Server, path: &str) {
    fake.add_webhook(
        "Boutique Awa",
        &server.url(&format!("/providers/{path}")),
        "whs_nodes",
        wave::WebhookAuth::Signature,
    );
}

/// The customer chooses Wave on `server`'s page for session `id`: the pay form's request,
/// ready to send (with the page's cookie and CSRF token).
async fn wave_chosen(client: &Client, server: &Server, id: &str) -> reqwest::RequestBuilder {
    chosen(client, server, id, "WAVE", "+221770000000").await
}

/// The customer chooses `provider` with `phone` on `server`'s page for session `id`.
async fn chosen(
    client: &Client,
    server: &Server,
    id: &str,
    provider: &str,
    phone: &str,
) -> reqwest::RequestBuilder {
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
        .form(&[
            ("csrf", csrf.as_str()),
            ("provider", provider),
            ("customer_phone", phone),
        ])
}

/// The merchant's events so far, once a late duplicate would have arrived.
async fn settled_events(receiver: &Receiver, n: usize) -> Vec<Value> {
    receiver.wait_for(n).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    receiver
        .received()
        .iter()
        .map(|r| r.json["event"].clone())
        .collect()
}

/// The same Wave notification reaches both nodes of one PostgreSQL database at once (Wave
/// delivers at least once, and a load balancer may send each copy to another node): the
/// session completes once, with one merchant event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_receiving_the_same_wave_notification_complete_once() {
    let Some((admin, ws, _)) = postgres_workspace().await else {
        return;
    };
    let fake = wave::FakeWave::start().await;
    // The master key: the file the first node makes in the shared working directory, which the
    // second node and the command line then read.
    let envs = [
        ("CAISSE_WAVE_API_URL", fake.base_url.as_str()),
        ("CAISSE_SWEEP_INTERVAL", "1"),
    ];
    let client = client();
    let mut a = ws.serve("a", free_port(), &[], &envs);
    a.wait_healthy(&client).await;
    let mut b = ws.serve("b", free_port(), &[], &envs);
    b.wait_healthy(&client).await;
    let key = ws.organization_and_key();
    let receiver = Receiver::start().await;
    post(
        &client,
        &a,
        &key,
        "/v1/webhooks",
        &json!({"url": receiver.url}),
    )
    .await;
    let path = wave_account(&client, &a, &key, &fake).await;
    for node in [&a, &b] {
        wave_webhook(&fake, node, &path);
    }

    // The customer chooses Wave on node a's page.
    let s = post(&client, &a, &key, "/v1/checkout_sessions", &session_body()).await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();
    let chosen = wave_chosen(&client, &a, &id).await.send().await.unwrap();
    assert_eq!(chosen.status(), 303);
    let launch = chosen.headers()["location"].to_str().unwrap().to_string();
    let wave_session = launch.rsplit('/').next().unwrap().to_string();

    fake.pay(&wave_session).await.unwrap();
    let delivered: Vec<_> = fake
        .deliveries()
        .into_iter()
        .filter(|d| d.delivered())
        .collect();
    assert_eq!(
        delivered.len(),
        2,
        "both nodes took the notification: {delivered:?}"
    );
    let read = get(&client, &b, &key, &format!("/v1/checkout_sessions/{id}")).await;
    assert_eq!(read["status"], "completed");
    assert_eq!(
        settled_events(&receiver, 1).await,
        vec![json!("checkout_session.completed")],
        "one completion, one event"
    );
    receiver.stop().await;
    drop((a, b));
    admin.close().await;
}

/// caisse is killed (SIGKILL: nothing graceful) after Wave made the session of a customer's
/// payment and before caisse wrote Wave's answer; Wave's notification of the money is lost
/// too. Restarted, caisse finds the session at Wave by the payment's id, and the money
/// completes the checkout once, with one merchant event.
async fn killed_between_waves_answer_and_its_own_write(ws: Workspace) {
    let fake = wave::FakeWave::start().await;
    let envs = [
        ("CAISSE_WAVE_API_URL", fake.base_url.as_str()),
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
    let path = wave_account(&client, &first, &key, &fake).await;
    wave_webhook(&fake, &first, &path);
    fake.hold_webhooks(true);
    let s = post(
        &client,
        &first,
        &key,
        "/v1/checkout_sessions",
        &session_body(),
    )
    .await;
    let id = s["checkout_session_id"].as_str().unwrap().to_string();

    // Wave makes the session and is slow to answer; caisse dies while it waits.
    fake.hang_for(Duration::from_secs(30));
    let pay = wave_chosen(&client, &first, &id).await;
    let customer = tokio::spawn(pay.send());
    let made = |fake: &wave::FakeWave| {
        fake.requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.path == "/v1/checkout/sessions")
    };
    for _ in 0..POLL_TRIES {
        if made(&fake).is_some() {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let payment_id = made(&fake).expect("Wave was asked").json()["client_reference"]
        .as_str()
        .unwrap()
        .to_string();
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(
        customer.await.unwrap().is_err(),
        "no answer from a killed server"
    );
    fake.hang_for(Duration::ZERO);

    let mut second = ws.serve("second", port, &[], &envs);
    second.wait_healthy(&client).await;
    let payments = get(
        &client,
        &second,
        &key,
        &format!("/v1/checkout_sessions/{id}/payments"),
    )
    .await;
    let payment = &payments["data"][0];
    assert_eq!(payment["payment_id"], payment_id.as_str());
    assert_eq!(payment["status"], "pending");
    assert!(
        payment["provider_reference"].is_null(),
        "Wave's answer was never written"
    );

    // The customer pays the session Wave made (its page was open on the phone).
    let found: Value = reqwest::Client::new()
        .get(format!("{}/v1/checkout/sessions/search", fake.base_url))
        .query(&[("client_reference", payment_id.as_str())])
        .bearer_auth("wave_sn_prod_nodes")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at_wave = found["result"][0]["id"].as_str().unwrap().to_string();
    fake.pay(&at_wave).await.unwrap();
    // Read at Wave on the reconciler's backing-off schedule: within 30 s.
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
    assert_eq!(read["payment"]["payment_id"], payment_id.as_str());
    // The lost notification arrives after all: nothing more happens.
    fake.release_webhooks().await;
    assert_eq!(
        settled_events(&receiver, 1).await,
        vec![json!("checkout_session.completed")],
        "one completion, one event"
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_waves_answer_and_its_own_write_on_sqlite() {
    killed_between_waves_answer_and_its_own_write(Workspace::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_waves_answer_and_its_own_write_on_postgres() {
    let Some((admin, ws, _)) = postgres_workspace().await else {
        return;
    };
    killed_between_waves_answer_and_its_own_write(ws).await;
    admin.close().await;
}
