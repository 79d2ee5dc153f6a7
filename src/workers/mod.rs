//! Background work that runs beside the HTTP server and stops with it.

pub mod delivery;
pub mod reconciler;
pub mod sweeper;

use tokio::sync::watch;

use crate::store::StoreError;

/// Tells workers to stop. Dropping it stops them too.
pub struct Shutdown(watch::Sender<bool>);

/// A worker's side of [`Shutdown`].
#[derive(Clone)]
pub struct Stopping(watch::Receiver<bool>);

pub fn shutdown_channel() -> (Shutdown, Stopping) {
    let (tx, rx) = watch::channel(false);
    (Shutdown(tx), Stopping(rx))
}

impl Shutdown {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Stopping {
    pub fn stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when the workers are told to stop, or their `Shutdown` is dropped.
    pub async fn until_stopped(mut self) {
        while !*self.0.borrow() {
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }

    /// Waits up to `d`; true when the worker should stop.
    pub async fn sleep(&mut self, d: std::time::Duration) -> bool {
        if *self.0.borrow() {
            return true;
        }
        match tokio::time::timeout(d, self.0.changed()).await {
            Ok(_) => true,
            Err(_) => *self.0.borrow(),
        }
    }
}

/// Runs `pass` every `interval` until the workers stop: `done` tells what a pass that did
/// something did (its count), and a pass that failed is logged as `failed` and tried again at
/// the next interval.
pub async fn every<F: Future<Output = Result<usize, StoreError>>>(
    interval: std::time::Duration,
    mut stopping: Stopping,
    mut pass: impl FnMut() -> F,
    done: impl Fn(usize),
    failed: &'static str,
) {
    loop {
        match pass().await {
            Ok(0) => {}
            Ok(n) => done(n),
            Err(e) => tracing::warn!(error = %e, "{failed}"),
        }
        if stopping.sleep(interval).await {
            break;
        }
    }
}
