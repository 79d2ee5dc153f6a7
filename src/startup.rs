//! Building the server: the store, the master key, the HTTP app, the background workers, and
//! their shutdown.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpServer};
use secrecy::{ExposeSecret, SecretBox};
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::core::Context;
use crate::domain::sealed::{MalformedKey, MasterKey};
use crate::store::{Store, StoreError};
use crate::web::metrics::Metrics;
use crate::web::page::assets::Assets;
use crate::workers::{self, Shutdown};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot load the master key: {0}")]
    MasterKey(#[from] KeyError),
    #[error("cannot load the server's secrets: {0}")]
    Context(#[from] crate::core::Error),
    #[error("cannot read the page's static files in {dir}: {source}")]
    Assets { dir: String, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Why the master key could not be had. No message repeats a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("CAISSE_MASTER_KEY {0}")]
    Malformed(MalformedKey),
    #[error(
        "the key file {path} must hold 64 hexadecimal digits, the base64 of 32 bytes, or 32 \
             raw bytes"
    )]
    MalformedFile { path: String },
    #[error(
        "the key file {path} can be read or changed by other users (mode {mode:04o}): run \
             `chmod 600 {path}`"
    )]
    Exposed { path: String, mode: u32 },
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the key file {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
}

/// The master key: `CAISSE_MASTER_KEY` when set, else the key file, made on the first start
/// without one.
pub fn master_key(settings: &Settings) -> Result<MasterKey, KeyError> {
    if let Some(text) = &settings.master_key {
        return MasterKey::parse(text.expose_secret()).map_err(KeyError::Malformed);
    }
    let path = settings.master_key_file();
    match read_key_file(&path)? {
        Some(key) => Ok(key),
        None => create_key_file(&path),
    }
}

/// The key a file holds; `None` when there is no file. A file other users can read is refused:
/// whoever reads it can open every credential in the database.
fn read_key_file(path: &Path) -> Result<Option<MasterKey>, KeyError> {
    let shown = || path.display().to_string();
    let read = |source| KeyError::Read {
        path: shown(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: shown(),
                mode,
            });
        }
    }
    let mut bytes = SecretBox::new(Box::new(Vec::with_capacity(64)));
    file.read_to_end(secrecy::ExposeSecretMut::expose_secret_mut(&mut bytes))
        .map_err(read)?;
    let bytes: &Vec<u8> = bytes.expose_secret();
    let key = match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(raw) => Ok(MasterKey::from_bytes(raw)),
        Err(_) => std::str::from_utf8(bytes)
            .map_err(|_| MalformedKey)
            .and_then(MasterKey::parse),
    };
    key.map(Some)
        .map_err(|_| KeyError::MalformedFile { path: shown() })
}

/// Makes a key file (64 hex digits, mode 0600) and returns its key. The file is written whole
/// under another name and then linked into place, which fails if the file exists: two nodes
/// starting together on one directory end up with the same key, the first one's.
fn create_key_file(path: &Path) -> Result<MasterKey, KeyError> {
    let create = |source| KeyError::Create {
        path: path.display().to_string(),
        source,
    };
    let key = MasterKey::generate();
    let temp = path.with_file_name(format!(".caisse-key-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(key.to_hex().expose_secret().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "made a new master key: keep a copy of this file, as without it the provider \
                 credentials in the database cannot be read"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key_file(path)?.ok_or_else(|| create(e))
        }
        Err(e) => Err(create(e)),
    }
}

/// Opens the database named by the settings and brings its schema up to date.
pub async fn open_store(settings: &Settings) -> Result<Store, StoreError> {
    let store = Store::connect(&settings.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

/// A running caisse: its HTTP server and its workers.
pub struct Application {
    port: u16,
    server: Server,
    ctx: Context,
    shutdown: Shutdown,
    workers: Vec<JoinHandle<()>>,
}

impl Application {
    /// Binds the listener and starts serving. `settings.bind` may use port 0 (tests do); the
    /// chosen port is [`Application::port`].
    pub async fn build(settings: Settings, store: Store) -> Result<Application, StartupError> {
        let listener =
            TcpListener::bind(&settings.bind).map_err(|source| StartupError::Listen {
                addr: settings.bind.clone(),
                source,
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let mut settings = settings;
        if settings.public_url.is_none() {
            let host = settings
                .bind
                .rsplit_once(':')
                .map_or("127.0.0.1", |(h, _)| h);
            settings.public_url = Some(format!("http://{host}:{port}"));
        }
        let workers_count = settings.workers;
        let master_key = master_key(&settings)?;
        let ctx = Context::load(store, settings, master_key).await?;
        let metrics = Data::new(Metrics::default());

        let static_dir = ctx.settings.static_dir.clone();
        let assets =
            Data::new(
                Assets::load(&static_dir).map_err(|source| StartupError::Assets {
                    dir: static_dir.display().to_string(),
                    source,
                })?,
            );
        let app_ctx = Data::new(ctx.clone());
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_ctx.clone())
                .app_data(metrics.clone())
                .app_data(assets.clone())
                .wrap(from_fn(crate::web::middleware::request_context))
                .configure(|cfg| crate::web::routes(cfg, &static_dir))
        })
        .shutdown_timeout(10);
        if let Some(n) = workers_count {
            server = server.workers(n.max(1));
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Listen {
                addr: ctx.settings.bind.clone(),
                source,
            })?
            .run();

        let (shutdown, stopping) = workers::shutdown_channel();
        let store = ctx.store.clone();
        let changes_stop = stopping.clone().until_stopped();
        let workers = vec![
            tokio::spawn(workers::sweeper::run(ctx.clone(), stopping.clone())),
            tokio::spawn(workers::reconciler::run(ctx.clone(), stopping.clone())),
            tokio::spawn(workers::delivery::run(ctx.clone(), stopping)),
            // On PostgreSQL, what lets this node cache sessions other nodes change.
            tokio::spawn(async move { store.follow_session_changes(changes_stop).await }),
        ];
        Ok(Application {
            port,
            server,
            ctx,
            shutdown,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Stops the server gracefully, as SIGTERM or Ctrl-C do.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until a shutdown signal: in-flight requests finish, then the workers stop and the
    /// database is closed.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.shutdown.stop();
        for worker in self.workers {
            let _ = worker.await;
        }
        self.ctx.store.close().await;
        tracing::info!("stopped");
        result
    }
}
