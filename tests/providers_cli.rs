//! Provider accounts and the master key as an operator meets them: the real `caisse`
//! executable, a fresh SQLite file in a directory of its own, configuration through the
//! environment only. `caisse provider …` sets, lists and removes accounts as the API does,
//! printing no secret; the key file is made private on a first start, kept afterwards, and
//! refused when others can read it; a key that is not the database's is refused, and a lost
//! one is replaced by forgetting the credentials it sealed.

#[path = "support/process.rs"]
mod process;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::time::Duration;

use process::*;
use serde_json::Value;
use uuid::Uuid;

const API_KEY: &str = "wave_sn_prod_cli_Sk93Lp7788";
const WEBHOOK_SECRET: &str = "wave_whs_cli_Qm41Vt6655";

fn succeeded(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn failed(what: &str, out: &Output) -> String {
    assert!(!out.status.success(), "{what} succeeded: {out:?}");
    text(&out.stderr)
}

fn json_of(what: &str, out: &Output) -> Value {
    let stdout = succeeded(what, out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {stdout}"))
}

fn organization(ws: &Workspace, port: u16) -> String {
    let out = ws.run(port, &["organization", "create", "--name", "Boutique Awa"]);
    succeeded("organization create", &out).trim().to_string()
}

#[tokio::test]
async fn provider_commands_set_list_and_remove_an_account_the_api_sees() {
    let ws = Workspace::new();
    let port = free_port();
    let org = organization(&ws, port);
    let api_key = format!("api_key={API_KEY}");
    let webhook_secret = format!("webhook_secret={WEBHOOK_SECRET}");
    let set = |extra: &[&str]| {
        let mut args = vec!["provider", "set", "--organization", &org, "wave"];
        args.extend_from_slice(extra);
        ws.run(port, &args)
    };

    let out = set(&["--field", &api_key, "--field", &webhook_secret]);
    let account = json_of("provider set", &out);
    for secret in [API_KEY, WEBHOOK_SECRET] {
        assert!(
            !text(&out.stdout).contains(secret) && !text(&out.stderr).contains(secret),
            "{secret} printed: {out:?}"
        );
    }
    assert_eq!(account["provider"], "wave");
    assert_eq!(account["environment"], "test", "test by default");
    assert_eq!(account["enabled"], true);
    assert_eq!(
        account["credentials"],
        serde_json::json!({"api_key": "…7788", "webhook_secret": "…6655",
                           "webhook_auth": "signature"})
    );
    let id = account["account_id"].as_str().unwrap().to_string();
    assert_eq!(
        account["webhook_url"],
        format!("http://127.0.0.1:{port}/providers/wave/{id}")
    );

    // Again, switched off and signed by bearer: the same account.
    let out = set(&[
        "--field",
        &api_key,
        "--field",
        &webhook_secret,
        "--field",
        "webhook_auth=bearer",
        "--disabled",
    ]);
    let again = json_of("provider set again", &out);
    assert_eq!(again["account_id"], id.as_str());
    assert_eq!(again["enabled"], false);
    assert_eq!(again["credentials"]["webhook_auth"], "bearer");

    let list = json_of(
        "provider list",
        &ws.run(port, &["provider", "list", "--organization", &org]),
    );
    assert_eq!(list["data"], serde_json::json!([again]), "{list}");
    assert_eq!(list["pagination"]["total"], 1);
    let live = json_of(
        "provider list live",
        &ws.run(
            port,
            &[
                "provider",
                "list",
                "--organization",
                &org,
                "--environment",
                "live",
            ],
        ),
    );
    assert_eq!(live["data"], serde_json::json!([]), "{live}");

    // Faults: every one named, no value repeated, nothing changed.
    let err = failed(
        "bad fields",
        &set(&["--field", "api_key=  ", "--field", "colour=Bleu-Roi-31"]),
    );
    for named in ["api_key", "webhook_secret", "colour"] {
        assert!(err.contains(named), "{named} not named: {err}");
    }
    assert!(!err.contains("Bleu-Roi-31"), "a value repeated: {err}");
    let err = failed("no =", &set(&["--field", API_KEY]));
    assert!(
        err.contains("NAME=VALUE") && !err.contains(API_KEY),
        "{err}"
    );
    let err = failed("twice", &set(&["--field", &api_key, "--field", &api_key]));
    assert!(err.contains("api_key is given twice"), "{err}");
    let out = ws.run(port, &["provider", "set", "--organization", &org, "paypal"]);
    let err = failed("an unknown provider", &out);
    assert!(err.contains("wave") && err.contains("spi"), "{err}");
    let stranger = Uuid::new_v4().to_string();
    let out = ws.run(
        port,
        &[
            "provider",
            "set",
            "--organization",
            &stranger,
            "wave",
            "--field",
            &api_key,
            "--field",
            &webhook_secret,
        ],
    );
    let err = failed("an unknown organization", &out);
    assert!(err.contains(&stranger), "{err}");

    // The server shows the account the command line set.
    let key = ws.run(port, &["key", "create", "--organization", &org]);
    let key = succeeded("key create", &key).trim().to_string();
    let http = client();
    let mut server = ws.serve("serve", port, &[], &[]);
    server.wait_healthy(&http).await;
    let res = http
        .get(server.url("/v1/providers/wave"))
        .header("X-API-KEY", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let served: Value = res.json().await.unwrap();
    assert_eq!(served, again, "the API and the command line agree");
    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.success(), "exited with {status}");
    drop(server);

    let remove = ["provider", "remove", "--organization", &org, "wave"];
    let out = ws.run(port, &remove);
    succeeded("provider remove", &out);
    assert!(text(&out.stderr).contains("Removed"), "{out:?}");
    let err = failed("remove again", &ws.run(port, &remove));
    assert!(err.contains("no such provider account"), "{err}");
    let list = json_of(
        "provider list",
        &ws.run(port, &["provider", "list", "--organization", &org]),
    );
    assert_eq!(list["data"], serde_json::json!([]), "{list}");
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_key_file_is_made_private_on_the_first_start_and_kept() {
    let ws = Workspace::new();
    let port = free_port();
    let path = ws.dir.join("caisse.key");
    assert!(!path.exists());

    let out = ws.run(port, &["migrate"]);
    succeeded("the first start", &out);
    assert_eq!(mode_of(&path), 0o600, "made readable by its owner only");
    let key = std::fs::read_to_string(&path).unwrap();
    let hex = key.trim_end();
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "64 hex digits: {key:?}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("made a new master key") && err.contains(&*path.to_string_lossy()),
        "the operator is told where it is: {err}"
    );
    assert!(!err.contains(hex), "the key is logged: {err}");

    let out = ws.run(port, &["migrate"]);
    succeeded("a second start", &out);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), key, "kept");
    assert!(!text(&out.stderr).contains("made a new master key"));

    // The same key given in the environment opens the same database.
    let out = ws
        .command(port, &["migrate"])
        .env("CAISSE_MASTER_KEY", hex)
        .output()
        .unwrap();
    succeeded("the file's key in CAISSE_MASTER_KEY", &out);

    // A key file elsewhere, named by the setting, is made there.
    let elsewhere = ws.dir.join("keys");
    std::fs::create_dir(&elsewhere).unwrap();
    let named = elsewhere.join("master.key");
    std::fs::copy(&path, &named).unwrap();
    std::fs::set_permissions(&named, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = ws
        .command(port, &["migrate"])
        .env("CAISSE_MASTER_KEY_FILE", &named)
        .output()
        .unwrap();
    succeeded("CAISSE_MASTER_KEY_FILE", &out);
}

#[tokio::test]
async fn a_key_file_others_can_read_is_refused() {
    let ws = Workspace::new();
    let port = free_port();
    succeeded("the first start", &ws.run(port, &["migrate"]));
    let path = ws.dir.join("caisse.key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

    let err = failed("a group-readable key file", &ws.run(port, &["migrate"]));
    assert!(
        err.contains("chmod 600") && err.contains(&*path.to_string_lossy()),
        "{err}"
    );

    // The server does not start either.
    let mut server = ws.serve("serve", port, &[], &[]);
    let mut status = None;
    for _ in 0..POLL_TRIES {
        status = server.child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    let status = status.unwrap_or_else(|| {
        panic!(
            "the server started with an exposed key file\n{}",
            server.output_for_diagnosis()
        )
    });
    assert!(!status.success());
    assert!(server.stderr().contains("chmod 600"), "{}", server.stderr());
    assert!(!port_is_open(port));

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    succeeded("once private again", &ws.run(port, &["migrate"]));
}

#[test]
fn a_key_that_is_not_the_databases_or_not_a_key_is_refused() {
    let ws = Workspace::new();
    let port = free_port();
    succeeded("the first start", &ws.run(port, &["migrate"]));

    let other = "ab".repeat(32);
    let out = ws
        .command(port, &["migrate"])
        .env("CAISSE_MASTER_KEY", &other)
        .output()
        .unwrap();
    let err = failed("another key", &out);
    assert!(
        err.contains("not the one this database's provider credentials are sealed with"),
        "{err}"
    );
    assert!(!err.contains(&other), "the key repeated: {err}");

    for malformed in ["not-a-key-Qx93", &"ab".repeat(31), "c2hvcnQ="] {
        let out = ws
            .command(port, &["migrate"])
            .env("CAISSE_MASTER_KEY", malformed)
            .output()
            .unwrap();
        let err = failed("a malformed key", &out);
        assert!(
            err.contains("CAISSE_MASTER_KEY must be 64 hexadecimal digits"),
            "{err}"
        );
        assert!(!err.contains(malformed), "the value repeated: {err}");
    }

    let bad_file = ws.dir.join("bad.key");
    std::fs::write(&bad_file, "no key here\n").unwrap();
    std::fs::set_permissions(&bad_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = ws
        .command(port, &["migrate"])
        .env("CAISSE_MASTER_KEY_FILE", &bad_file)
        .output()
        .unwrap();
    let err = failed("a key file without a key", &out);
    assert!(err.contains("must hold 64 hexadecimal digits"), "{err}");
}

/// The key file is lost: caisse refuses the key it makes next, and says how to go on; `caisse
/// master-key reset --forget-credentials` adopts it, forgetting every account's credentials
/// (the accounts disabled, their ids and webhook URLs kept), and the merchant sets them again.
fn a_lost_master_key_is_replaced_by_forgetting_the_credentials(ws: Workspace) {
    let port = free_port();
    let org = organization(&ws, port);
    let fields = [
        "provider",
        "set",
        "--organization",
        &org,
        "wave",
        "--field",
        &format!("api_key={API_KEY}"),
        "--field",
        &format!("webhook_secret={WEBHOOK_SECRET}"),
    ];
    let account = json_of("provider set", &ws.run(port, &fields));
    let list = ["provider", "list", "--organization", &org];

    std::fs::remove_file(ws.dir.join("caisse.key")).unwrap();
    let err = failed("a new key", &ws.run(port, &list));
    assert!(err.contains("caisse master-key reset"), "{err}");
    let err = failed(
        "a reset without saying so",
        &ws.run(port, &["master-key", "reset"]),
    );
    assert!(err.contains("--forget-credentials"), "{err}");

    let reset = ["master-key", "reset", "--forget-credentials"];
    let out = ws.run(port, &reset);
    assert!(
        succeeded("reset", &out).contains("now this database's"),
        "{out:?}"
    );
    assert!(text(&out.stderr).contains("1 provider account"), "{out:?}");
    let out = ws.run(port, &reset);
    assert!(
        succeeded("reset again", &out).contains("already this database's"),
        "{out:?}"
    );

    let forgotten = json_of("provider list", &ws.run(port, &list));
    let forgotten = &forgotten["data"][0];
    assert_eq!(forgotten["account_id"], account["account_id"]);
    assert_eq!(forgotten["webhook_url"], account["webhook_url"]);
    assert_eq!(forgotten["enabled"], false);
    assert_eq!(
        forgotten["credentials"],
        serde_json::json!({"api_key": null, "webhook_secret": null, "webhook_auth": null})
    );
    let again = json_of("provider set again", &ws.run(port, &fields));
    assert_eq!(again["account_id"], account["account_id"]);
    assert_eq!(again["enabled"], true);
    assert_eq!(again["credentials"], account["credentials"]);
}

#[test]
fn a_lost_master_key_is_replaced_by_forgetting_the_credentials_on_sqlite() {
    a_lost_master_key_is_replaced_by_forgetting_the_credentials(Workspace::new());
}

#[tokio::test]
async fn a_lost_master_key_is_replaced_by_forgetting_the_credentials_on_postgres() {
    let Some((admin, base, name)) = postgres_database().await else {
        return;
    };
    let mut ws = Workspace::new();
    ws.database_url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    a_lost_master_key_is_replaced_by_forgetting_the_credentials(ws);
    admin.close().await;
}
