//! caisse under the faults an operator's machine meets: SQLite's disk filling up, PostgreSQL
//! going away for a while, and SIGTERM while customers are paying. In each, a write caisse
//! acknowledges is stored, a customer is told to try again rather than that their checkout
//! does not exist, and caisse recovers by itself.
//!
//! The disk-full test mounts a small tmpfs, which needs the right to mount; without it the test
//! says it was skipped, unless `CAISSE_TEST_REQUIRE_FAULTS` is set (as CI does), when it fails.

#[path = "support/process.rs"]
mod process;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "api/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use process::*;
use proxy::Proxy;
use receiver::Receiver;
use reqwest::Client;
use serde_json::{Value, json};
use sqlx::Connection;
use uuid::Uuid;

const REQUIRE: &str = "CAISSE_TEST_REQUIRE_FAULTS";

fn session_body() -> Value {
    json!({"amount": 10000, "currency_code": "XOF", "title": "Pagne wax"})
}

/// A request's status and JSON body (`Null` when it has none).
async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("caisse answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn create(
    client: &Client,
    server: &Server,
    key: &str,
    idempotency: Option<&str>,
) -> (u16, Value) {
    let mut req = client
        .post(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", key)
        .json(&session_body());
    if let Some(k) = idempotency {
        req = req.header("Idempotency-Key", k);
    }
    send(req).await
}

async fn complete(
    client: &Client,
    server: &Server,
    key: &str,
    id: &str,
    amount: i64,
) -> (u16, Value) {
    let report =
        json!({"provider": "WAVE", "provider_reference": format!("r-{id}"), "amount_paid": amount});
    send(
        client
            .post(server.url(&format!("/v1/checkout_sessions/{id}/complete")))
            .header("X-API-KEY", key)
            .json(&report),
    )
    .await
}

fn id_of(body: &Value) -> String {
    body["checkout_session_id"]
        .as_str()
        .expect("a session")
        .to_string()
}

/// A tmpfs of `size` mounted at a directory of the workspace, unmounted on drop.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    fn new(ws: &Workspace, size: &str) -> Option<Mount> {
        let dir = ws.dir.join("disk");
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Mount { dir }),
            other => {
                let why = match other {
                    Ok(out) => text(&out.stderr),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var_os(REQUIRE).is_none(),
                    "{REQUIRE} is set but a tmpfs cannot be mounted: {why}"
                );
                eprintln!("skipped: a tmpfs cannot be mounted here ({})", why.trim());
                None
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

/// Fills the filesystem of `dir` to the last byte with a file, and returns the file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    for chunk in [1 << 16, 4096, 512, 1] {
        let bytes = vec![0u8; chunk];
        while file.write_all(&bytes).is_ok() {}
    }
    path
}

/// The status of each session in the database file, read through a connection of the test's
/// own: what is committed, whatever caisse believes.
async fn committed(database: &Path, ids: &[String]) -> Vec<Option<String>> {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(database);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open the database file");
    let mut statuses = Vec::with_capacity(ids.len());
    for id in ids {
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM checkout_sessions WHERE checkout_session_id = $1",
        )
        .bind(Uuid::parse_str(id).unwrap())
        .fetch_optional(&mut conn)
        .await
        .unwrap();
        statuses.push(status);
    }
    conn.close().await.unwrap();
    statuses
}

