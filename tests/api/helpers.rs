//! `spawn_app()`: the real server on a random port with a fresh database, and a client for it.
//!
//! Every test runs on SQLite, and on PostgreSQL as well when `CAISSE_TEST_POSTGRES_URL` names a
//! server (each test gets a database of its own there). Without it the PostgreSQL half of each
//! test says it was skipped.

use caisse::config::Settings;
use caisse::core::{Context, organizations};
use caisse::domain::session::Environment;
use caisse::startup::{Application, open_store};
use reqwest::{Client, Response};
use secrecy::ExposeSecret;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A fresh, empty database on this backend; `None` when PostgreSQL is not configured.
    pub async fn fresh_database(self) -> Option<String> {
        match self {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("caisse-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                Some(format!(
                    "sqlite:{}",
                    dir.join(format!("{}.db", Uuid::new_v4())).display()
                ))
            }
            Backend::Postgres => {
                let Ok(base) = std::env::var("CAISSE_TEST_POSTGRES_URL") else {
                    eprintln!("skipped on PostgreSQL: CAISSE_TEST_POSTGRES_URL is not set");
                    return None;
                };
                let name = format!("caisse_test_{}", Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&base)
                    .await
                    .expect("CAISSE_TEST_POSTGRES_URL is set but PostgreSQL is unreachable");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .expect("create a test database");
                pool.close().await;
                let (prefix, _) = base
                    .rsplit_once('/')
                    .expect("a database URL ends with /<database>");
                Some(format!("{prefix}/{name}"))
            }
        }
    }
}

pub fn test_settings(database_url: String) -> Settings {
    Settings {
        database_url,
        bind: "127.0.0.1:0".into(),
        public_url: None,
        max_quantity: 99,
        sweep_interval_secs: 1,
        reconcile_interval_secs: 1,
        wave_api_url: caisse::adapters::wave::DEFAULT_API_URL.into(),
        orange_api_url: caisse::adapters::orange::DEFAULT_API_URL.into(),
        mtn_api_url: caisse::adapters::mtn::DEFAULT_API_URL.into(),
        stripe_api_url: caisse::adapters::stripe::DEFAULT_API_URL.into(),
        workers: Some(2),
        log_format: "text".into(),
        webhook_timeout_secs: 2,
        webhook_retry_base_ms: 200,
        // The tests' receivers listen on 127.0.0.1; the address rule has tests of its own.
        webhook_allow_private: true,
        // Far above what any test sends, but the limit's own (which sets it lower).
        api_rate_limit: 1_000,
        client_ip_header: None,
        metrics_token: None,
        test_retention_days: 30,
        body_timeout_secs: 2,
        static_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/static").into(),
        // One key for every test app, so an app started again on a database opens what an
        // earlier one sealed; the key file has tests of its own.
        master_key: Some(TEST_MASTER_KEY.into()),
        master_key_file: None,
    }
}

/// The master key of the test apps.
pub const TEST_MASTER_KEY: &str =
    "9d2c4f7a1b8e3d6c5a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b";

pub struct TestApp {
    pub address: String,
    pub ctx: Context,
    pub client: Client,
    pub organization_id: Uuid,
    /// A test-environment key of `organization_id`.
    pub key: String,
    pub handle: actix_web::dev::ServerHandle,
}

/// Starts caisse on `backend` with one organization and a test key; `None` when the backend is
/// not available here.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let database_url = backend.fresh_database().await?;
    Some(spawn_app_on(database_url).await)
}

/// Starts caisse on `backend` with the test settings as `change` leaves them.
pub async fn spawn_app_with(
    backend: Backend,
    change: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let mut settings = test_settings(backend.fresh_database().await?);
    change(&mut settings);
    Some(spawn_app_configured(settings).await)
}

pub async fn spawn_app_on(database_url: String) -> TestApp {
    spawn_app_configured(test_settings(database_url)).await
}

async fn spawn_app_configured(settings: Settings) -> TestApp {
    if std::env::var_os("CAISSE_TEST_LOG").is_some() {
        caisse::telemetry::init("text");
    }
    let store = open_store(&settings).await.expect("open the test database");
    let app = Application::build(settings, store)
        .await
        .expect("start the server");
    let address = format!("http://127.0.0.1:{}", app.port());
    let ctx = app.context().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let (organization_id, key) = new_organization(&ctx, "Boutique Awa", Environment::Test).await;
    TestApp {
        address,
        ctx,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        organization_id,
        key,
        handle,
    }
}

