//! Provider accounts: one per organization, environment and provider, their credentials sealed
//! (see [`crate::domain::provider_account`]). The store never sees them in the clear.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::rows::parsed;
use super::{
    Store, StoreError, StoreResult, changed, on_pool, read_all, read_optional, select_rows,
};
use crate::domain::provider_account::{AccountProvider, ProviderAccount};
use crate::domain::session::Environment;

/// Every column of `provider_accounts`, in [`AccountRow`]'s order.
macro_rules! account_columns {
    () => {
        "account_id, organization_id, environment, provider, credentials, hints, enabled, \
         created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    account_id: Uuid,
    organization_id: Uuid,
    environment: String,
    provider: String,
    credentials: String,
    hints: Json<BTreeMap<String, String>>,
    enabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for ProviderAccount {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(ProviderAccount {
            id: r.account_id,
            organization_id: r.organization_id,
            environment: parsed("environment", &r.environment)?,
            provider: parsed("provider", &r.provider)?,
            sealed_credentials: r.credentials,
            hints: r.hints.0,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Store {
    /// Writes the account of its organization, environment and provider, and returns it as
    /// stored. Over an account that exists, the credentials, hints, `enabled` and `updated_at`
    /// are replaced and its id and creation time kept: the webhook URL registered at the
    /// provider stays valid.
    pub async fn put_provider_account(&self, a: &ProviderAccount) -> StoreResult<ProviderAccount> {
        let row: AccountRow = on_pool!(self, write, |pool, d| {
            sqlx::query_as(concat!(
                "INSERT INTO provider_accounts (",
                account_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (organization_id, environment, provider) DO UPDATE SET \
                 credentials = excluded.credentials, hints = excluded.hints, \
                 enabled = excluded.enabled, updated_at = excluded.updated_at \
                 RETURNING ",
                account_columns!()
            ))
            .bind(a.id)
            .bind(a.organization_id)
            .bind(a.environment.as_str())
            .bind(a.provider.code())
            .bind(&a.sealed_credentials)
            .bind(Json(&a.hints))
            .bind(a.enabled)
            .bind(a.created_at)
            .bind(a.updated_at)
            .fetch_one(&mut *pool)
            .await?
        });
        row.try_into()
    }

    /// An organization's accounts in one environment, by provider code.
    pub async fn provider_accounts(
        &self,
        organization_id: Uuid,
        environment: Environment,
    ) -> StoreResult<Vec<ProviderAccount>> {
        let select = select_rows!(
            account_columns,
            "provider_accounts",
            "WHERE organization_id = $1 AND environment = $2 \
             ORDER BY provider"
        );
        read_all!(
            self,
            AccountRow,
            select,
            organization_id,
            environment.as_str()
        )
    }

    /// An organization's account with `provider` in one environment: one of its accounts
    /// there, of which it has one per provider at most.
    pub async fn provider_account(
        &self,
        organization_id: Uuid,
        environment: Environment,
        provider: AccountProvider,
    ) -> StoreResult<Option<ProviderAccount>> {
        let accounts = self.provider_accounts(organization_id, environment).await?;
        Ok(accounts.into_iter().find(|a| a.provider == provider))
    }

    /// The account a provider webhook's URL names.
    pub async fn provider_account_by_id(
        &self,
        account_id: Uuid,
    ) -> StoreResult<Option<ProviderAccount>> {
        let select = select_rows!(
            account_columns,
            "provider_accounts",
            "WHERE account_id = $1"
        );
        read_optional!(self, AccountRow, select, account_id)
    }

    /// Removes an account; whether there was one.
    pub async fn delete_provider_account(
        &self,
        organization_id: Uuid,
        environment: Environment,
        provider: AccountProvider,
    ) -> StoreResult<bool> {
        let removed = changed!(
            self,
            "DELETE FROM provider_accounts WHERE organization_id = $1 AND environment = $2 \
             AND provider = $3",
            organization_id,
            environment.as_str(),
            provider.code()
        );
        Ok(removed > 0)
    }
}

impl Store {
    /// Forgets every provider account's credentials (disabled, no hints, ids kept) and stores
    /// `check` as the server value `name`, in one transaction: the master key is replaced.
    /// Returns how many accounts there were.
    pub async fn forget_credentials(
        &self,
        name: &str,
        check: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Ok(on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let forgotten = sqlx::query(
                "UPDATE provider_accounts SET credentials = '', hints = $1, enabled = $2, \
                 updated_at = $3",
            )
            .bind(Json(BTreeMap::<String, String>::new()))
            .bind(false)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("UPDATE server_secrets SET value = $2 WHERE name = $1")
                .bind(name)
                .bind(check)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            forgotten
        }))
    }
}