async fn readyz(client: &Client, server: &Server) -> (u16, String) {
    let res = client.get(server.url("/readyz")).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_are_committed_through_a_full_disk_and_after_it() {
    let ws = Workspace::new();
    let Some(disk) = Mount::new(&ws, "8m") else {
        return;
    };
    let database = disk.dir.join("caisse.db");
    let mut ws = ws;
    ws.database_url = format!("sqlite:{}", database.display());
    let client = client();
    let key = ws.organization_and_key();
    let mut server = ws.serve("server", free_port(), &[], &[]);
    server.wait_healthy(&client).await;

    let mut open = Vec::new();
    for _ in 0..40 {
        let (status, body) = create(&client, &server, &key, None).await;
        assert_eq!(status, 201);
        open.push(id_of(&body));
    }
    let mut created = Vec::new();
    let mut completed = Vec::new();

    // The disk fills: creations (inside a transaction, with their idempotency record) and
    // completions go on until the database can no longer commit.
    let filler = fill(&disk.dir);
    let mut refused = 0;
    for i in 0..400 {
        let (status, body) = create(&client, &server, &key, Some(&format!("full-{i}"))).await;
        match status {
            201 => created.push(id_of(&body)),
            503 => {
                assert_eq!(body["error"]["code"], "unavailable", "{body}");
                refused += 1;
            }
            other => panic!("a creation on a full disk answered {other}: {body}"),
        }
        if let Some(id) = open.pop() {
            let (status, body) = complete(&client, &server, &key, &id, 10000).await;
            match status {
                200 => completed.push(id),
                503 => assert_eq!(body["error"]["code"], "unavailable", "{body}"),
                other => panic!("a completion on a full disk answered {other}: {body}"),
            }
        }
        if refused >= 5 {
            break;
        }
    }
    assert!(
        refused >= 5,
        "the disk is full, yet {} creations and {} completions were acknowledged and only \
         {refused} refused\n{}",
        created.len(),
        completed.len(),
        server.output_for_diagnosis()
    );
    let (status, why) = readyz(&client, &server).await;
    assert_eq!((status, why.as_str()), (503, "database disk full"));

    // Room again. A transaction that rolls back (a completion with the wrong amount) comes
    // first, then ordinary writes: each must be committed when it is acknowledged.
    std::fs::remove_file(&filler).unwrap();
    let (status, _) = complete(&client, &server, &key, &open[0], 1).await;
    assert_eq!(status, 422);
    let (status, why) = readyz(&client, &server).await;
    assert_eq!((status, why.as_str()), (200, "ready"));
    for i in 0..10 {
        for idempotency in [None, Some(format!("after-{i}"))] {
            let (status, body) = create(&client, &server, &key, idempotency.as_deref()).await;
            assert_eq!(status, 201, "{body}\n{}", server.output_for_diagnosis());
            created.push(id_of(&body));
        }
    }
    for id in open.drain(..5) {
        let (status, body) = complete(&client, &server, &key, &id, 10000).await;
        assert_eq!(status, 200, "{body}");
        completed.push(id);
    }

    for when in ["while caisse runs", "after caisse stopped"] {
        let statuses = committed(&database, &created).await;
        let lost = statuses.iter().filter(|s| s.is_none()).count();
        assert_eq!(
            lost,
            0,
            "{when}: {lost} of {} acknowledged creations are not committed",
            created.len()
        );
        let statuses = committed(&database, &completed).await;
        assert!(
            statuses.iter().all(|s| s.as_deref() == Some("completed")),
            "{when}: every acknowledged completion is committed: {statuses:?}"
        );
        if when == "while caisse runs" {
            let status = server.terminate(Duration::from_secs(15)).await;
            assert!(status.success(), "{}", server.output_for_diagnosis());
        }
    }
}

/// A workspace on a new database of the PostgreSQL server named by `CAISSE_TEST_POSTGRES_URL`,
/// reached through a proxy the test can cut; `None` (skipped) when the variable is not set.
async fn postgres_behind_proxy() -> Option<(Workspace, Proxy)> {
    let (admin, base, name) = postgres_database().await?;
    admin.close().await;
    let url = url::Url::parse(&base).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(target).await;
    let mut through = url.clone();
    through.set_host(Some("127.0.0.1")).unwrap();
    through.set_port(Some(proxy.port)).unwrap();
    through.set_path(&format!("/{name}"));
    let mut ws = Workspace::new();
    ws.database_url = through.to_string();
    Some((ws, proxy))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_says_try_again_and_caisse_recovers_by_itself() {
    let Some((ws, proxy)) = postgres_behind_proxy().await else {
        return;
    };
    let client = client();
    let key = ws.organization_and_key();
    let mut server = ws.serve("server", free_port(), &[], &[]);
    server.wait_healthy(&client).await;
    let (_, body) = create(&client, &server, &key, None).await;
    let id = id_of(&body);

    proxy.cut();
    let page = format!("/checkout/{id}");
    let started = Instant::now();
    let res = client.get(server.url(&page)).send().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(
        res.status(),
        503,
        "a page the database cannot give is not a 404"
    );
    assert_eq!(res.headers()["retry-after"], "5");
    let body = res.text().await.unwrap();
    assert!(body.contains("Réessayez dans un instant"), "{body}");
    assert!(!body.contains("introuvable"), "{body}");
    assert!(
        waited < Duration::from_secs(5),
        "the customer is answered within seconds, not after {waited:?}"
    );
    let (status, body) = send(client.get(server.url(&format!("{page}/status")))).await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("unavailable")),
        "{body}"
    );
    let (status, body) = send(
        client
            .get(server.url(&format!("/v1/checkout_sessions/{id}")))
            .header("X-API-KEY", &key),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("unavailable")),
        "{body}"
    );
    let (status, body) = create(&client, &server, &key, None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("unavailable")),
        "{body}"
    );
    assert_eq!(readyz(&client, &server).await.0, 503);

    // The database is back: the same node serves again, with no restart.
    proxy.restore();
    let mut back = false;
    for _ in 0..POLL_TRIES {
        if client.get(server.url(&page)).send().await.unwrap().status() == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert!(
        back,
        "the page is served again\n{}",
        server.output_for_diagnosis()
    );
    let (status, body) = create(&client, &server, &key, None).await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = complete(&client, &server, &key, &id_of(&body), 10000).await;
    assert_eq!(status, 200);
    assert_eq!(readyz(&client, &server).await.0, 200);
    server.assert_running();
}