/// A new organization and a key of it, as the operator's CLI makes them.
pub async fn new_organization(ctx: &Context, name: &str, env: Environment) -> (Uuid, String) {
    let org = organizations::create(ctx, name, &[], None)
        .await
        .expect("create organization");
    let (_, key) = organizations::create_key(ctx, org.id, env)
        .await
        .expect("create key");
    (org.id, key.expose_secret().to_string())
}

/// A valid session body to vary in tests.
pub fn session_body() -> Value {
    serde_json::json!({
        "amount": 10000,
        "currency_code": "XOF",
        "title": "Pagne wax",
        "success_url": "https://shop.example/merci?cs={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/panier",
        "metadata": {"order_id": "A-42"},
    })
}

/// The id of a session as the API returned it.
pub fn id_of(s: &Value) -> String {
    s["checkout_session_id"]
        .as_str()
        .expect("a session id")
        .to_string()
}

impl TestApp {
    /// A session's payments, oldest first, read through the API.
    pub async fn payments(&self, id: &str) -> Vec<Value> {
        let res = self
            .get(&format!("/v1/checkout_sessions/{id}/payments"), &self.key)
            .await;
        let body: Value = res.json().await.unwrap();
        body["data"].as_array().unwrap().clone()
    }

    /// Waits (for ten seconds at most) for `check` to hold of the session; the session as last
    /// read.
    pub async fn wait_for_session(&self, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let s = self.api_session(id).await;
            if check(&s) || std::time::Instant::now() > deadline {
                return s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Waits (boundedly) for the session to reach `status`.
    pub async fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait_for_session(id, |s| s["status"] == status).await
    }

    /// A session of this app's organization, read through the API.
    pub async fn api_session(&self, id: &str) -> Value {
        let res = self
            .get(&format!("/v1/checkout_sessions/{id}"), &self.key)
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.expect("a session")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .header("X-API-KEY", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url(path))
            .header("X-API-KEY", &self.key)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn create_session(&self, body: &Value) -> Response {
        self.post_json("/v1/checkout_sessions", &self.key, body)
            .await
    }

    /// Creates a session that must succeed and returns it.
    pub async fn session(&self, body: &Value) -> Value {
        let res = self.create_session(body).await;
        assert_eq!(res.status(), 201, "create failed");
        res.json().await.unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("X-API-KEY", key)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, path: &str, key: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .header("X-API-KEY", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put(&self, path: &str, key: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .header("X-API-KEY", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str, key: &str) -> Response {
        self.client
            .delete(self.url(path))
            .header("X-API-KEY", key)
            .send()
            .await
            .expect("request")
    }
}

/// Reads an error response and checks its shape: the body's request id is the header's.
pub async fn error_of(res: Response) -> Value {
    let header = res
        .headers()
        .get("x-request-id")
        .expect("every response has X-Request-Id")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.expect("an error body is JSON");
    assert_eq!(
        body["request_id"],
        header.as_str(),
        "request id in body and header: {body}"
    );
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(
        body["error"]["details"].is_object() || body["error"].get("details").is_none(),
        "{body}"
    );
    body
}

/// The field an error names.
pub fn error_field(body: &Value) -> &str {
    body["error"]["details"]["field"]
        .as_str()
        .unwrap_or_default()
}

/// Runs each listed `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Runs `statement` on the app's database past caisse, with `$1` bound to `at`: a clock moved
/// for rows that would otherwise take days to age. How many rows it changed.
pub async fn age_rows(app: &TestApp, statement: &str, at: chrono::DateTime<chrono::Utc>) -> u64 {
    let url = &app.ctx.settings.database_url;
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let done = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .bind(at)
            .execute(&pool)
            .await;
        pool.close().await;
        done.unwrap().rows_affected()
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let done = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .bind(at)
            .execute(&pool)
            .await;
        pool.close().await;
        done.unwrap().rows_affected()
    }
}
