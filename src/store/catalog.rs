//! Products and prices.
//!
//! A product has at most one default price: making a price the default takes the mark off the
//! product's other prices in the same transaction, with the product's row locked first on
//! PostgreSQL (SQLite has one writer), and a unique index holds it whatever happens. Deleted
//! rows stay (`deleted_at` set) for the sessions that name them; the API's reads leave them out.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;
use uuid::Uuid;

use super::{
    OwnedPage, Store, StoreError, StoreResult, changed, on_pool, ordered, read_optional, read_page,
    select_rows, sql,
};
use crate::domain::catalog::{Price, PriceFields, Product, ProductFields};

#[derive(sqlx::FromRow)]
struct ProductRow {
    product_id: Uuid,
    organization_id: Uuid,
    environment: String,
    name: String,
    description: Option<String>,
    image_url: Option<String>,
    is_active: bool,
    metadata: Option<Json<Map<String, Value>>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

fn corrupt(table: &str, column: &str, value: &dyn std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{table}.{column} = {value:?}"))
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;

    fn try_from(r: ProductRow) -> Result<Product, StoreError> {
        Ok(Product {
            id: r.product_id,
            organization_id: r.organization_id,
            environment: r
                .environment
                .parse()
                .map_err(|_| corrupt("products", "environment", &r.environment))?,
            fields: ProductFields {
                name: r.name,
                description: r.description,
                image_url: r.image_url,
                is_active: r.is_active,
                metadata: r.metadata.map(|j| j.0),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PriceRow {
    price_id: Uuid,
    organization_id: Uuid,
    environment: String,
    product_id: Uuid,
    pricing_model: String,
    amount: Option<i64>,
    currency_code: String,
    minimum_amount: Option<i64>,
    maximum_amount: Option<i64>,
    is_default: bool,
    is_active: bool,
    metadata: Option<Json<Map<String, Value>>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<PriceRow> for Price {
    type Error = StoreError;

    fn try_from(r: PriceRow) -> Result<Price, StoreError> {
        Ok(Price {
            id: r.price_id,
            organization_id: r.organization_id,
            environment: r
                .environment
                .parse()
                .map_err(|_| corrupt("prices", "environment", &r.environment))?,
            fields: PriceFields {
                product_id: r.product_id,
                pricing_model: r
                    .pricing_model
                    .parse()
                    .map_err(|_| corrupt("prices", "pricing_model", &r.pricing_model))?,
                amount: r.amount,
                currency: r
                    .currency_code
                    .parse()
                    .map_err(|_| corrupt("prices", "currency_code", &r.currency_code))?,
                minimum_amount: r.minimum_amount,
                maximum_amount: r.maximum_amount,
                is_default: r.is_default,
                is_active: r.is_active,
                metadata: r.metadata.map(|j| j.0),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

macro_rules! product_columns {
    () => {
        "product_id, organization_id, environment, name, description, image_url, is_active, \
         metadata, created_at, updated_at, deleted_at"
    };
}

macro_rules! price_columns {
    () => {
        "price_id, organization_id, environment, product_id, pricing_model, amount, \
         currency_code, minimum_amount, maximum_amount, is_default, is_active, metadata, \
         created_at, updated_at, deleted_at"
    };
}

/// Binds a product's writable fields, `name` to `metadata`: five values.
macro_rules! bind_product {
    ($query:expr, $f:expr) => {{
        let f: &ProductFields = $f;
        $query
            .bind(f.name.clone())
            .bind(f.description.clone())
            .bind(f.image_url.clone())
            .bind(f.is_active)
            .bind(f.metadata.clone().map(Json))
    }};
}

/// Binds a price's writable fields but its product, `pricing_model` to `metadata`: eight
/// values.
macro_rules! bind_price {
    ($query:expr, $f:expr) => {{
        let f: &PriceFields = $f;
        $query
            .bind(f.pricing_model.as_str())
            .bind(f.amount)
            .bind(f.currency.code())
            .bind(f.minimum_amount)
            .bind(f.maximum_amount)
            .bind(f.is_default)
            .bind(f.is_active)
            .bind(f.metadata.clone().map(Json))
    }};
}

/// Locks a product's row until `$tx` ends (PostgreSQL; SQLite's one writer already
/// serializes), so two prices made the default at once take turns. False when there is no such
/// product, or it is deleted.
macro_rules! lock_product {
    ($tx:expr, $d:expr, $product_id:expr) => {{
        let select = sql(
            $d,
            "SELECT product_id FROM products WHERE product_id = $1 AND deleted_at IS NULL",
            "SELECT product_id FROM products WHERE product_id = $1 AND deleted_at IS NULL \
             FOR UPDATE",
        );
        let found: Option<(Uuid,)> = sqlx::query_as(select)
            .bind($product_id)
            .fetch_optional(&mut *$tx)
            .await?;
        found.is_some()
    }};
}

/// Takes the default mark off a product's prices other than `$keep`, inside `$tx`.
macro_rules! clear_default {
    ($tx:expr, $product_id:expr, $keep:expr) => {
        sqlx::query(
            "UPDATE prices SET is_default = FALSE WHERE product_id = $1 AND price_id <> $2 \
             AND is_default",
        )
        .bind($product_id)
        .bind($keep)
        .execute(&mut *$tx)
        .await?
    };
}

impl Store {
    pub async fn insert_product(&self, p: &Product) -> StoreResult<()> {
        let insert = concat!(
            "INSERT INTO products (",
            product_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        on_pool!(self, write, |pool, d| {
            bind_product!(
                sqlx::query(insert)
                    .bind(p.id)
                    .bind(p.organization_id)
                    .bind(p.environment.as_str()),
                &p.fields
            )
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(p.deleted_at)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// A product by id, whatever its organization, deleted or not.
    pub async fn product(&self, id: Uuid) -> StoreResult<Option<Product>> {
        let select = select_rows!(product_columns, "products", "WHERE product_id = $1");
        read_optional!(self, ProductRow, select, id)
    }

    pub async fn list_products(&self, q: &OwnedPage) -> StoreResult<(Vec<Product>, i64)> {
        let page = ordered!(
            q.sort,
            select_rows!(
                product_columns,
                "products",
                "WHERE organization_id = $1 AND environment = $2 AND deleted_at IS NULL"
            ),
            "product_id",
            "LIMIT $3 OFFSET $4"
        );
        let count = "SELECT COUNT(*) FROM products WHERE organization_id = $1 \
                     AND environment = $2 AND deleted_at IS NULL";
        read_page!(
            self,
            ProductRow,
            page,
            count,
            [q.organization_id, q.environment.as_str()],
            q.limit,
            q.offset
        )
    }

    /// Writes a product's fields and `updated_at`; `None` when it was deleted meanwhile.
    pub async fn update_product(&self, p: &Product) -> StoreResult<Option<Product>> {
        let update = concat!(
            "UPDATE products SET name = $2, description = $3, image_url = $4, is_active = $5, \
             metadata = $6, updated_at = $7 WHERE product_id = $1 AND deleted_at IS NULL \
             RETURNING ",
            product_columns!()
        );
        let row: Option<ProductRow> = on_pool!(self, write, |pool, d| {
            bind_product!(sqlx::query_as(update).bind(p.id), &p.fields)
                .bind(p.updated_at)
                .fetch_optional(&mut *pool)
                .await?
        });
        row.map(Product::try_from).transpose()
    }

    /// Deletes a product as the API sees it, and its prices with it. False when it was
    /// already deleted.
    pub async fn delete_product(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let deleted = on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query(
                "UPDATE products SET is_active = FALSE, deleted_at = $2, updated_at = $2 \
                 WHERE product_id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE prices SET is_active = FALSE, is_default = FALSE, deleted_at = $2, \
                 updated_at = $2 WHERE product_id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            deleted
        });
        Ok(deleted == 1)
    }

    /// Inserts a price; when it is the default, the product's other prices stop being it, in
    /// the same transaction. False when its product was deleted meanwhile.
    pub async fn insert_price(&self, p: &Price) -> StoreResult<bool> {
        let insert = concat!(
            "INSERT INTO prices (",
            price_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        );
        let inserted = on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            if !lock_product!(tx, d, p.fields.product_id) {
                return Ok(false);
            }
            if p.fields.is_default {
                clear_default!(tx, p.fields.product_id, p.id);
            }
            bind_price!(
                sqlx::query(insert)
                    .bind(p.id)
                    .bind(p.organization_id)
                    .bind(p.environment.as_str())
                    .bind(p.fields.product_id),
                &p.fields
            )
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(p.deleted_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            true
        });
        Ok(inserted)
    }

    /// A price by id, whatever its organization, deleted or not.
    pub async fn price(&self, id: Uuid) -> StoreResult<Option<Price>> {
        let select = select_rows!(price_columns, "prices", "WHERE price_id = $1");
        read_optional!(self, PriceRow, select, id)
    }

    /// The default price of a product, if it has one (deleted prices are never it).
    pub async fn default_price(&self, product_id: Uuid) -> StoreResult<Option<Price>> {
        let select = select_rows!(
            price_columns,
            "prices",
            "WHERE product_id = $1 AND is_default AND deleted_at IS NULL"
        );
        read_optional!(self, PriceRow, select, product_id)
    }

    pub async fn list_prices(&self, q: &OwnedPage) -> StoreResult<(Vec<Price>, i64)> {
        let page = ordered!(
            q.sort,
            select_rows!(
                price_columns,
                "prices",
                "WHERE organization_id = $1 AND environment = $2 AND deleted_at IS NULL"
            ),
            "price_id",
            "LIMIT $3 OFFSET $4"
        );
        let count = "SELECT COUNT(*) FROM prices WHERE organization_id = $1 \
                     AND environment = $2 AND deleted_at IS NULL";
        read_page!(
            self,
            PriceRow,
            page,
            count,
            [q.organization_id, q.environment.as_str()],
            q.limit,
            q.offset
        )
    }

    /// Writes a price's fields and `updated_at` (its product never changes), taking the default
    /// from the product's other prices when it becomes it. `None` when it was deleted meanwhile.
    pub async fn update_price(&self, p: &Price) -> StoreResult<Option<Price>> {
        let update = concat!(
            "UPDATE prices SET pricing_model = $2, amount = $3, currency_code = $4, \
             minimum_amount = $5, maximum_amount = $6, is_default = $7, is_active = $8, \
             metadata = $9, updated_at = $10 WHERE price_id = $1 AND deleted_at IS NULL \
             RETURNING ",
            price_columns!()
        );
        let row: Option<PriceRow> = on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            if !lock_product!(tx, d, p.fields.product_id) {
                return Ok(None);
            }
            if p.fields.is_default {
                clear_default!(tx, p.fields.product_id, p.id);
            }
            let row = bind_price!(sqlx::query_as(update).bind(p.id), &p.fields)
                .bind(p.updated_at)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        row.map(Price::try_from).transpose()
    }

    /// Deletes a price as the API sees it. False when it was already deleted.
    pub async fn delete_price(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let deleted = changed!(
            self,
            "UPDATE prices SET is_active = FALSE, is_default = FALSE, deleted_at = $2, \
             updated_at = $2 WHERE price_id = $1 AND deleted_at IS NULL",
            id,
            now
        );
        Ok(deleted == 1)
    }
}
