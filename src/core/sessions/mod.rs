//! Creating, reading, listing, updating and expiring checkout sessions.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::input::{self, Page, paging, read_only_echoes};
use super::{Caller, Context, Error, Result};
use crate::domain::coupon::Rejection;
use crate::domain::fields::FieldError;
use crate::domain::payment::Payment;
use crate::domain::phone::Country;
use crate::domain::session::{
    CheckoutSession, READ_ONLY, Rules, SessionFields, SessionView, Status, WRITABLE,
};
use crate::domain::time;
use crate::store::{IdempotencyRecord, ListQuery, StoreError};

mod once;
pub use once::{Stored, create_once};

/// Sessions expired in one pass of a listing's lazy expiry.
const LIST_EXPIRY_BATCH: i64 = 10_000;

fn rules(
    ctx: &Context,
    caller: &Caller,
    now: DateTime<Utc>,
    created_at: DateTime<Utc>,
    country: Option<Country>,
) -> Rules {
    Rules {
        environment: caller.environment,
        now,
        max_quantity: ctx.settings.max_quantity,
        created_at,
        country,
    }
}

/// The country a body's `customer_phone` is read in: the organization's, read only when the
/// number is not written with its country code (which needs none).
async fn phone_country(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
) -> Result<Option<Country>> {
    let national = body
        .get("customer_phone")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim_start().starts_with('+'));
    if !national {
        return Ok(None);
    }
    let org = super::organizations::get(ctx, caller.organization_id).await?;
    Ok(org.country.as_deref().and_then(Country::from_code))
}

/// A session's fields with a patch laid over them, priced again from the catalog when the
/// patch names a price, a product, an amount or a currency and the session is made from a
/// price: what the patch leaves out comes from the price as it is now.
async fn repriced(
    ctx: &Context,
    caller: &Caller,
    patch: &Map<String, Value>,
    mut merged: Map<String, Value>,
) -> Result<Map<String, Value>> {
    const PRICED: [&str; 4] = ["price_id", "product_id", "amount", "currency_code"];
    let named = |k: &str| merged.get(k).is_some_and(|v| !v.is_null());
    if !PRICED.iter().any(|k| patch.contains_key(*k)) || !(named("price_id") || named("product_id"))
    {
        return Ok(merged);
    }
    for k in ["amount", "currency_code"] {
        if !patch.contains_key(k) {
            merged.remove(k);
        }
    }
    // A new product without a new price means the product's default price.
    if patch.contains_key("product_id") && !patch.contains_key("price_id") {
        merged.remove("price_id");
    }
    super::catalog::priced(ctx, caller, merged).await
}

/// Unknown fields are refused, so a misspelt field is never silently ignored.
fn unknown_fields(body: &Map<String, Value>) -> Vec<FieldError> {
    input::unknown_fields(body, &[WRITABLE, READ_ONLY], "a checkout session")
}

/// Creates a session from the fields of `body`.
pub async fn create(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
) -> Result<CheckoutSession> {
    let body = &super::catalog::priced(ctx, caller, body.clone()).await?;
    let country = phone_country(ctx, caller, body).await?;
    let session = new_session(ctx, caller, body, country)?;
    insert(ctx, &session, None).await?;
    Ok(session)
}

/// A new open session of the caller's from `body`, every field checked; not stored yet.
fn new_session(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
    country: Option<Country>,
) -> Result<CheckoutSession> {
    let now = time::now();
    let mut errors = unknown_fields(body);
    // The id is the page's only credential: the server draws it, and a client cannot choose
    // one (which would also tell it whether another organization's id exists).
    errors.extend(read_only_echoes(
        body,
        READ_ONLY,
        caller,
        |name, value| name == "status" && value.as_str() == Some(Status::Open.as_str()),
        "is read-only",
    )?);
    let id = Uuid::new_v4();
    let fields = SessionFields::parse(body, &rules(ctx, caller, now, now, country));
    let fields = match fields {
        Ok(f) if errors.is_empty() => f,
        Ok(_) => return Err(Error::Invalid(errors)),
        Err(more) => {
            errors.extend(more);
            return Err(Error::Invalid(errors));
        }
    };

    Ok(CheckoutSession::open(
        id,
        caller.organization_id,
        caller.actor(),
        caller.environment,
        fields,
        now,
    ))
}

async fn insert(
    ctx: &Context,
    session: &CheckoutSession,
    idempotency: Option<&IdempotencyRecord>,
) -> Result<()> {
    match ctx.store.insert_session(session, idempotency).await {
        Err(StoreError::Conflict("checkout_session_id")) => Err(Error::Conflict {
            code: "checkout_session_id_taken",
            message: "a checkout session with this checkout_session_id already exists".into(),
        }),
        other => Ok(other?),
    }
}

