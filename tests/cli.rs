//! The `caisse` binary as an operator runs it: the real executable, a fresh SQLite file in a
//! directory of its own, a free port on 127.0.0.1, configuration through the environment only,
//! and HTTP over loopback. Every server started here is killed when its test ends, however it
//! ends.

#[path = "support/process.rs"]
mod process;

use std::time::Duration;

use process::*;
use reqwest::{Client, Response};
use serde_json::{Value, json};
use uuid::Uuid;

/// The lines `caisse` prints for the operator on a new database (not log lines).
const BANNER_PREFIXES: [&str; 4] = [
    "New database: created the demo organization",
    "Test API key (shown once):",
    "Demo checkout:",
    "caisse is listening on",
];

/// The first whitespace-separated word of `line` that starts with `prefix`.
fn word_starting_with<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.split_whitespace().find(|w| w.starts_with(prefix))
}

fn is_banner(line: &str) -> bool {
    BANNER_PREFIXES.iter().any(|p| line.starts_with(p))
}

async fn list_sessions(client: &Client, server: &Server, key: &str) -> Value {
    let res = client
        .get(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", key)
        .send()
        .await
        .expect("list sessions");
    assert_eq!(res.status(), 200, "list with the key");
    res.json().await.expect("a JSON list")
}

/// Counts the organizations in a database, read after the server has stopped.
async fn organizations_in(database_url: &str) -> i64 {
    let store = caisse::store::Store::connect(database_url)
        .await
        .expect("open the database");
    let n = store
        .count_organizations()
        .await
        .expect("count organizations");
    store.close().await;
    n
}

#[tokio::test]
async fn first_run_prints_a_demo_key_and_a_working_checkout_url() {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve("first", port, &[], &[]);

    let key_line = server
        .wait_for_line("the test key", |l| l.contains("sk_test_"))
        .await;
    let key = word_starting_with(&key_line, "sk_test_")
        .expect("a key word")
        .to_string();
    assert_eq!(key.len(), "sk_test_".len() + 64, "a full key: {key_line}");
    let base = format!("http://127.0.0.1:{port}/checkout/");
    let url_line = server
        .wait_for_line("the demo checkout URL", |l| l.contains(&base))
        .await;
    let url = word_starting_with(&url_line, &base)
        .expect("a URL word")
        .to_string();
    let session_id = Uuid::parse_str(&url[base.len()..]).expect("the URL ends with a UUID");
    server.wait_healthy(&http).await;

    let page = http.get(&url).send().await.expect("GET the demo checkout");
    assert_eq!(page.status(), 200, "the demo checkout page");
    let content_type = page.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Pagne wax — 6 yards"),
        "the demo title: {html}"
    );

    let list = list_sessions(&http, &server, &key).await;
    assert_eq!(list["pagination"]["total"], 1, "{list}");
    assert_eq!(
        list["data"][0]["checkout_session_id"],
        session_id.to_string()
    );

    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "first run exited with {status}");
    drop(server);

    // The same database again: nothing new is seeded and no key is printed.
    let port = free_port();
    let mut again = ws.serve("second", port, &[], &[]);
    again
        .wait_for_line("that it is listening", |l| {
            l.starts_with("caisse is listening on")
        })
        .await;
    again.wait_healthy(&http).await;
    let list = list_sessions(&http, &again, &key).await;
    assert_eq!(
        list["pagination"]["total"], 1,
        "the first key still sees one session: {list}"
    );
    let status = again.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "second run exited with {status}");
    let out = again.stdout();
    assert!(
        !out.contains("sk_test_") && !out.contains("sk_live_"),
        "a restart printed a key:\n{out}"
    );
    assert!(
        !out.contains("demo organization") && !out.contains("Demo checkout"),
        "a restart seeded the demo again:\n{out}"
    );
    drop(again);
    assert_eq!(organizations_in(&ws.database_url).await, 1);
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve("serve", port, &["serve"], &[]);
    server.wait_healthy(&http).await;
    // A connection kept alive by the client must not hold the shutdown up past its timeout.
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(
        status.success(),
        "caisse exited with {status} after SIGTERM\n{}",
        server.output_for_diagnosis()
    );
    assert!(!port_is_open(port), "port {port} still accepts connections");
    assert!(
        server.stderr().contains("stopped"),
        "no `stopped` log line\n{}",
        server.output_for_diagnosis()
    );
}

