//! Values the server keeps for itself in the database, so every node shares them.

use super::{Store, StoreResult, on_pool};
use crate::domain::time;

impl Store {
    /// The secret called `name`, made (32 random bytes) the first time any node asks for it.
    pub async fn server_secret(&self, name: &str) -> StoreResult<Vec<u8>> {
        let fresh: [u8; 32] = rand::random();
        self.server_value(name, &fresh).await
    }

    /// The value called `name`: `fresh` when no node has stored one yet, else the one stored
    /// first.
    pub async fn server_value(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(fresh)
            .bind(time::now())
            .execute(&mut *pool)
            .await?;
        });
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *pool)
                .await?
        }))
    }
}
