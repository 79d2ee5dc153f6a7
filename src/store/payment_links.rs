//! Payment links. A deleted link keeps its row (`deleted_at` set) for the sessions opened from
//! it; the API's listings leave it out, and its page says it is no longer available.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;
use uuid::Uuid;

use super::{
    OwnedPage, Store, StoreError, StoreResult, changed, on_pool, ordered, read_optional, read_page,
    select_rows,
};
use crate::domain::payment_link::{LinkFields, PaymentLink};

#[derive(sqlx::FromRow)]
struct LinkRow {
    link_id: Uuid,
    organization_id: Uuid,
    environment: String,
    link_type: String,
    title: Option<String>,
    public_description: Option<String>,
    private_description: Option<String>,
    amount: Option<i64>,
    currency_code: Option<String>,
    product_id: Option<Uuid>,
    price_id: Option<Uuid>,
    quantity: i64,
    allow_quantity: bool,
    allow_coupon_code: bool,
    allowed_providers: Option<String>,
    success_url: Option<String>,
    cancel_url: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    is_active: bool,
    metadata: Option<Json<Map<String, Value>>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<LinkRow> for PaymentLink {
    type Error = StoreError;

    fn try_from(r: LinkRow) -> Result<PaymentLink, StoreError> {
        let corrupt = |column: &str, value: &dyn std::fmt::Debug| {
            StoreError::Corrupt(format!("payment_links.{column} = {value:?}"))
        };
        Ok(PaymentLink {
            id: r.link_id,
            organization_id: r.organization_id,
            environment: r
                .environment
                .parse()
                .map_err(|_| corrupt("environment", &r.environment))?,
            fields: LinkFields {
                link_type: r
                    .link_type
                    .parse()
                    .map_err(|_| corrupt("link_type", &r.link_type))?,
                title: r.title,
                public_description: r.public_description,
                private_description: r.private_description,
                amount: r.amount,
                currency: r
                    .currency_code
                    .as_deref()
                    .map(|c| c.parse().map_err(|_| corrupt("currency_code", &c)))
                    .transpose()?,
                product_id: r.product_id,
                price_id: r.price_id,
                quantity: r.quantity,
                allow_quantity: r.allow_quantity,
                allow_coupon_code: r.allow_coupon_code,
                allowed_providers: r
                    .allowed_providers
                    .as_deref()
                    .map(|p| p.parse().map_err(|_| corrupt("allowed_providers", &p)))
                    .transpose()?,
                success_url: r.success_url,
                cancel_url: r.cancel_url,
                expires_at: r.expires_at,
                is_active: r.is_active,
                metadata: r.metadata.map(|j| j.0),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

macro_rules! link_columns {
    () => {
        "link_id, organization_id, environment, link_type, title, public_description, \
         private_description, amount, currency_code, product_id, price_id, quantity, \
         allow_quantity, allow_coupon_code, allowed_providers, success_url, cancel_url, \
         expires_at, is_active, metadata, created_at, updated_at, deleted_at"
    };
}

/// Binds a link's writable fields, `link_type` to `metadata` in [`link_columns`]: seventeen
/// values.
macro_rules! bind_link {
    ($query:expr, $f:expr) => {{
        let f: &LinkFields = $f;
        $query
            .bind(f.link_type.as_str())
            .bind(f.title.clone())
            .bind(f.public_description.clone())
            .bind(f.private_description.clone())
            .bind(f.amount)
            .bind(f.currency.map(|c| c.code()))
            .bind(f.product_id)
            .bind(f.price_id)
            .bind(f.quantity)
            .bind(f.allow_quantity)
            .bind(f.allow_coupon_code)
            .bind(f.allowed_providers.as_ref().map(ToString::to_string))
            .bind(f.success_url.clone())
            .bind(f.cancel_url.clone())
            .bind(f.expires_at)
            .bind(f.is_active)
            .bind(f.metadata.clone().map(Json))
    }};
}

impl Store {
    pub async fn insert_payment_link(&self, l: &PaymentLink) -> StoreResult<()> {
        let insert = concat!(
            "INSERT INTO payment_links (",
            link_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23)"
        );
        on_pool!(self, write, |pool, d| {
            bind_link!(
                sqlx::query(insert)
                    .bind(l.id)
                    .bind(l.organization_id)
                    .bind(l.environment.as_str()),
                &l.fields
            )
            .bind(l.created_at)
            .bind(l.updated_at)
            .bind(l.deleted_at)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// A link by id, whatever its organization, deleted or not.
    pub async fn payment_link(&self, id: Uuid) -> StoreResult<Option<PaymentLink>> {
        let select = select_rows!(link_columns, "payment_links", "WHERE link_id = $1");
        read_optional!(self, LinkRow, select, id)
    }

    pub async fn list_payment_links(&self, q: &OwnedPage) -> StoreResult<(Vec<PaymentLink>, i64)> {
        let page = ordered!(
            q.sort,
            select_rows!(
                link_columns,
                "payment_links",
                "WHERE organization_id = $1 AND environment = $2 AND deleted_at IS NULL"
            ),
            "link_id",
            "LIMIT $3 OFFSET $4"
        );
        let count = "SELECT COUNT(*) FROM payment_links WHERE organization_id = $1 \
                     AND environment = $2 AND deleted_at IS NULL";
        read_page!(
            self,
            LinkRow,
            page,
            count,
            [q.organization_id, q.environment.as_str()],
            q.limit,
            q.offset
        )
    }

    /// Writes a link's fields and `updated_at`; `None` when it was deleted meanwhile.
    pub async fn update_payment_link(&self, l: &PaymentLink) -> StoreResult<Option<PaymentLink>> {
        let update = concat!(
            "UPDATE payment_links SET link_type = $2, title = $3, public_description = $4, \
             private_description = $5, amount = $6, currency_code = $7, product_id = $8, \
             price_id = $9, quantity = $10, allow_quantity = $11, allow_coupon_code = $12, \
             allowed_providers = $13, success_url = $14, cancel_url = $15, expires_at = $16, \
             is_active = $17, metadata = $18, updated_at = $19 \
             WHERE link_id = $1 AND deleted_at IS NULL RETURNING ",
            link_columns!()
        );
        let row: Option<LinkRow> = on_pool!(self, write, |pool, d| {
            bind_link!(sqlx::query_as(update).bind(l.id), &l.fields)
                .bind(l.updated_at)
                .fetch_optional(&mut *pool)
                .await?
        });
        row.map(PaymentLink::try_from).transpose()
    }

    /// Deletes a link as the API sees it. False when it was already deleted.
    pub async fn delete_payment_link(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let deleted = changed!(
            self,
            "UPDATE payment_links SET is_active = FALSE, deleted_at = $2, updated_at = $2 \
             WHERE link_id = $1 AND deleted_at IS NULL",
            id,
            now
        );
        Ok(deleted == 1)
    }
}
