//! Organizations and their API keys, as the operator's command line makes them.

use uuid::Uuid;

use super::{Context, Error, Result};
use crate::domain::apikey;
use crate::domain::session::Environment;
use crate::domain::time;
use crate::store::{ApiKey, Organization};

pub async fn create(ctx: &Context, name: &str, allowed_origins: &[String]) -> Result<Organization> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
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
    };
    ctx.store.insert_organization(&org).await?;
    Ok(org)
}

/// Makes a key and returns it in plain text: the only time it exists outside the caller.
pub async fn create_key(
    ctx: &Context,
    organization_id: Uuid,
    environment: Environment,
) -> Result<(ApiKey, String)> {
    if ctx.store.organization(organization_id).await?.is_none() {
        return Err(Error::NotFound("organization"));
    }
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
