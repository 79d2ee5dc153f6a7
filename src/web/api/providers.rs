//! `/v1/providers`: the organization's provider accounts, thin handlers over
//! [`crate::core::providers`]. Each handler's `#[utoipa::path]` is its entry in the OpenAPI
//! document.

use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpResponse, delete, get, put};

use super::doc::{ProviderAccountList, ProviderAccountPut};
use super::{AccountOf, Response};
use crate::core::input::{Page, parse_object};
use crate::core::providers::{self, AccountView};
use crate::core::{Caller, Context};
use crate::domain::provider_account::AccountProvider;

/// Set a provider account
///
/// Stores the credentials caisse takes payments with through a provider, for the key's
/// organization and environment, and answers with the account: its secrets never again, only
/// hints of them. The body is the provider's credential fields (all of them each time: they
/// replace what the account held), and `enabled`. A field the provider does not have, a missing
/// one, or a value that is not a string of 1 to 512 characters (trimmed) is 422, every fault
/// named. Setting an account that exists keeps its `account_id`, so the `webhook_url`
/// registered at the provider stays valid.
#[utoipa::path(
    operation_id = "setProviderAccount",
    params(("provider" = inline(AccountProvider), Path,
        description = "The provider's code (any other is 404).")),
    request_body = ProviderAccountPut,
    responses(
        (status = 200, body = AccountView, description = "The account, created or replaced."),
    ),
)]
#[put("/providers/{provider}")]
pub async fn set(ctx: Data<Context>, caller: Caller, code: Path<String>, body: Bytes) -> Response {
    let body = parse_object(&body)?;
    let account = providers::set(&ctx, &caller, &code, &body).await?;
    Ok(HttpResponse::Ok().json(providers::view(&account, &ctx.public_url)))
}

/// List provider accounts
///
/// Every account of the key's organization and environment, by provider code, in one page
/// (there is at most one per provider; `limit` and `total` are their number, `offset` 0).
#[utoipa::path(
    operation_id = "listProviderAccounts",
    responses(
        (status = 200, body = ProviderAccountList, description = "The accounts."),
    ),
)]
#[get("/providers")]
pub async fn list(ctx: Data<Context>, caller: Caller) -> Response {
    let page = Page::whole(providers::list(&ctx, &caller).await?);
    Ok(HttpResponse::Ok().json(page.view(|a| providers::view(a, &ctx.public_url))))
}

/// Retrieve a provider account
#[utoipa::path(
    operation_id = "retrieveProviderAccount",
    params(AccountOf),
    responses(
        (status = 200, body = AccountView, description = "The account."),
    ),
)]
#[get("/providers/{provider}")]
pub async fn retrieve(ctx: Data<Context>, caller: Caller, of: Path<AccountOf>) -> Response {
    let account = providers::retrieve(&ctx, &caller, &of.provider).await?;
    Ok(HttpResponse::Ok().json(providers::view(&account, &ctx.public_url)))
}

/// Remove a provider account
///
/// Its credentials are deleted: caisse takes no more payments through it, and webhooks sent to
/// its `webhook_url` find no account. Setting the provider again makes a new account, with a
/// new `account_id` and URL.
#[utoipa::path(
    operation_id = "removeProviderAccount",
    params(AccountOf),
    responses(
        (status = 204, description = "The account is removed."),
    ),
)]
#[delete("/providers/{provider}")]
pub async fn remove(ctx: Data<Context>, caller: Caller, of: Path<AccountOf>) -> Response {
    providers::remove(&ctx, &caller, &of.provider).await?;
    Ok(HttpResponse::NoContent().finish())
}

resource!(set, list, retrieve, remove);
