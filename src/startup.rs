//! Building the server: the store, the HTTP app, the background workers, and their shutdown.

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpServer};
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::core::Context;
use crate::store::{Store, StoreError};
use crate::web::metrics::Metrics;
use crate::web::page::assets::Assets;
use crate::workers::{self, Shutdown};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
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
        let ctx = Context::load(store, settings).await?;
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
