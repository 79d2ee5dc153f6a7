//! Following the changes other nodes make to checkout sessions, so the session cache can be
//! used on PostgreSQL too.
//!
//! A trigger announces every update of a session on [`CHANNEL`] when its transaction commits
//! (`migrations/postgres/0005_session_changes.sql`). [`Store::follow_session_changes`] listens
//! on a connection of its own and forgets each announced session. The cache is used only while
//! that connection is known to be alive:
//!
//! - when it is lost, the cache is switched off (reads go to the database) until listening
//!   starts again, and emptied then, because what changed in between was announced to nobody;
//! - a connection can also die without a word (a network cut): every [`HEARTBEAT`] of silence
//!   the listener asks its connection a question, and one not answered within [`ANSWER`] counts
//!   as lost. So a change another node makes shows here within a notification's delay, and
//!   never later than `HEARTBEAT + ANSWER` even if the network fails silently.
//!
//! On SQLite every write is this process's own and there is nothing to follow.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use uuid::Uuid;

use super::{Backend, Store};

/// The channel the trigger notifies, with the session's id as the payload.
const CHANNEL: &str = "caisse_checkout_sessions";
/// Silence after which the listener checks that its connection still answers.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long that check may take.
const ANSWER: Duration = Duration::from_secs(5);
/// Waits between attempts to listen again, doubling up to the last.
const RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Why listening stopped.
enum Ended {
    Stopped,
    Lost(String),
}

impl Store {
    /// Listens for other nodes' changes to sessions until `stop` completes, listening again
    /// whenever the connection is lost. Returns at once on SQLite.
    pub async fn follow_session_changes(&self, stop: impl Future<Output = ()>) {
        let Backend::Postgres(pool) = &self.backend else {
            return;
        };
        tokio::pin!(stop);
        let mut wait = RETRY.0;
        loop {
            let listening = tokio::select! {
                () = &mut stop => return,
                listener = listen(pool) => listener,
            };
            let ended = match listening {
                Ok(listener) => {
                    wait = RETRY.0;
                    self.cache.follow_sessions(true);
                    tracing::debug!("following session changes");
                    let ended = self.follow(listener, &mut stop).await;
                    self.cache.follow_sessions(false);
                    ended
                }
                Err(e) => Ended::Lost(e.to_string()),
            };
            match ended {
                Ended::Stopped => return,
                Ended::Lost(why) => {
                    tracing::warn!(error = %why, "not following session changes; sessions are read from the database until listening again");
                }
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(RETRY.1);
        }
    }

    /// Forgets each announced session until the connection is lost or `stop` completes.
    async fn follow(
        &self,
        mut listener: PgListener,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Ended {
        loop {
            // `try_recv` keeps a message read in part when its future is dropped, so waiting
            // on it beside the heartbeat loses nothing.
            let received = tokio::select! {
                () = stop.as_mut() => return Ended::Stopped,
                received = tokio::time::timeout(HEARTBEAT, listener.try_recv()) => received,
            };
            match received {
                Ok(Ok(Some(notice))) => match Uuid::parse_str(notice.payload()) {
                    Ok(id) => self.cache.sessions.invalidate(&id),
                    // Not one of the trigger's: forget everything rather than guess.
                    Err(_) => self.cache.sessions.clear(),
                },
                Ok(Ok(None)) => return Ended::Lost("the connection was closed".into()),
                Ok(Err(e)) => return Ended::Lost(e.to_string()),
                Err(_silence) => {
                    // Naming the channel, so that in `pg_stat_activity` this connection says
                    // what it is for.
                    let ping = sqlx::query("SELECT 'caisse_checkout_sessions'");
                    let answered = tokio::time::timeout(ANSWER, ping.execute(&mut listener)).await;
                    match answered {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Ended::Lost(e.to_string()),
                        Err(_) => {
                            return Ended::Lost(format!(
                                "the connection did not answer within {ANSWER:?}"
                            ));
                        }
                    }
                }
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection ends this listener; `follow_session_changes` makes a new one, so it
    // knows when listening starts again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