/// A session as it stands now: an open session past its expiry is expired on the spot.
///
/// Shared, not copied: on SQLite it is the store's cached copy, and the page and its polls read
/// it far more often than anything changes it.
pub async fn current(ctx: &Context, id: Uuid) -> Result<Option<Arc<CheckoutSession>>> {
    let Some(session) = ctx.store.session(id).await? else {
        return Ok(None);
    };
    let now = time::now();
    if !session.is_due_to_expire(now) {
        return Ok(Some(session));
    }
    ctx.store.expire_session(id, now, &ctx.public_url).await?;
    // Re-read: a completion may have landed just before the expiry.
    Ok(ctx.store.session(id).await?)
}

/// A session of the caller's organization and environment; any other is not found, so ids
/// of other merchants cannot even be confirmed to exist.
pub async fn retrieve(ctx: &Context, caller: &Caller, id: Uuid) -> Result<CheckoutSession> {
    current(ctx, id)
        .await?
        .filter(|s| caller.owns(s.organization_id, s.environment.as_str()))
        .map(Arc::unwrap_or_clone)
        .ok_or(Error::NotFound("checkout session"))
}

/// A session as the API shows it: with its latest payment, read beside it.
pub struct Shown {
    pub session: CheckoutSession,
    pub payment: Option<Payment>,
}

impl Shown {
    pub fn view<'a>(&'a self, public_url: &str) -> SessionView<'a> {
        self.session.view(public_url, self.payment.as_ref())
    }
}

/// `session` with its latest payment.
pub async fn shown(ctx: &Context, session: CheckoutSession) -> Result<Shown> {
    let payment = ctx.store.latest_payment(session.id).await?;
    Ok(Shown { session, payment })
}

/// A page of sessions, each with its latest payment (one read per session: a page holds at
/// most 100).
pub async fn shown_page(ctx: &Context, page: Page<CheckoutSession>) -> Result<Page<Shown>> {
    let mut items = Vec::with_capacity(page.items.len());
    for session in page.items {
        items.push(shown(ctx, session).await?);
    }
    Ok(Page {
        items,
        limit: page.limit,
        offset: page.offset,
        total: page.total,
    })
}

/// A page of the payments of a session of the caller's, oldest first.
pub async fn payments(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    limit: Option<&str>,
    offset: Option<&str>,
) -> Result<Page<Payment>> {
    let paging = paging(limit, offset, None)?;
    let session = retrieve(ctx, caller, id).await?;
    let (items, total) = ctx
        .store
        .payments_of(session.id, paging.limit, paging.offset)
        .await?;
    Ok(Page {
        items,
        limit: paging.limit,
        offset: paging.offset,
        total,
    })
}

/// Listing parameters as they arrive in the query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub sort: Option<String>,
    pub status: Option<String>,
}

pub async fn list(
    ctx: &Context,
    caller: &Caller,
    params: &ListParams,
) -> Result<Page<CheckoutSession>> {
    let page = paging(
        params.limit.as_deref(),
        params.offset.as_deref(),
        params.sort.as_deref(),
    )?;
    let status = params
        .status
        .as_deref()
        .map(|s| s.parse::<Status>().map_err(|e| Error::invalid("status", e)))
        .transpose()?;

    ctx.store
        .expire_due(
            time::now(),
            Some(caller.organization_id),
            LIST_EXPIRY_BATCH,
            &ctx.public_url,
        )
        .await?;
    let (sessions, total) = ctx
        .store
        .list_sessions(&ListQuery {
            organization_id: caller.organization_id,
            environment: caller.environment,
            status,
            sort: page.sort,
            limit: page.limit,
            offset: page.offset,
        })
        .await?;
    Ok(Page {
        items: sessions,
        limit: page.limit,
        offset: page.offset,
        total,
    })
}

/// How many times a change is tried again after losing a race with another write.
const MODIFY_TRIES: usize = 16;

/// How [`modify`] ended.
pub enum Modified<T> {
    /// The change was written; the session as written, and what the change returned.
    Saved(CheckoutSession, T),
    /// The session is no longer open, as it now stands.
    NotOpen(CheckoutSession),
    NotFound,
}

/// Reads an open session, changes it with `change` and writes it back, as one step that no
/// concurrent write can undo: when another write (a merchant's `PATCH`, the customer's form on
/// another node) changed the session in between, this one is not written; the session is read
/// again and `change` runs again on what it is now. `change` decides on the session it is given
/// and may refuse (its error is returned and nothing is written); `visible` says whether the
/// caller may see the session at all.
pub async fn modify<T, E: From<Error>>(
    ctx: &Context,
    id: Uuid,
    visible: impl Fn(&CheckoutSession) -> bool,
    mut change: impl AsyncFnMut(&mut CheckoutSession) -> std::result::Result<T, E>,
) -> std::result::Result<Modified<T>, E> {
    let mut session = current(ctx, id).await?.map(Arc::unwrap_or_clone);
    for _ in 0..MODIFY_TRIES {
        let Some(mut s) = session.filter(|s| visible(s)) else {
            return Ok(Modified::NotFound);
        };
        if s.status != Status::Open {
            return Ok(Modified::NotOpen(s));
        }
        let out = change(&mut s).await?;
        s.updated_at = time::now();
        if ctx
            .store
            .update_open_session(&s)
            .await
            .map_err(Error::from)?
        {
            s.version += 1;
            return Ok(Modified::Saved(s, out));
        }
        // Another write got there first, or the session closed: see it as it is now. An open
        // session past its time is expired first, as `current` does.
        session = ctx.store.session_uncached(id).await.map_err(Error::from)?;
        if let Some(s) = &session
            && s.is_due_to_expire(time::now())
        {
            session = current(ctx, id).await?.map(Arc::unwrap_or_clone);
        }
    }
    Err(Error::Conflict {
        code: "checkout_session_busy",
        message: "the checkout session is being changed by other requests; try again".into(),
    }
    .into())
}

