//! Running the real `caisse` executable in tests: a workspace (a temp directory with its own
//! SQLite file, removed afterwards) and servers that are killed when their test ends, however
//! it ends. Every wait is a bounded poll.

#![allow(dead_code)]

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use reqwest::Client;
use uuid::Uuid;

pub const BIN: &str = env!("CARGO_BIN_EXE_caisse");

/// Polling: at most this many tries, this far apart (10 s in all).
pub const POLL_TRIES: u32 = 100;
pub const POLL_EVERY: Duration = Duration::from_millis(100);

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

pub fn port_is_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A new database on the PostgreSQL server named by `CAISSE_TEST_POSTGRES_URL`: a connection to
/// that server, the server's URL and the database's name. `None` (the test is skipped, and says
/// so) when the variable is not set.
pub async fn postgres_database() -> Option<(sqlx::PgPool, String, String)> {
    let Ok(base) = std::env::var("CAISSE_TEST_POSTGRES_URL") else {
        eprintln!("skipped: CAISSE_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!("caisse_nodes_{}", Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&base)
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    Some((admin, base, name))
}

/// A temporary directory holding one test's database and captured output; removed on drop.
pub struct Workspace {
    pub dir: PathBuf,
    pub database_url: String,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = std::env::temp_dir().join(format!("caisse-cli-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        let database_url = format!("sqlite:{}", dir.join("caisse.db").display());
        Workspace { dir, database_url }
    }

    /// `caisse <args>` on this workspace's database, bound to `port`, with nothing inherited
    /// from the environment that could change its settings.
    pub fn command(&self, port: u16, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("DATABASE_URL", &self.database_url)
            .env("CAISSE_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("CAISSE_WORKERS", "2")
            // The tests' webhook receivers listen on 127.0.0.1.
            .env("CAISSE_WEBHOOK_ALLOW_PRIVATE", "1")
            .env_remove("CAISSE_PUBLIC_URL")
            .env_remove("CAISSE_LOG_FORMAT")
            .env_remove("CAISSE_MAX_QUANTITY")
            .env_remove("CAISSE_SWEEP_INTERVAL")
            .env_remove("CAISSE_MASTER_KEY")
            .env_remove("CAISSE_MASTER_KEY_FILE")
            .stdin(Stdio::null());
        cmd
    }

    /// An organization and a test key, made with the operator's command line; the key.
    pub fn organization_and_key(&self) -> String {
        let out = self.run(
            free_port(),
            &["organization", "create", "--name", "Boutique Awa"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let org = text(&out.stdout).trim().to_string();
        let out = self.run(
            free_port(),
            &[
                "key",
                "create",
                "--organization",
                &org,
                "--environment",
                "test",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// Runs a command to completion.
    pub fn run(&self, port: u16, args: &[&str]) -> Output {
        self.command(port, args).output().expect("run caisse")
    }

    /// Starts the server (`caisse` with `args`, usually none) with its stdout and stderr
    /// captured to files named after `name`.
    pub fn serve(&self, name: &str, port: u16, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let stdout = self.dir.join(format!("{name}.stdout"));
        let stderr = self.dir.join(format!("{name}.stderr"));
        let child = self
            .command(port, args)
            .envs(envs.iter().copied())
            .stdout(File::create(&stdout).expect("stdout file"))
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start caisse");
        Server {
            child,
            port,
            stdout,
            stderr,
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `caisse`; killed on drop if it is still running.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The complete lines printed on stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        let out = self.stdout();
        let complete = out.rfind('\n').map_or("", |end| &out[..end]);
        complete.lines().map(str::to_string).collect()
    }

    pub fn output_for_diagnosis(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// Panics (with the server's output) if it has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "caisse exited early with {status}\n{}",
                self.output_for_diagnosis()
            );
        }
    }

    /// Waits for a stdout line that `matches` accepts and returns it.
    pub async fn wait_for_line(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        for _ in 0..POLL_TRIES {
            if let Some(line) = self.stdout_lines().into_iter().find(|l| matches(l)) {
                return line;
            }
            self.assert_running();
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!(
            "caisse never printed {what}\n{}",
            self.output_for_diagnosis()
        );
    }

    /// Waits until `/healthz` answers 200.
    pub async fn wait_healthy(&mut self, client: &Client) {
        for _ in 0..POLL_TRIES {
            if let Ok(res) = client.get(self.url("/healthz")).send().await
                && res.status() == 200
            {
                return;
            }
            self.assert_running();
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!(
            "/healthz never answered 200\n{}",
            self.output_for_diagnosis()
        );
    }

    /// Sends SIGTERM and waits (up to `within`) for the process to exit by itself.
    pub async fn terminate(&mut self, within: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for caisse") {
                return status;
            }
            if started.elapsed() > within {
                panic!(
                    "caisse did not exit within {within:?} of SIGTERM\n{}",
                    self.output_for_diagnosis()
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}
