//! Provider accounts over HTTP: set, read, list and remove; credentials replaced under the same
//! account id; every fault named; one organization and environment never sees another's; and no
//! secret in any answer, nor in the clear in the database.

use caisse::core::{organizations, providers};
use caisse::domain::provider_account::AccountProvider;
use caisse::domain::session::Environment;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, error_of, new_organization, spawn_app};

const API_KEY: &str = "wave_sn_prod_Zq81xKv2Lm7pT0aa";
const WEBHOOK_SECRET: &str = "wave_sn_WHS_u3Ye6qP9rN4cB2bb";

fn wave() -> Value {
    json!({"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET})
}

/// A body for each provider, with secrets found nowhere else.
fn every_provider() -> Vec<(&'static str, Value)> {
    vec![
        ("wave", wave()),
        (
            "orange",
            json!({"client_id": "orange-client-Kd93jq", "client_secret": "orange-secret-Wm28xz",
                   "merchant_key": "orange-merchant-Pq71bn", "country": "ci"}),
        ),
        (
            "mtn",
            json!({"subscription_key": "mtn-subscription-Hs62kd", "api_user": "mtn-user-Jf04le",
                   "api_key": "mtn-apikey-Tr55mw", "target_environment": "mtnivorycoast"}),
        ),
        (
            "stripe",
            json!({"secret_key": "sk_test_stripe_Vb39qa", "webhook_secret": "whsec_stripe_Nc81ur"}),
        ),
        (
            "spi",
            json!({"client_id": "spi-client-Ge27yt", "client_secret": "spi-secret-Lo64vb",
                   "payee_alias": "spi-alias-Xa19mp"}),
        ),
    ]
}

/// Every secret of [`every_provider`]: the values shown as hints, not the settings shown whole.
fn secrets() -> Vec<String> {
    let settings = ["ci", "mtnivorycoast"];
    every_provider()
        .into_iter()
        .flat_map(|(_, body)| {
            body.as_object()
                .unwrap()
                .values()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .filter(|v| !settings.contains(&v.as_str()))
        .collect()
}

async fn put(app: &TestApp, key: &str, code: &str, body: &Value) -> (u16, Value) {
    let res = app.put(&format!("/v1/providers/{code}"), key, body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let res = app.get(path, key).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Rows as the database holds them, read past caisse: each account's `credentials` and `hints`.
async fn stored_rows(app: &TestApp) -> Vec<(String, String)> {
    let url = &app.ctx.settings.database_url;
    let query = "SELECT credentials, CAST(hints AS TEXT) FROM provider_accounts";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows = sqlx::query_as(query).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows = sqlx::query_as(query).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

/// Writes `credentials` into the row of `account_id`, past caisse.
async fn overwrite_credentials(app: &TestApp, account_id: Uuid, credentials: &str) {
    let url = &app.ctx.settings.database_url;
    let update = "UPDATE provider_accounts SET credentials = $1 WHERE account_id = $2";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let done = sqlx::query(update)
            .bind(credentials)
            .bind(account_id)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let done = sqlx::query(update)
            .bind(credentials)
            .bind(account_id)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        pool.close().await;
    }
}

fn account_id(account: &Value) -> Uuid {
    Uuid::parse_str(account["account_id"].as_str().expect("an account id")).unwrap()
}

async fn an_account_is_set_read_listed_and_removed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (status, set) = put(&app, &app.key, "wave", &wave()).await;
    assert_eq!(status, 200, "{set}");
    let id = account_id(&set);
    assert_eq!(set["provider"], "wave");
    assert_eq!(set["environment"], "test");
    assert_eq!(set["enabled"], true);
    assert_eq!(
        set["webhook_url"],
        format!("{}/providers/wave/{id}", app.address)
    );
    assert_eq!(
        set["credentials"],
        json!({"api_key": "…T0aa", "webhook_secret": "…B2bb", "webhook_auth": "signature"})
    );
    assert_eq!(set["created_at"], set["updated_at"]);
    let keys: Vec<&str> = set
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        8,
        "provider, environment, enabled, account_id, webhook_url, credentials, created_at, \
         updated_at: {set}"
    );

    let (status, read) = get(&app, &app.key, "/v1/providers/wave").await;
    assert_eq!(status, 200);
    assert_eq!(read, set, "a read shows what the write answered");
    let (status, upper) = get(&app, &app.key, "/v1/providers/WAVE").await;
    assert_eq!((status, &upper), (200, &set), "codes in any case");

    let (status, list) = get(&app, &app.key, "/v1/providers").await;
    assert_eq!(status, 200);
    assert_eq!(list["data"], json!([set]), "{list}");
    assert_eq!(list["pagination"]["total"], 1);

    let res = app.delete("/v1/providers/wave", &app.key).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        get(&app, &app.key, "/v1/providers/wave").await.0,
        404,
        "removed"
    );
    let again = app.delete("/v1/providers/wave", &app.key).await;
    assert_eq!(again.status(), 404);
    assert_eq!(error_of(again).await["error"]["code"], "not_found");
    let (_, list) = get(&app, &app.key, "/v1/providers").await;
    assert_eq!(list["data"], json!([]));
    assert_eq!(list["pagination"]["total"], 0);
    let opened = providers::account(
        &app.ctx,
        app.organization_id,
        Environment::Test,
        AccountProvider::Wave,
    )
    .await
    .unwrap();
    assert!(opened.is_none(), "no account after its removal");
    assert!(
        providers::account_by_id(&app.ctx, id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn setting_an_account_again_keeps_its_id_and_replaces_its_credentials(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, first) = put(&app, &app.key, "wave", &wave()).await;
    let body = json!({"api_key": "wave_sn_prod_rotated_0042", "webhook_secret": WEBHOOK_SECRET,
                      "webhook_auth": "bearer", "enabled": false});
    let (status, second) = put(&app, &app.key, "wave", &body).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["account_id"], first["account_id"]);
    assert_eq!(second["webhook_url"], first["webhook_url"]);
    assert_eq!(second["created_at"], first["created_at"]);
    assert!(
        second["updated_at"].as_str() >= first["updated_at"].as_str(),
        "{first} {second}"
    );
    assert_eq!(second["enabled"], false);
    assert_eq!(
        second["credentials"],
        json!({"api_key": "…0042", "webhook_secret": "…B2bb", "webhook_auth": "bearer"})
    );
    assert_eq!(get(&app, &app.key, "/v1/providers/wave").await.1, second);

    // What the payment code will read: the new credentials, opened.
    let opened = providers::account(
        &app.ctx,
        app.organization_id,
        Environment::Test,
        AccountProvider::Wave,
    )
    .await
    .unwrap()
    .expect("the account");
    assert!(!opened.account.enabled);
    let value = |name: &str| opened.credentials.get(name).to_string();
    assert_eq!(value("api_key"), "wave_sn_prod_rotated_0042");
    assert_eq!(value("webhook_auth"), "bearer");
    let by_id = providers::account_by_id(&app.ctx, account_id(&first))
        .await
        .unwrap()
        .expect("found by the id in its webhook URL");
    assert_eq!(by_id.account, opened.account);
    let printed = format!("{opened:?}");
    assert!(!printed.contains("rotated_0042"), "{printed}");

    // Enabled again, without a word about it: absent is true.
    let (_, third) = put(&app, &app.key, "wave", &wave()).await;
    assert_eq!(third["enabled"], true);
    assert_eq!(third["account_id"], first["account_id"]);
}

async fn every_bad_field_is_named_in_one_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let body = json!({"api_key": "   ", "webhook_auth": "hmac", "secret_key": "sk_test_x",
                      "enabled": "yes"});
    let res = app.put("/v1/providers/wave", &app.key, &body).await;
    assert_eq!(res.status(), 422);
    let error = error_of(res).await;
    assert_eq!(error["error"]["code"], "invalid_request");
    let mut named: Vec<&str> = error["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(
        named,
        [
            "api_key",
            "enabled",
            "secret_key",
            "webhook_auth",
            "webhook_secret"
        ],
        "{error}"
    );
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("webhook_secret: is required"), "{message}");
    assert!(
        !message.contains("sk_test_x"),
        "no value is repeated: {message}"
    );

    let long = "x".repeat(513);
    let body = json!({"client_id": 42, "client_secret": long, "merchant_key": "m",
                      "country": "Côte d'Ivoire"});
    let res = app.put("/v1/providers/orange", &app.key, &body).await;
    assert_eq!(res.status(), 422);
    let error = error_of(res).await;
    let named: Vec<&str> = error["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["client_id", "client_secret", "country"], "{error}");

    let res = app.put("/v1/providers/stripe", &app.key, &json!({})).await;
    assert_eq!(res.status(), 422);
    let error = error_of(res).await;
    assert_eq!(
        error["error"]["details"]["errors"],
        json!([{"field": "secret_key", "message": "is required"},
               {"field": "webhook_secret", "message": "is required"}])
    );

    let res = app.put("/v1/providers/wave", &app.key, &json!([])).await;
    assert_eq!(res.status(), 422, "a body that is not an object");
    let res = app
        .client
        .put(app.url("/v1/providers/wave"))
        .header("X-API-KEY", &app.key)
        .header("Content-Type", "application/json")
        .body("{\"api_key\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "malformed JSON");

    // PI-SPI's webhook secret may be left out; nothing was stored by the refusals above.
    let spi = json!({"client_id": "c-123456", "client_secret": "s-123456", "payee_alias": "a"});
    let (status, account) = put(&app, &app.key, "spi", &spi).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["credentials"]["webhook_secret"], Value::Null);
    let (_, list) = get(&app, &app.key, "/v1/providers").await;
    assert_eq!(list["pagination"]["total"], 1, "{list}");
}

async fn an_unknown_provider_is_not_found(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for code in ["paypal", "moov", "card", "wave2", "%20"] {
        let path = format!("/v1/providers/{code}");
        let res = app.put(&path, &app.key, &wave()).await;
        assert_eq!(res.status(), 404, "PUT {code}");
        assert_eq!(error_of(res).await["error"]["code"], "not_found");
        assert_eq!(get(&app, &app.key, &path).await.0, 404, "GET {code}");
        assert_eq!(
            app.delete(&path, &app.key).await.status(),
            404,
            "DELETE {code}"
        );
    }
    // A known provider the organization has no account with.
    let res = app.get("/v1/providers/mtn", &app.key).await;
    assert_eq!(res.status(), 404);
    let body = error_of(res).await;
    assert_eq!(body["error"]["message"], "no such provider account");
    let res = app
        .client
        .get(app.url("/v1/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "without a key");
}

async fn another_organization_cannot_see_or_remove_an_account(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, mine) = put(&app, &app.key, "wave", &wave()).await;
    let (other_org, other_key) =
        new_organization(&app.ctx, "Autre boutique", Environment::Test).await;

    let (_, list) = get(&app, &other_key, "/v1/providers").await;
    assert_eq!(list["data"], json!([]), "{list}");
    assert_eq!(get(&app, &other_key, "/v1/providers/wave").await.0, 404);
    assert_eq!(
        app.delete("/v1/providers/wave", &other_key).await.status(),
        404
    );
    assert_eq!(
        get(&app, &app.key, "/v1/providers/wave").await.1,
        mine,
        "untouched"
    );

    // Its own account with the same provider is another account, with another URL.
    let (status, theirs) = put(&app, &other_key, "wave", &wave()).await;
    assert_eq!(status, 200);
    assert_ne!(theirs["account_id"], mine["account_id"]);
    assert_ne!(theirs["webhook_url"], mine["webhook_url"]);
    let (_, list) = get(&app, &app.key, "/v1/providers").await;
    assert_eq!(list["data"], json!([mine]));

    // Credentials copied into the other organization's row do not open there.
    overwrite_credentials(
        &app,
        account_id(&theirs),
        &stored_sealed(&app, account_id(&mine)).await,
    )
    .await;
    let moved = providers::account(
        &app.ctx,
        other_org,
        Environment::Test,
        AccountProvider::Wave,
    )
    .await;
    assert!(
        matches!(moved, Err(caisse::core::Error::Sealed(_))),
        "{moved:?}"
    );
    let still = providers::account(
        &app.ctx,
        app.organization_id,
        Environment::Test,
        AccountProvider::Wave,
    )
    .await
    .unwrap()
    .expect("mine");
    assert_eq!(still.credentials.get("api_key"), API_KEY);
    // The API still answers for the moved row: its hints need nothing opened.
    assert_eq!(get(&app, &other_key, "/v1/providers/wave").await.0, 200);
}

/// An account's sealed credentials as stored.
async fn stored_sealed(app: &TestApp, id: Uuid) -> String {
    app.ctx
        .store
        .provider_account_by_id(id)
        .await
        .unwrap()
        .expect("the account")
        .sealed_credentials
}

async fn test_and_live_accounts_are_apart(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, live_key) = organizations::create_key(&app.ctx, app.organization_id, Environment::Live)
        .await
        .unwrap();
    let live_key = live_key.expose_secret().to_string();
    let (_, test) = put(&app, &app.key, "wave", &wave()).await;
    let (_, list) = get(&app, &live_key, "/v1/providers").await;
    assert_eq!(list["data"], json!([]), "live sees no test account: {list}");
    assert_eq!(get(&app, &live_key, "/v1/providers/wave").await.0, 404);
    assert_eq!(
        app.delete("/v1/providers/wave", &live_key).await.status(),
        404
    );

    let body = json!({"api_key": "wave_ci_prod_live_9876", "webhook_secret": "live-secret-5432"});
    let (status, live) = put(&app, &live_key, "wave", &body).await;
    assert_eq!(status, 200);
    assert_eq!(live["environment"], "live");
    assert_ne!(live["account_id"], test["account_id"]);
    assert_eq!(get(&app, &app.key, "/v1/providers/wave").await.1, test);
    let opened = providers::account(
        &app.ctx,
        app.organization_id,
        Environment::Live,
        AccountProvider::Wave,
    )
    .await
    .unwrap()
    .expect("the live account");
    assert_eq!(opened.credentials.get("api_key"), "wave_ci_prod_live_9876");
    assert_eq!(
        app.delete("/v1/providers/wave", &live_key).await.status(),
        204
    );
    assert_eq!(get(&app, &app.key, "/v1/providers/wave").await.0, 200);
}

async fn no_secret_is_in_any_answer_or_in_the_clear_in_the_database(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut answers = Vec::new();
    for (code, body) in every_provider() {
        let (status, account) = put(&app, &app.key, code, &body).await;
        assert_eq!(status, 200, "{code}: {account}");
        answers.push(account.to_string());
        answers.push(
            get(&app, &app.key, &format!("/v1/providers/{code}"))
                .await
                .1
                .to_string(),
        );
    }
    let (_, list) = get(&app, &app.key, "/v1/providers").await;
    let codes: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["provider"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["mtn", "orange", "spi", "stripe", "wave"]);
    let orange = &list["data"][1]["credentials"];
    assert_eq!(orange["country"], "CI", "a setting is shown whole: {list}");
    assert_eq!(orange["client_id"], "…93jq");
    assert_eq!(
        list["data"][0]["credentials"]["target_environment"],
        "mtnivorycoast"
    );
    answers.push(list.to_string());

    let rows = stored_rows(&app).await;
    assert_eq!(rows.len(), 5);
    for secret in secrets() {
        for answer in &answers {
            assert!(!answer.contains(&secret), "{secret} in an answer: {answer}");
        }
        for (credentials, hints) in &rows {
            assert!(credentials.starts_with("v1:"), "{credentials}");
            assert!(!credentials.contains(&secret), "{secret} in {credentials}");
            assert!(!hints.contains(&secret), "{secret} in {hints}");
        }
    }
    // SQLite's files themselves, journal included, hold none of them.
    if let Some(path) = app.ctx.settings.database_url.strip_prefix("sqlite:") {
        assert!(std::path::Path::new(path).exists(), "{path}");
        for file in [path.to_string(), format!("{path}-wal")] {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for secret in secrets() {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in {file}"
                );
            }
        }
    }
}

crate::on_both_backends!(
    an_account_is_set_read_listed_and_removed,
    setting_an_account_again_keeps_its_id_and_replaces_its_credentials,
    every_bad_field_is_named_in_one_answer,
    an_unknown_provider_is_not_found,
    another_organization_cannot_see_or_remove_an_account,
    test_and_live_accounts_are_apart,
    no_secret_is_in_any_answer_or_in_the_clear_in_the_database,
);