#[tokio::test]
async fn operator_commands_create_an_organization_a_key_and_a_session() {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();

    let migrate = ws.run(port, &["migrate"]);
    assert!(migrate.status.success(), "migrate: {migrate:?}");

    let org = ws.run(port, &["organization", "create", "--name", "Boutique Awa"]);
    assert!(org.status.success(), "organization create: {org:?}");
    let org_out = text(&org.stdout);
    let org_id = Uuid::parse_str(org_out.trim())
        .unwrap_or_else(|_| panic!("stdout is the organization id alone: {org_out:?}"))
        .to_string();

    let key = ws.run(
        port,
        &[
            "key",
            "create",
            "--organization",
            &org_id,
            "--environment",
            "live",
        ],
    );
    assert!(key.status.success(), "key create: {key:?}");
    let key_out = text(&key.stdout);
    let live_key = key_out.trim().to_string();
    assert!(
        live_key.starts_with("sk_live_") && live_key.len() == "sk_live_".len() + 64,
        "stdout is the key alone: {key_out:?}"
    );
    let key_err = text(&key.stderr);
    assert!(
        !key_err.contains(&live_key["sk_live_".len()..]),
        "the key is on stderr: {key_err}"
    );

    let session = ws.run(
        port,
        &[
            "session",
            "create",
            "--organization",
            &org_id,
            "--environment",
            "live",
            "--amount",
            "2500",
            "--currency",
            "EUR",
            "--title",
            "Atelier",
        ],
    );
    assert!(session.status.success(), "session create: {session:?}");
    let session_out = text(&session.stdout);
    let session_url = session_out.trim().to_string();
    let base = format!("http://127.0.0.1:{port}/checkout/");
    assert!(
        session_url.starts_with(&base),
        "stdout is the checkout URL alone: {session_out:?}"
    );
    let session_id = Uuid::parse_str(&session_url[base.len()..])
        .unwrap_or_else(|_| panic!("the URL ends with a UUID: {session_url}"))
        .to_string();

    // Bad input: a non-zero exit, a message naming the fault, nothing created.
    let zero = ws.run(
        port,
        &[
            "session",
            "create",
            "--organization",
            &org_id,
            "--environment",
            "live",
            "--amount",
            "0",
            "--currency",
            "EUR",
            "--title",
            "Atelier",
        ],
    );
    assert!(!zero.status.success(), "--amount 0 succeeded: {zero:?}");
    let zero_err = text(&zero.stderr);
    assert!(
        zero_err.contains("amount"),
        "stderr names amount: {zero_err}"
    );
    assert!(!text(&zero.stdout).contains("/checkout/"), "{zero:?}");

    let stranger = Uuid::new_v4().to_string();
    let unknown = ws.run(
        port,
        &[
            "session",
            "create",
            "--organization",
            &stranger,
            "--amount",
            "2500",
            "--title",
            "Atelier",
        ],
    );
    assert!(
        !unknown.status.success(),
        "an unknown organization succeeded: {unknown:?}"
    );
    let unknown_err = text(&unknown.stderr);
    assert!(
        unknown_err.contains("organization") && unknown_err.contains(&stranger),
        "stderr names the unknown organization: {unknown_err}"
    );
    assert!(!text(&unknown.stdout).contains("/checkout/"), "{unknown:?}");

    let unknown_key = ws.run(port, &["key", "create", "--organization", &stranger]);
    assert!(
        !unknown_key.status.success(),
        "a key for an unknown organization: {unknown_key:?}"
    );
    let unknown_key_err = text(&unknown_key.stderr);
    assert!(
        unknown_key_err.contains("organization"),
        "stderr names the organization: {unknown_key_err}"
    );
    assert!(
        !text(&unknown_key.stdout).contains("sk_"),
        "{unknown_key:?}"
    );

    let no_name = ws.run(port, &["organization", "create", "--name", "  "]);
    assert!(!no_name.status.success(), "a blank name: {no_name:?}");
    assert!(text(&no_name.stderr).contains("name"), "{no_name:?}");

    // The server on that database: no demo (an organization exists), the key works, and it
    // sees the CLI's session and nothing else.
    let mut server = ws.serve("serve", port, &[], &[]);
    server
        .wait_for_line("that it is listening", |l| {
            l.starts_with("caisse is listening on")
        })
        .await;
    server.wait_healthy(&http).await;
    assert!(
        !server.stdout().contains("sk_test_"),
        "a demo key on a database that has an organization\n{}",
        server.output_for_diagnosis()
    );

    let list = list_sessions(&http, &server, &live_key).await;
    assert_eq!(list["pagination"]["total"], 1, "{list}");
    let listed = &list["data"][0];
    assert_eq!(listed["checkout_session_id"], session_id.as_str(), "{list}");
    assert_eq!(listed["organization_id"], org_id.as_str(), "{listed}");
    assert_eq!(listed["amount"], 2500, "{listed}");
    assert_eq!(listed["currency_code"], "EUR", "{listed}");
    assert_eq!(listed["title"], "Atelier", "{listed}");
    assert_eq!(listed["environment"], "live", "{listed}");
    assert_eq!(listed["created_by"], "cli", "{listed}");
    assert_eq!(listed["status"], "open", "{listed}");
    assert_eq!(listed["url"], session_url.as_str(), "{listed}");

    let page = http.get(&session_url).send().await.unwrap();
    assert_eq!(page.status(), 200, "the URL the CLI printed is served");
    assert!(page.text().await.unwrap().contains("Atelier"));

    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "exited with {status}");
    drop(server);
    assert_eq!(
        organizations_in(&ws.database_url).await,
        1,
        "bad input created an organization"
    );
}

