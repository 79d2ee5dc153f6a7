//! Organizations and their API keys: made by the operator's command line, and the key a
//! request carries told apart from any other.

use std::sync::Arc;

use secrecy::SecretString;
use uuid::Uuid;

use super::{Caller, Context, Error, Result};
use crate::domain::apikey;
use crate::domain::session::Environment;
use crate::domain::time;
use crate::store::{ApiKey, Organization};

/// An organization's name as customers see it: 1 to 200 characters, trimmed.
fn name_of(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name)
}

/// A country as the operator gives it (`CI`, `sn`): an ISO 3166-1 alpha-2 code with a
/// numbering plan, stored upper case.
fn country_of(code: &str) -> Result<String> {
    let code = code.trim().to_ascii_uppercase();
    match crate::domain::phone::Country::from_code(&code) {
        Some(_) if code.len() == 2 => Ok(code),
        _ => Err(Error::invalid(
            "country",
            format!("{code:?} is not a two-letter ISO 3166 country code, such as CI or SN"),
        )),
    }
}

pub async fn create(
    ctx: &Context,
    name: &str,
    allowed_origins: &[String],
    country: Option<&str>,
) -> Result<Organization> {
    let name = name_of(name)?;
    let country = country.map(country_of).transpose()?;
    let mut origins = Vec::new();
    for origin in allowed_origins {
        let parsed = url::Url::parse(origin).ok().filter(|u| {
            matches!(u.scheme(), "https" | "http") && u.path() == "/" && u.query().is_none()
        });
        match parsed {
            Some(u) => origins.push(u.origin().ascii_serialization()),
            None => {
                return Err(Error::invalid(
                    "allowed_origins",
                    format!("{origin:?} is not an origin like https://shop.example"),
                ));
            }
        }
    }
    let org = Organization {
        id: Uuid::new_v4(),
        name: name.to_string(),
        allowed_origins: origins.join(" "),
        created_at: time::now(),
        country,
    };
    ctx.store.insert_organization(&org).await?;
    Ok(org)
}

/// Makes a key and returns it in plain text: the only time it exists outside the caller's
/// hands. It is a secret, which nothing prints by mistake.
pub async fn create_key(
    ctx: &Context,
    organization_id: Uuid,
    environment: Environment,
) -> Result<(ApiKey, SecretString)> {
    get(ctx, organization_id).await?;
    let generated = apikey::generate(environment);
    let key = ApiKey {
        id: Uuid::new_v4(),
        organization_id,
        environment: environment.as_str().to_string(),
        key_hash: generated.hash,
        prefix: generated.prefix,
        created_at: time::now(),
        revoked_at: None,
    };
    ctx.store.insert_api_key(&key).await?;
    Ok((key, generated.plaintext))
}

/// Renames an organization: its pages show the new name (on other nodes within their cache's
/// few seconds).
pub async fn rename(ctx: &Context, id: Uuid, name: &str) -> Result<()> {
    let name = name_of(name)?;
    if !ctx.store.rename_organization(id, name).await? {
        return Err(Error::NotFound("organization"));
    }
    Ok(())
}

/// Sets where an organization sells: its customers' phone numbers are read as dialled there.
/// An empty `country` forgets it.
pub async fn set_country(ctx: &Context, id: Uuid, country: &str) -> Result<()> {
    let country = (!country.trim().is_empty())
        .then(|| country_of(country))
        .transpose()?;
    if !ctx
        .store
        .set_organization_country(id, country.as_deref())
        .await?
    {
        return Err(Error::NotFound("organization"));
    }
    Ok(())
}

/// An organization's keys in one environment, oldest first: their ids, prefixes and dates.
pub async fn keys(
    ctx: &Context,
    organization_id: Uuid,
    environment: Environment,
) -> Result<Vec<ApiKey>> {
    get(ctx, organization_id).await?;
    Ok(ctx
        .store
        .api_keys_of(organization_id, environment.as_str())
        .await?)
}

/// Revokes an organization's key: every request with it is 401 from then on (within the few
/// seconds a running server remembers a key it saw).
pub async fn revoke_key(ctx: &Context, organization_id: Uuid, key_id: Uuid) -> Result<()> {
    if !ctx
        .store
        .revoke_api_key(organization_id, key_id, time::now())
        .await?
    {
        return Err(Error::NotFound("live API key of this organization"));
    }
    Ok(())
}

/// An organization by id, shared: the page reads one on every view, mostly from the cache.
pub async fn get(ctx: &Context, id: Uuid) -> Result<Arc<Organization>> {
    ctx.store
        .organization(id)
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// Who a request's `X-API-KEY` speaks for: its organization, in the environment its prefix
/// names. `None` for a key that is malformed, unknown, revoked, or of the other environment.
pub async fn authenticate(ctx: &Context, key: &str) -> Result<Option<Caller>> {
    let Some(environment) = apikey::environment_of(key) else {
        return Ok(None);
    };
    let stored = ctx.store.api_key_by_hash(&apikey::hash(key)).await?;
    Ok(stored
        .filter(|k| k.environment == environment.as_str())
        .map(|k| Caller {
            organization_id: k.organization_id,
            environment,
            key_id: Some(k.id),
        }))
}
