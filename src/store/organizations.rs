//! Organizations (the merchants) and their API keys.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreResult, changed, on_pool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Organization {
    pub id: Uuid,
    /// The display name customers see on the checkout page.
    pub name: String,
    /// Space-separated origins allowed to embed the checkout page in a frame.
    pub allowed_origins: String,
    pub created_at: DateTime<Utc>,
    /// Where it sells (ISO 3166-1 alpha-2, upper case): its customers' phone numbers are read
    /// as dialled there. `None` until the operator sets it.
    pub country: Option<String>,
}

/// A stored API key: its hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: String,
    pub key_hash: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn insert_organization(&self, org: &Organization) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "INSERT INTO organizations (id, name, allowed_origins, created_at, country) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org.id)
            .bind(&org.name)
            .bind(&org.allowed_origins)
            .bind(org.created_at)
            .bind(&org.country)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// An organization, from the read cache when it was read within its TTL.
    /// Shared, not copied: every page view reads its organization.
    pub async fn organization(&self, id: Uuid) -> StoreResult<Option<Arc<Organization>>> {
        let cache = &self.cache.organizations;
        if let Some(org) = cache.get(&id) {
            return Ok(Some(org));
        }
        let ticket = cache.ticket(&id);
        let org: Option<Organization> = on_pool!(self, read, |pool, d| {
            sqlx::query_as("SELECT * FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *pool)
                .await?
        });
        let org = org.map(Arc::new);
        if let Some(org) = &org {
            cache.insert(id, Arc::clone(org), ticket);
        }
        Ok(org)
    }

    pub async fn count_organizations(&self) -> StoreResult<i64> {
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(&mut *pool)
                .await?
        }))
    }

    pub async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "INSERT INTO api_keys (id, organization_id, environment, key_hash, prefix, \
                 created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(key.id)
            .bind(key.organization_id)
            .bind(&key.environment)
            .bind(&key.key_hash)
            .bind(&key.prefix)
            .bind(key.created_at)
            .bind(key.revoked_at)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// The live (not revoked) key with this hash. A key found is remembered for the API-key
    /// cache's TTL, so a revocation takes effect within it; a key not found is not remembered.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let cache = &self.cache.api_keys;
        let key_hash = key_hash.to_string();
        if let Some(key) = cache.get(&key_hash) {
            return Ok(Some((*key).clone()));
        }
        let ticket = cache.ticket(&key_hash);
        let key: Option<ApiKey> = on_pool!(self, read, |pool, d| {
            sqlx::query_as("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .bind(&key_hash)
                .fetch_optional(&mut *pool)
                .await?
        });
        if let Some(key) = &key {
            cache.insert(key_hash, Arc::new(key.clone()), ticket);
        }
        Ok(key)
    }

    /// An organization's keys in one environment, oldest first (their hashes, never a key).
    pub async fn api_keys_of(
        &self,
        organization_id: Uuid,
        environment: &str,
    ) -> StoreResult<Vec<ApiKey>> {
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_as(
                "SELECT * FROM api_keys WHERE organization_id = $1 AND environment = $2 \
                 ORDER BY created_at, id",
            )
            .bind(organization_id)
            .bind(environment)
            .fetch_all(&mut *pool)
            .await?
        }))
    }

    /// Revokes an organization's key: refused from then on (by another process's cache within
    /// its TTL). False when it has no such live key.
    pub async fn revoke_api_key(
        &self,
        organization_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let revoked = changed!(
            self,
            "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND organization_id = $2 \
             AND revoked_at IS NULL",
            id,
            organization_id,
            at
        ) == 1;
        self.cache.api_keys.clear();
        Ok(revoked)
    }

    /// Renames an organization (the name customers see on its pages). False when there is none.
    pub async fn rename_organization(&self, id: Uuid, name: &str) -> StoreResult<bool> {
        let renamed = changed!(
            self,
            "UPDATE organizations SET name = $2 WHERE id = $1",
            id,
            name
        ) == 1;
        self.cache.organizations.invalidate(&id);
        Ok(renamed)
    }

    /// Sets (or, with `None`, forgets) an organization's country. False when there is none.
    pub async fn set_organization_country(
        &self,
        id: Uuid,
        country: Option<&str>,
    ) -> StoreResult<bool> {
        let set = changed!(
            self,
            "UPDATE organizations SET country = $2 WHERE id = $1",
            id,
            country
        ) == 1;
        self.cache.organizations.invalidate(&id);
        Ok(set)
    }
}
