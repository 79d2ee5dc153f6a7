//! Group commit of new sessions on SQLite.
//!
//! SQLite has one writer, so concurrent creations queue for it. Written one by one, each waits
//! for the previous one's round trip to SQLite's thread and commit; written together, a whole
//! queue costs one statement and one commit. A creation puts its session in the queue, then
//! waits for either its result or the writer. Whoever gets the writer takes everything queued
//! and writes it as one multi-row `INSERT` (a single statement, so all or nothing); the others
//! are answered without ever taking the writer.
//!
//! The write runs in a task of its own: a request that goes away (the client hung up) must not
//! abandon the others' sessions half-written or unanswered. If the statement fails (one of the
//! ids is taken, say), each session is inserted alone, so each gets its own answer.

use std::sync::{Mutex, OnceLock, PoisonError};

use sqlx::sqlite::SqliteConnection;
use tokio::sync::oneshot;

use super::rows::{
    SESSION_COLUMNS, bind_session, bind_values, column_names, session_columns, with_session_columns,
};
use super::writer::{Held, Writer};
use super::{Outage, StoreError, StoreResult, taken};
use crate::domain::session::CheckoutSession;

/// Rows per statement: 44 columns each (in [`SESSION_COLUMNS`]) stays far below SQLite's 32,766 bound parameters.
/// Statements have a power of two of rows (a queue of 37 is written as 32 + 4 + 1), so the
/// connection keeps seven prepared statements, not one per queue length.
const MAX_ROWS: usize = 64;

type Reply = oneshot::Sender<StoreResult<()>>;

/// Sessions waiting to be written, each with where its result goes.
#[derive(Default)]
pub(super) struct Queue(Mutex<Vec<(CheckoutSession, Reply)>>);

impl Queue {
    fn push(&self, session: CheckoutSession, reply: Reply) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((session, reply));
    }

    fn take(&self) -> Vec<(CheckoutSession, Reply)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Inserts `session`, together with whatever other sessions are waiting for the writer.
pub(super) async fn insert(
    queue: &std::sync::Arc<Queue>,
    writer: &Writer,
    session: &CheckoutSession,
) -> StoreResult<()> {
    let (reply, mut result) = oneshot::channel();
    queue.push(session.clone(), reply);
    let writer = tokio::select! {
        biased;
        done = &mut result => return done.unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed))),
        writer = writer.lock() => writer,
    };
    // Whoever held the writer before answered everything it took before letting go, so a
    // session not answered yet is still in the queue, and goes in this batch.
    if let Ok(done) = result.try_recv() {
        return done;
    }
    let batch = queue.take();
    match writer {
        Ok(held) => {
            tokio::spawn(write(held, batch));
        }
        // The writer is closed or cannot be reopened: nobody's session can be written now.
        Err(e) => {
            let outage = e.outage().unwrap_or(Outage::Unreachable);
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Unavailable(outage)));
            }
        }
    }
    result
        .await
        .unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
}

async fn write(mut held: Held, mut batch: Vec<(CheckoutSession, Reply)>) {
    let conn: &mut SqliteConnection = &mut held;
    while !batch.is_empty() {
        let rows = 1 << batch.len().min(MAX_ROWS).ilog2();
        let rest = batch.split_off(rows);
        let chunk = std::mem::replace(&mut batch, rest);
        let mut query = sqlx::query(statement(chunk.len()));
        for (session, _) in &chunk {
            query = bind_session!(query, session);
        }
        match query.execute(&mut *conn).await {
            Ok(_) => {
                for (_, reply) in chunk {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(_) => {
                for (session, reply) in chunk {
                    let alone = bind_session!(sqlx::query(statement(1)), &session)
                        .execute(&mut *conn)
                        .await;
                    let _ = reply.send(
                        alone
                            .map(|_| ())
                            .map_err(|e| taken(e, "checkout_session_id")),
                    );
                }
            }
        }
    }
}

/// `INSERT INTO checkout_sessions (…) VALUES (?, …), …` for `rows` rows (a power of two up to
/// [`MAX_ROWS`]), made once per size.
fn statement(rows: usize) -> &'static str {
    static STATEMENTS: OnceLock<Vec<String>> = OnceLock::new();
    let all = STATEMENTS.get_or_init(|| {
        let row = format!("({})", vec!["?"; SESSION_COLUMNS].join(", "));
        (0..=MAX_ROWS.ilog2())
            .map(|power| {
                format!(
                    "INSERT INTO checkout_sessions ({}) VALUES {}",
                    session_columns!(),
                    vec![row.as_str(); 1 << power].join(", ")
                )
            })
            .collect()
    });
    debug_assert!(rows.is_power_of_two() && rows <= MAX_ROWS);
    &all[rows.ilog2() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_has_one_placeholder_per_column_and_row() {
        assert_eq!(session_columns!().split(',').count(), SESSION_COLUMNS);
        for rows in [1, 2, 4, 32, MAX_ROWS] {
            assert_eq!(statement(rows).matches('?').count(), rows * SESSION_COLUMNS);
        }
    }
}