#[test]
fn every_subcommand_has_help() {
    let ws = Workspace::new();
    let port = free_port();
    let cases: [(&[&str], &[&str]); 11] = [
        (
            &["--help"],
            &[
                "serve",
                "migrate",
                "organization",
                "key",
                "session",
                "provider",
                "--database-url",
                "--bind",
                "--public-url",
                "--log-format",
                "--master-key-file",
            ],
        ),
        (
            &["serve", "--help"],
            &["--bind", "--database-url", "--workers"],
        ),
        (&["migrate", "--help"], &["--database-url"]),
        (
            &["organization", "create", "--help"],
            &["--name", "--allowed-origin", "--country"],
        ),
        (
            &["product", "create", "--help"],
            &["--organization", "--name", "--image-url"],
        ),
        (
            &["price", "create", "--help"],
            &[
                "--product",
                "--amount",
                "--currency",
                "--pay-what-you-want",
                "--default",
            ],
        ),
        (
            &["link", "create", "--help"],
            &["--product", "--price", "--amount", "--currency", "--title"],
        ),
        (
            &["organization", "update", "--help"],
            &["--organization", "--name", "--country"],
        ),
        (
            &["key", "create", "--help"],
            &["--organization", "--environment", "test", "live"],
        ),
        (
            &["session", "create", "--help"],
            &[
                "--organization",
                "--environment",
                "--amount",
                "--currency",
                "--title",
                "--description",
                "--quantity",
                "--allow-quantity",
                "--allow-coupon-code",
                "--success-url",
                "--cancel-url",
            ],
        ),
        (
            &["provider", "set", "--help"],
            &[
                "--organization",
                "--environment",
                "--field",
                "NAME=VALUE",
                "--disabled",
                "wave",
                "spi",
            ],
        ),
    ];
    for (args, mentions) in cases {
        let out = ws.run(port, args);
        let help = text(&out.stdout);
        assert!(out.status.success(), "caisse {}: {out:?}", args.join(" "));
        for option in mentions {
            assert!(
                help.contains(option),
                "`caisse {}` does not mention {option}:\n{help}",
                args.join(" ")
            );
        }
    }
    assert!(
        !ws.dir.join("caisse.db").exists(),
        "--help touched the database"
    );
}

