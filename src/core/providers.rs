//! Provider accounts as the merchant API and the operator's command line manage them, and the
//! accessors through which the payment code reaches an account's opened credentials.

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Caller, Context, Error, Result};
use crate::adapters;
use crate::domain::provider_account::{AccountInput, AccountProvider, ProviderAccount};
use crate::domain::session::Environment;
use crate::domain::time;

/// A provider account of an organization, in one environment. Its credentials are never shown:
/// `credentials` holds what a merchant may see of each.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ProviderAccount)]
pub struct AccountView<'a> {
    /// The provider's code, as in the path.
    #[schema(inline)]
    pub provider: AccountProvider,
    /// From the API key: an account serves only that environment's sessions.
    #[schema(inline)]
    pub environment: Environment,
    /// Whether caisse may take payments through the account.
    pub enabled: bool,
    /// The account's id, a UUID v4 made by the server; it is kept when the credentials are
    /// replaced, so the `webhook_url` stays the same.
    pub account_id: Uuid,
    /// Where the provider must send this account's webhooks: register it at the provider.
    #[schema(
        format = "uri",
        example = "https://pay.shop.example/providers/wave/3f2b9c1e-8d4a-4f6b-9a7e-2c5d1b0e4a81"
    )]
    pub webhook_url: String,
    /// Each credential field of the provider: a secret as `…` and its last characters (four,
    /// fewer for a short value, never more than a quarter of it), a setting (`webhook_auth`,
    /// `country`, `target_environment`) whole, null when an optional field has no value.
    #[schema(
        value_type = std::collections::HashMap<String, Option<String>>,
        example = json!({"api_key": "…9f3a", "webhook_secret": "…c07e", "webhook_auth": "signature"})
    )]
    pub credentials: Hints<'a>,
    /// When the account was first set (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When its credentials or `enabled` were last set.
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// An account's hints as a JSON object, in the order of its provider's fields.
#[derive(Debug)]
pub struct Hints<'a>(&'a ProviderAccount);

impl serde::Serialize for Hints<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let fields = self.0.provider.fields();
        let mut map = s.serialize_map(Some(fields.len()))?;
        for field in fields {
            map.serialize_entry(field.name, &self.0.hints.get(field.name))?;
        }
        map.end()
    }
}

/// An account as the API and the command line show it.
pub fn view<'a>(account: &'a ProviderAccount, public_url: &str) -> AccountView<'a> {
    AccountView {
        provider: account.provider,
        environment: account.environment,
        enabled: account.enabled,
        account_id: account.id,
        webhook_url: format!("{public_url}{}", account.webhook_path()),
        credentials: Hints(account),
        created_at: account.created_at,
        updated_at: account.updated_at,
    }
}

/// A provider account with its credentials opened, in the form the provider's adapter takes
/// them.
#[derive(Debug)]
pub struct Account {
    pub account: ProviderAccount,
    pub credentials: adapters::Credentials,
}

/// The provider a path names; an unknown code names nothing, so it is not found.
pub fn provider(code: &str) -> Result<AccountProvider> {
    code.parse().map_err(|_| Error::NotFound("provider"))
}

/// Sets the caller's account with a provider from a body of its credential fields and
/// `enabled`: created, or its credentials replaced and its id kept.
pub async fn set(
    ctx: &Context,
    caller: &Caller,
    code: &str,
    body: &Map<String, Value>,
) -> Result<ProviderAccount> {
    let provider = provider(code)?;
    let input = AccountInput::parse(provider, body).map_err(Error::Invalid)?;
    let account = ProviderAccount::new(
        caller.organization_id,
        caller.environment,
        &input,
        &ctx.master_key,
        time::now(),
    );
    Ok(ctx.store.put_provider_account(&account).await?)
}

/// The caller's accounts, by provider code.
pub async fn list(ctx: &Context, caller: &Caller) -> Result<Vec<ProviderAccount>> {
    Ok(ctx
        .store
        .provider_accounts(caller.organization_id, caller.environment)
        .await?)
}

/// The caller's account with a provider.
pub async fn retrieve(ctx: &Context, caller: &Caller, code: &str) -> Result<ProviderAccount> {
    ctx.store
        .provider_account(caller.organization_id, caller.environment, provider(code)?)
        .await?
        .ok_or(Error::NotFound("provider account"))
}

pub async fn remove(ctx: &Context, caller: &Caller, code: &str) -> Result<()> {
    let provider = provider(code)?;
    let removed = ctx
        .store
        .delete_provider_account(caller.organization_id, caller.environment, provider)
        .await?;
    if !removed {
        return Err(Error::NotFound("provider account"));
    }
    Ok(())
}

/// An organization's account with a provider in an environment, its credentials opened; `None`
/// when it has none (a disabled account is returned: see its `enabled`).
pub async fn account(
    ctx: &Context,
    organization_id: Uuid,
    environment: Environment,
    provider: AccountProvider,
) -> Result<Option<Account>> {
    let stored = ctx
        .store
        .provider_account(organization_id, environment, provider)
        .await?;
    stored.map(|a| opened(ctx, a)).transpose()
}

/// The account a provider webhook's URL names, its credentials opened.
pub async fn account_by_id(ctx: &Context, account_id: Uuid) -> Result<Option<Account>> {
    let stored = ctx.store.provider_account_by_id(account_id).await?;
    stored.map(|a| opened(ctx, a)).transpose()
}

fn opened(ctx: &Context, account: ProviderAccount) -> Result<Account> {
    match account.open(&ctx.master_key) {
        Ok(credentials) => Ok(Account {
            account,
            credentials: adapters::Credentials::new(credentials.into_fields()),
        }),
        Err(e) => Err(Error::Sealed(format!(
            "the credentials of provider account {} cannot be opened: {e}",
            account.id
        ))),
    }
}