/// Applies a partial update to an open session. `status` may be set to `expired` and nothing
/// else; other read-only fields are refused.
pub async fn update(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<CheckoutSession> {
    let mut errors = unknown_fields(patch);
    let mut expire = false;
    for (name, value) in patch
        .iter()
        .filter(|(k, _)| READ_ONLY.contains(&k.as_str()))
    {
        if name == "status" && value.as_str() == Some(Status::Expired.as_str()) {
            expire = true;
        } else if name == "status" {
            errors.push(FieldError::new("status", "may only be set to expired"));
        } else {
            errors.push(FieldError::new(name.as_str(), "is read-only"));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }

    let country = phone_country(ctx, caller, patch).await?;
    let visible = |s: &CheckoutSession| caller.owns(s.organization_id, s.environment.as_str());
    let modified = modify(ctx, id, visible, async |session: &mut CheckoutSession| {
        let mut merged = session.writable_json();
        for (name, value) in patch.iter().filter(|(k, _)| WRITABLE.contains(&k.as_str())) {
            merged.insert(name.clone(), value.clone());
        }
        let merged = repriced(ctx, caller, patch, merged).await?;
        let now = time::now();
        let fields = SessionFields::parse(
            &merged,
            &rules(ctx, caller, now, session.created_at, country),
        )
        .map_err(Error::Invalid)?;
        if session.pending_payment_id.is_some() && !same_order(&session.fields, &fields) {
            return Err(Error::Conflict {
                code: "payment_pending",
                message: "a payment is under way for this session: its amount, quantity, \
                          currency and QR code cannot change until it ends"
                    .into(),
            });
        }
        session.fields = fields;
        // A new quantity or currency may change the coupon's discount, and the QR code's
        // amount.
        reprice(ctx, session, now).await?;
        Ok::<(), Error>(())
    })
    .await?;
    match modified {
        Modified::Saved(..) => {}
        Modified::NotOpen(latest) => return Err(not_open(&latest)),
        Modified::NotFound => return Err(Error::NotFound("checkout session")),
    }
    if expire {
        super::attempts::cancel(ctx, id).await?;
        ctx.store
            .expire_session(id, time::now(), &ctx.public_url)
            .await?;
    }
    retrieve(ctx, caller, id).await
}

/// Prices `session` again with its applied coupon as that coupon now stands (see
/// [`CheckoutSession::reprice`]); a coupon that no longer applies is taken off, and why is
/// returned.
pub async fn reprice(
    ctx: &Context,
    session: &mut CheckoutSession,
    now: DateTime<Utc>,
) -> Result<Option<Rejection>> {
    let coupon = match session.coupon_id {
        Some(id) => ctx.store.coupon(id).await?,
        None => None,
    };
    Ok(session.reprice(coupon.as_ref(), now))
}

/// Whether two versions of a session's fields ask for the same money: what a payment under way
/// was started for.
fn same_order(a: &SessionFields, b: &SessionFields) -> bool {
    a.amount == b.amount
        && a.quantity == b.quantity
        && a.currency == b.currency
        && a.qr_code_data == b.qr_code_data
        && a.qr_code_type == b.qr_code_type
}

/// `DELETE`: an open session becomes expired and its record is kept; expiring an expired one
/// again is a no-op; a completed one cannot be.
pub async fn expire(ctx: &Context, caller: &Caller, id: Uuid) -> Result<()> {
    let session = retrieve(ctx, caller, id).await?;
    match session.status {
        Status::Expired => Ok(()),
        Status::Completed => Err(not_open(&session)),
        Status::Open => {
            super::attempts::cancel(ctx, id).await?;
            if ctx
                .store
                .expire_session(id, time::now(), &ctx.public_url)
                .await?
            {
                return Ok(());
            }
            let latest = retrieve(ctx, caller, id).await?;
            match latest.status {
                Status::Completed => Err(not_open(&latest)),
                _ => Ok(()),
            }
        }
    }
}

fn not_open(session: &CheckoutSession) -> Error {
    Error::Conflict {
        code: "checkout_session_not_open",
        message: format!(
            "the checkout session is {}, and can no longer change",
            session.status
        ),
    }
}