/// An operator asking for help on a configured host must not get the database password or the
/// master key back: help output ends up in terminals, screenshots and support tickets.
#[test]
fn help_does_not_print_the_database_password_or_the_master_key() {
    let ws = Workspace::new();
    let port = free_port();
    let password = "s3cret-pw-7731";
    let master_key = "5e".repeat(32);
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
    ] {
        let out = ws
            .command(port, args)
            .env(
                "DATABASE_URL",
                format!("postgres://caisse:{password}@db.internal/caisse"),
            )
            .env("CAISSE_MASTER_KEY", &master_key)
            .output()
            .expect("run caisse");
        assert!(out.status.success(), "caisse {}: {out:?}", args.join(" "));
        let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            !shown.contains(&master_key),
            "`caisse {}` prints the master key",
            args.join(" ")
        );
        assert!(
            !shown.contains(password),
            "`caisse {}` prints the database password:\n{}",
            args.join(" "),
            shown
                .lines()
                .filter(|l| l.contains(password))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// One server run for the log test: its captured output and the request ids it answered with.
struct LoggedRun {
    stdout: String,
    stderr: String,
    key: String,
    request_ids: Vec<String>,
    database_url: String,
}

const EMAIL: &str = "awa.secret@example.com";
const PHONE: &str = "+225 07 12 34 56 78";
const PHONE_DIGITS: &str = "2250712345678";
const METADATA: &str = "colis-rouge-9431";
const CALLER_REQUEST_ID: &str = "operator-check-42";
const PROVIDER_KEY: &str = "wave_sn_prod_logged_Hx71Zq";
const PROVIDER_SECRET: &str = "wave_whs_logged_Dn52Pw";

fn request_id_of(res: &Response) -> String {
    res.headers()
        .get("x-request-id")
        .expect("every response has X-Request-Id")
        .to_str()
        .unwrap()
        .to_string()
}

/// Starts a server on a new database with `CAISSE_LOG_FORMAT=format`, sends requests that
/// carry a key, an email, a phone and metadata, and stops it.
async fn logged_run(format: &str) -> LoggedRun {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve(
        &format!("log-{format}"),
        port,
        &[],
        &[("CAISSE_LOG_FORMAT", format)],
    );
    let key_line = server
        .wait_for_line("the test key", |l| l.contains("sk_test_"))
        .await;
    let key = word_starting_with(&key_line, "sk_test_")
        .expect("a key word")
        .to_string();
    server.wait_healthy(&http).await;
    let mut request_ids = Vec::new();

    let body = json!({
        "amount": 10000,
        "currency_code": "XOF",
        "title": "Pagne wax",
        "customer_email": EMAIL,
        "customer_phone": PHONE,
        "metadata": {"parcel": METADATA},
        "success_url": "https://shop.example/merci?cs={CHECKOUT_SESSION_ID}",
    });
    let res = http
        .post(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &key)
        .header("X-Request-Id", CALLER_REQUEST_ID)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "create");
    assert_eq!(request_id_of(&res), CALLER_REQUEST_ID, "a plain id is kept");
    request_ids.push(request_id_of(&res));
    let created: Value = res.json().await.unwrap();
    let id = created["checkout_session_id"]
        .as_str()
        .expect("an id")
        .to_string();
    assert_eq!(created["customer_email"], EMAIL, "{created}");

    let res = http
        .get(server.url(&format!("/v1/checkout_sessions/{id}")))
        .header("X-API-KEY", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "retrieve");
    request_ids.push(request_id_of(&res));

    let bad = json!({"amount": 0, "currency_code": "XOF", "title": "Pagne wax",
                     "customer_email": EMAIL, "customer_phone": PHONE});
    let res = http
        .post(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &key)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "a bad body");
    request_ids.push(request_id_of(&res));

    let res = http
        .post(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &key)
        .header("Content-Type", "application/json")
        .body(format!("{{\"customer_email\": \"{EMAIL}\","))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "malformed JSON");
    request_ids.push(request_id_of(&res));

    let credentials = json!({"api_key": PROVIDER_KEY, "webhook_secret": PROVIDER_SECRET});
    let res = http
        .put(server.url("/v1/providers/wave"))
        .header("X-API-KEY", &key)
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a provider account");
    request_ids.push(request_id_of(&res));
    let res = http
        .put(server.url("/v1/providers/wave"))
        .header("X-API-KEY", &key)
        .json(&json!({"api_key": PROVIDER_KEY, "webhook_auth": PROVIDER_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "a provider account refused");
    request_ids.push(request_id_of(&res));

    let wrong_key = format!("sk_test_{}", "ab".repeat(32));
    let res = http
        .get(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &wrong_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a wrong key");
    request_ids.push(request_id_of(&res));

    let res = http
        .get(server.url(&format!("/checkout/{id}?email={EMAIL}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the checkout page with the email in the query"
    );
    request_ids.push(request_id_of(&res));

    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "exited with {status}");
    let run = LoggedRun {
        stdout: server.stdout(),
        stderr: server.stderr(),
        key,
        request_ids,
        database_url: ws.database_url.clone(),
    };
    drop(server);
    run
}

fn check_logs(format: &str, run: &LoggedRun) {
    let all = format!("{}\n{}", run.stdout, run.stderr);
    let secret = &run.key["sk_test_".len()..];
    // The stored prefix (`sk_test_` and 8 characters) may be shown; the rest never is.
    let hidden = &secret[8..];

    let banner_with_key: Vec<&str> = all.lines().filter(|l| l.contains(hidden)).collect();
    assert_eq!(
        banner_with_key.len(),
        1,
        "[{format}] the key is printed once, in the banner:\n{all}"
    );
    assert!(
        banner_with_key[0].starts_with("Test API key (shown once):"),
        "[{format}] the key in a line that is not the banner: {}",
        banner_with_key[0]
    );
    assert!(
        !all.contains("sk_test_abababab"),
        "[{format}] the wrong key was logged:\n{all}"
    );

    let log_lines: Vec<&str> = all
        .lines()
        .filter(|l| !l.trim().is_empty() && !is_banner(l))
        .collect();
    for line in &log_lines {
        for private in [
            EMAIL,
            "awa.secret",
            PHONE,
            PHONE_DIGITS,
            METADATA,
            PROVIDER_KEY,
            PROVIDER_SECRET,
        ] {
            assert!(
                !line.contains(private),
                "[{format}] a log line carries {private:?}: {line}"
            );
        }
        assert!(
            !line.contains(&run.database_url),
            "[{format}] a log line carries the database URL: {line}"
        );
    }

    for id in &run.request_ids {
        let served: Vec<&&str> = log_lines
            .iter()
            .filter(|l| l.contains(id.as_str()) && l.contains("served"))
            .collect();
        assert_eq!(
            served.len(),
            1,
            "[{format}] one `served` line for request {id}:\n{all}"
        );
        assert!(
            served[0].contains("request_id"),
            "[{format}] no request_id field: {}",
            served[0]
        );
        if format == "json" {
            let event: Value = serde_json::from_str(served[0])
                .unwrap_or_else(|e| panic!("[json] not JSON ({e}): {}", served[0]));
            assert_eq!(event["span"]["request_id"], id.as_str(), "{event}");
            assert!(event["fields"]["status"].is_number(), "{event}");
        }
    }
}

#[tokio::test]
async fn logs_carry_no_secret_or_customer_email() {
    for format in ["text", "json"] {
        let run = logged_run(format).await;
        check_logs(format, &run);
    }
}

/// What an outsider could do to the operator's files and logs: the SQLite database (webhook
/// secrets, the CSRF key, customers' details) is readable by its owner only, made so if it was
/// not, and requests caisse cannot parse are answered 400 without filling the error log.
#[tokio::test]
async fn the_database_is_private_and_garbage_requests_log_no_error() {
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;

    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve("serve", port, &["serve"], &[]);
    server.wait_healthy(&http).await;
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: \x01\x02\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(garbage).unwrap();
        let mut answer = [0; 12];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 400");
    }
    let mode = |name: &str| {
        std::fs::metadata(ws.dir.join(name))
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };
    assert_eq!(mode("caisse.db"), Some(0o600));
    for name in ["caisse.db-wal", "caisse.db-shm"] {
        assert!(
            matches!(mode(name), None | Some(0o600)),
            "{name}: {:o}",
            mode(name).unwrap()
        );
    }
    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.success());
    let stderr = server.stderr();
    assert!(!stderr.contains("ERROR"), "{stderr}");

    std::fs::set_permissions(
        ws.dir.join("caisse.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = ws.run(free_port(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode("caisse.db"), Some(0o600), "made private again");
}

/// An operator revokes a key a merchant leaked, and renames an organization: the running
/// server refuses the key and shows the new name within its caches' few seconds.
#[tokio::test]
async fn an_operator_revokes_a_key_and_renames_an_organization() {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve("serve", port, &["serve"], &[]);
    server.wait_healthy(&http).await;
    let out = ws.run(port, &["organization", "create", "--name", "Boutique Awa"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let org = text(&out.stdout).trim().to_string();
    let create = ["key", "create", "--organization", &org];
    let leaked = text(&ws.run(port, &create).stdout).trim().to_string();
    let kept = text(&ws.run(port, &create).stdout).trim().to_string();
    let sessions = |key: String| {
        http.get(server.url("/v1/checkout_sessions"))
            .header("X-API-KEY", key)
            .send()
    };
    assert_eq!(sessions(leaked.clone()).await.unwrap().status(), 200);

    let out = ws.run(port, &["key", "list", "--organization", &org]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(!text(&out.stdout).contains(&leaked), "no key is printed");
    let leaked_id = listed
        .iter()
        .find(|k| leaked.starts_with(k["prefix"].as_str().unwrap()))
        .expect("the leaked key by its prefix")["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = [
        "key",
        "revoke",
        "--organization",
        &org,
        "--key-id",
        &leaked_id,
    ];
    let out = ws.run(port, &revoke);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ws.run(port, &revoke);
    assert!(!out.status.success(), "revoked once");
    let stranger = Uuid::new_v4().to_string();
    let out = ws.run(
        port,
        &[
            "key",
            "revoke",
            "--organization",
            &stranger,
            "--key-id",
            &leaked_id,
        ],
    );
    assert!(!out.status.success(), "only by its own organization");

    let mut status = 200;
    for _ in 0..POLL_TRIES {
        status = sessions(leaked.clone()).await.unwrap().status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert_eq!(status, 401, "the revoked key is refused");
    assert_eq!(
        sessions(kept.clone()).await.unwrap().status(),
        200,
        "the other one works"
    );
    let listed: Value = serde_json::from_slice(
        &ws.run(port, &["key", "list", "--organization", &org])
            .stdout,
    )
    .unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["revoked_at"].is_string())
    );

    let out = ws.run(
        port,
        &[
            "organization",
            "rename",
            "--organization",
            &org,
            "--name",
            "Awa & Filles",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ws.run(
        port,
        &[
            "organization",
            "rename",
            "--organization",
            &org,
            "--name",
            " ",
        ],
    );
    assert!(!out.status.success(), "a name is 1 to 200 characters");
    let created = http
        .post(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &kept)
        .json(&json!({"amount": 5000, "currency_code": "XOF", "title": "Pagne"}))
        .send()
        .await
        .unwrap();
    let s: Value = created.json().await.unwrap();
    let page = server.url(&format!(
        "/checkout/{}",
        s["checkout_session_id"].as_str().unwrap()
    ));
    let mut html = String::new();
    for _ in 0..2 * POLL_TRIES {
        html = http.get(&page).send().await.unwrap().text().await.unwrap();
        if html.contains("Awa &#38; Filles") {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert!(html.contains("Awa &#38; Filles"), "{html}");
}

/// An operator sets where an organization sells, and its customers' numbers are read there:
/// `77 123 45 67` is a Senegalese number once the organization is in Senegal.
#[tokio::test]
async fn an_operator_sets_an_organizations_country() {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve("serve", port, &["serve"], &[]);
    server.wait_healthy(&http).await;
    let create = [
        "organization",
        "create",
        "--name",
        "Boutique",
        "--country",
        "ZZ",
    ];
    let out = ws.run(port, &create);
    assert!(!out.status.success(), "ZZ is no country");
    assert!(
        text(&out.stderr).contains("country"),
        "{}",
        text(&out.stderr)
    );
    let create = [
        "organization",
        "create",
        "--name",
        "Boutique",
        "--country",
        "ci",
    ];
    let out = ws.run(port, &create);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let org = text(&out.stdout).trim().to_string();
    let key = text(
        &ws.run(port, &["key", "create", "--organization", &org])
            .stdout,
    )
    .trim()
    .to_string();
    let create_with = |phone: &'static str| {
        http.post(server.url("/v1/checkout_sessions"))
            .header("X-API-KEY", &key)
            .json(
                &json!({"amount": 5000, "currency_code": "XOF", "title": "Pagne",
                          "customer_phone": phone}),
            )
            .send()
    };
    let s: Value = create_with("07 07 07 07 07")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["customer_phone"], "+2250707070707");

    let update = ["organization", "update", "--organization", &org];
    let out = ws.run(port, &update);
    assert!(!out.status.success(), "nothing to change");
    let out = ws.run(port, &[&update[..], &["--country", "SN"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut status = 0;
    for _ in 0..2 * POLL_TRIES {
        status = create_with("77 123 45 67").await.unwrap().status().as_u16();
        if status == 201 {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    assert_eq!(status, 201, "read in Senegal once the caches let go");
    let out = ws.run(port, &[&update[..], &["--country", ""]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// An operator makes a product and its price from the command line; a session made from the
/// product through the API takes the price's amount and the product's name.
#[tokio::test]
async fn an_operator_makes_a_product_and_its_price() {
    let ws = Workspace::new();
    let http = client();
    let port = free_port();
    let mut server = ws.serve("serve", port, &["serve"], &[]);
    server.wait_healthy(&http).await;
    let out = ws.run(port, &["organization", "create", "--name", "Boutique"]);
    let org = text(&out.stdout).trim().to_string();
    let key = text(
        &ws.run(port, &["key", "create", "--organization", &org])
            .stdout,
    )
    .trim()
    .to_string();
    let out = ws.run(
        port,
        &[
            "product",
            "create",
            "--organization",
            &org,
            "--name",
            "Pagne wax",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let product = text(&out.stdout).trim().to_string();
    let price = |extra: &[&str]| {
        let mut args = vec![
            "price",
            "create",
            "--organization",
            &org,
            "--product",
            &product,
            "--currency",
            "XOF",
        ];
        args.extend_from_slice(extra);
        ws.run(port, &args)
    };
    let out = price(&[
        "--pay-what-you-want",
        "--minimum",
        "5000",
        "--maximum",
        "1000",
    ]);
    assert!(
        !out.status.success(),
        "the bounds are checked as the API checks them"
    );
    assert!(
        text(&out.stderr).contains("maximum_amount"),
        "{}",
        text(&out.stderr)
    );
    let out = price(&["--amount", "10000", "--default"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s: Value = http
        .post(server.url("/v1/checkout_sessions"))
        .header("X-API-KEY", &key)
        .json(&json!({"product_id": product}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (s["amount"].as_i64(), s["title"].as_str()),
        (Some(10000), Some("Pagne wax"))
    );
    // A link to share: its URL, then a WhatsApp link with it.
    let out = ws.run(
        port,
        &[
            "link",
            "create",
            "--organization",
            &org,
            "--product",
            &product,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let mut lines = printed.lines();
    let url = lines.next().unwrap().to_string();
    assert!(url.contains("/l/"), "{printed}");
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("https://wa.me/?text=Pagne%20wax%20")
    );
    let page = http
        .get(server.url(&url[url.find("/l/").unwrap()..]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains("10"),
        "the link's page shows the price"
    );
    let out = ws.run(
        port,
        &[
            "link",
            "create",
            "--organization",
            &org,
            "--title",
            "Bissap",
        ],
    );
    assert!(!out.status.success(), "an instant link needs its amount");
}