/// Customers paying on every connection while caisse is told to stop, `rounds` times in a
/// row, with webhook deliveries in flight: no request in flight fails, every acknowledged
/// payment is kept, and every attempt is recorded (so none is made twice after the restart).
async fn sigterm_under_load(ws: Workspace) {
    let client = client();
    let key = ws.organization_and_key();
    let receiver = Receiver::start().await;
    // Deliveries take a while to answer, so some are in flight when the stop comes.
    receiver.delay(Duration::from_millis(400));
    let fast = [
        ("CAISSE_WEBHOOK_RETRY_BASE_MS", "200"),
        ("CAISSE_WEBHOOK_TIMEOUT", "5"),
    ];
    let mut paid = HashSet::new();
    for round in 0..3 {
        let mut server = ws.serve(&format!("round-{round}"), free_port(), &[], &fast);
        server.wait_healthy(&client).await;
        if round == 0 {
            let (status, _) = send(
                client
                    .post(server.url("/v1/webhooks"))
                    .header("X-API-KEY", &key)
                    .json(&json!({"url": receiver.url})),
            )
            .await;
            assert_eq!(status, 201);
        }
        let mut load = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let (client, key) = (client.clone(), key.clone());
            let base = server.url("");
            load.spawn(async move {
                let mut answers = Vec::new();
                let mut paid = Vec::new();
                // Until the server is gone: a request it does not take is refused, not failed.
                for _ in 0..2000 {
                    let created = client
                        .post(format!("{base}/v1/checkout_sessions"))
                        .header("X-API-KEY", &key)
                        .json(&session_body())
                        .send()
                        .await;
                    let Ok(res) = created else { break };
                    answers.push(res.status().as_u16());
                    let Ok(body) = res.json::<Value>().await else { continue };
                    let Some(id) = body["checkout_session_id"].as_str() else { continue };
                    let page = client.get(format!("{base}/checkout/{id}")).send().await;
                    let Ok(page) = page else { break };
                    answers.push(page.status().as_u16());
                    let report = json!({"provider": "WAVE", "provider_reference": "r", "amount_paid": 10000});
                    let done = client
                        .post(format!("{base}/v1/checkout_sessions/{id}/complete"))
                        .header("X-API-KEY", &key)
                        .json(&report)
                        .send()
                        .await;
                    let Ok(done) = done else { break };
                    answers.push(done.status().as_u16());
                    if done.status() == 200 {
                        paid.push(id.to_string());
                    }
                }
                (answers, paid)
            });
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let status = server.terminate(Duration::from_secs(20)).await;
        assert!(status.success(), "{}", server.output_for_diagnosis());
        let mut failed = Vec::new();
        while let Some(done) = load.join_next().await {
            let (answers, ids) = done.unwrap();
            failed.extend(answers.into_iter().filter(|s| *s >= 500));
            paid.extend(ids);
        }
        let log = server.stderr();
        assert!(
            failed.is_empty(),
            "round {round}: answers {failed:?}\n{log}"
        );
        for bad in [
            "being shutdown",
            "recording a webhook attempt failed",
            "store error",
        ] {
            assert!(
                !log.contains(bad),
                "round {round}: {bad:?} in the log\n{log}"
            );
        }
    }

    // Restarted once more, caisse delivers what is left: each payment's event arrives, once.
    receiver.delay(Duration::ZERO);
    let mut server = ws.serve("last", free_port(), &[], &fast);
    server.wait_healthy(&client).await;
    let mut seen = HashSet::new();
    for _ in 0..300 {
        seen = receiver.sessions();
        if seen.len() >= paid.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!paid.is_empty());
    assert_eq!(seen, paid, "every acknowledged payment's event arrives");
    let received = receiver.received();
    let events: HashSet<&str> = received
        .iter()
        .map(|r| r.json["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        events.len(),
        received.len(),
        "no event is delivered twice: a stop lets the attempts in flight finish and records them"
    );
    server.assert_running();
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_fails_no_request_on_postgres() {
    let Some((ws, _proxy)) = postgres_behind_proxy().await else {
        return;
    };
    sigterm_under_load(ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_fails_no_request_on_sqlite() {
    sigterm_under_load(Workspace::new()).await;
}
