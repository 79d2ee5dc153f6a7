//! Discount coupons.
//!
//! `current_uses` is never written here: it belongs to the completion of a session, which counts
//! a use with one conditional `UPDATE` so `max_uses` holds under concurrent checkouts. A deleted
//! coupon keeps its row (inactive, `deleted_at` set) for the sessions that reference it; every
//! read but [`Store::coupon`] leaves it out.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Store, StoreError, StoreResult, changed, on_pool, ordered, read_optional, read_page,
    select_rows, taken,
};
use crate::domain::coupon::{Coupon, CouponCode, CouponFields, Discount, Percentage};
use crate::domain::session::Environment;

/// One page of an organization's coupons in one environment.
pub type CouponListQuery = super::OwnedPage;

#[derive(sqlx::FromRow)]
struct CouponRow {
    coupon_id: Uuid,
    organization_id: Uuid,
    environment: String,
    code: String,
    discount_type: String,
    discount_basis_points: Option<i64>,
    discount_fixed_amount: Option<i64>,
    currency_code: Option<String>,
    max_uses: Option<i64>,
    max_quantity_per_use: Option<i64>,
    valid_from: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    is_active: bool,
    description: Option<String>,
    current_uses: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<CouponRow> for Coupon {
    type Error = StoreError;

    fn try_from(r: CouponRow) -> Result<Coupon, StoreError> {
        let corrupt = |column: &str, value: &dyn std::fmt::Debug| {
            StoreError::Corrupt(format!("discount_coupons.{column} = {value:?}"))
        };
        let currency = r
            .currency_code
            .as_deref()
            .map(|c| c.parse().map_err(|_| corrupt("currency_code", &c)))
            .transpose()?;
        let discount = match (r.discount_type.as_str(), currency) {
            ("percentage", currency) => Discount::Percentage {
                percentage: r
                    .discount_basis_points
                    .and_then(Percentage::from_basis_points)
                    .ok_or_else(|| corrupt("discount_basis_points", &r.discount_basis_points))?,
                currency,
            },
            ("fixed", Some(currency)) => Discount::Fixed {
                amount: r
                    .discount_fixed_amount
                    .ok_or_else(|| corrupt("discount_fixed_amount", &r.discount_fixed_amount))?,
                currency,
            },
            (kind, _) => return Err(corrupt("discount_type", &kind)),
        };
        Ok(Coupon {
            id: r.coupon_id,
            organization_id: r.organization_id,
            environment: r
                .environment
                .parse()
                .map_err(|_| corrupt("environment", &r.environment))?,
            fields: CouponFields {
                code: CouponCode::parse(&r.code).map_err(|_| corrupt("code", &r.code))?,
                discount,
                max_uses: r.max_uses,
                max_quantity_per_use: r.max_quantity_per_use,
                valid_from: r.valid_from,
                expires_at: r.expires_at,
                is_active: r.is_active,
                description: r.description,
            },
            current_uses: r.current_uses,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

/// Every column of `discount_coupons`; the writable fields come in the order [`bind_fields`]
/// binds them.
macro_rules! coupon_columns {
    () => {
        "coupon_id, organization_id, environment, code, discount_type, discount_basis_points, \
         discount_fixed_amount, currency_code, max_uses, max_quantity_per_use, valid_from, \
         expires_at, is_active, description, current_uses, created_at, updated_at, deleted_at"
    };
}

/// Binds the merchant-writable fields, from `code` to `description` in [`coupon_columns`]:
/// eleven values.
macro_rules! bind_fields {
    ($query:expr, $f:expr) => {{
        let f: &CouponFields = $f;
        let (basis_points, fixed_amount) = match f.discount {
            Discount::Percentage { percentage, .. } => (Some(percentage.basis_points()), None),
            Discount::Fixed { amount, .. } => (None, Some(amount)),
        };
        $query
            .bind(f.code.as_str().to_string())
            .bind(f.discount.kind().as_str())
            .bind(basis_points)
            .bind(fixed_amount)
            .bind(f.discount.currency().map(|c| c.code()))
            .bind(f.max_uses)
            .bind(f.max_quantity_per_use)
            .bind(f.valid_from)
            .bind(f.expires_at)
            .bind(f.is_active)
            .bind(f.description.clone())
    }};
}

/// What a unique violation on `discount_coupons` means: the primary key is a fresh UUID v4, so
/// it is the code.
const CODE: &str = "code";

impl Store {
    /// Inserts a new coupon. `Conflict("code")` means the organization already has a coupon
    /// with this code in this environment.
    pub async fn insert_coupon(&self, coupon: &Coupon) -> StoreResult<()> {
        let insert = concat!(
            "INSERT INTO discount_coupons (",
            coupon_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18)"
        );
        on_pool!(self, write, |pool, d| {
            bind_fields!(
                sqlx::query(insert)
                    .bind(coupon.id)
                    .bind(coupon.organization_id)
                    .bind(coupon.environment.as_str()),
                &coupon.fields
            )
            .bind(coupon.current_uses)
            .bind(coupon.created_at)
            .bind(coupon.updated_at)
            .bind(coupon.deleted_at)
            .execute(&mut *pool)
            .await
            .map_err(|e| taken(e, CODE))?;
        });
        Ok(())
    }

    /// A coupon by id, whatever its organization, deleted or not: a session that used it can
    /// always read it back. The API checks the organization and hides deleted coupons itself.
    pub async fn coupon(&self, id: Uuid) -> StoreResult<Option<Coupon>> {
        let select = select_rows!(coupon_columns, "discount_coupons", "WHERE coupon_id = $1");
        read_optional!(self, CouponRow, select, id)
    }

    /// The coupon a customer's code names in an organization and environment, read
    /// case-insensitively (`noel10` finds `NOEL10`); deleted coupons are not found. A code that
    /// cannot be a coupon code finds nothing.
    pub async fn coupon_by_code(
        &self,
        organization_id: Uuid,
        environment: Environment,
        code: &str,
    ) -> StoreResult<Option<Coupon>> {
        let Ok(code) = CouponCode::parse(code) else {
            return Ok(None);
        };
        let select = select_rows!(
            coupon_columns,
            "discount_coupons",
            "WHERE organization_id = $1 AND environment = $2 \
             AND code = $3 AND deleted_at IS NULL"
        );
        read_optional!(
            self,
            CouponRow,
            select,
            organization_id,
            environment.as_str(),
            code.as_str()
        )
    }

    /// A page of coupons that are not deleted, and how many there are in all.
    pub async fn list_coupons(&self, q: &CouponListQuery) -> StoreResult<(Vec<Coupon>, i64)> {
        let page = ordered!(
            q.sort,
            select_rows!(
                coupon_columns,
                "discount_coupons",
                "WHERE organization_id = $1 AND environment = $2 AND deleted_at IS NULL"
            ),
            "coupon_id",
            "LIMIT $3 OFFSET $4"
        );
        let count = "SELECT COUNT(*) FROM discount_coupons WHERE organization_id = $1 \
                     AND environment = $2 AND deleted_at IS NULL";
        read_page!(
            self,
            CouponRow,
            page,
            count,
            [q.organization_id, q.environment.as_str()],
            q.limit,
            q.offset
        )
    }

    /// Writes the merchant's fields and `updated_at` of a coupon that is not deleted, and
    /// returns it as stored (with the `current_uses` of this instant). `None` when it was
    /// deleted meanwhile; `Conflict("code")` when the new code is another coupon's.
    pub async fn update_coupon(&self, coupon: &Coupon) -> StoreResult<Option<Coupon>> {
        let update = concat!(
            "UPDATE discount_coupons SET code = $2, discount_type = $3, \
             discount_basis_points = $4, discount_fixed_amount = $5, currency_code = $6, \
             max_uses = $7, max_quantity_per_use = $8, valid_from = $9, expires_at = $10, \
             is_active = $11, description = $12, updated_at = $13 \
             WHERE coupon_id = $1 AND deleted_at IS NULL RETURNING ",
            coupon_columns!()
        );
        let row: Option<CouponRow> = on_pool!(self, write, |pool, d| {
            bind_fields!(sqlx::query_as(update).bind(coupon.id), &coupon.fields)
                .bind(coupon.updated_at)
                .fetch_optional(&mut *pool)
                .await
                .map_err(|e| taken(e, CODE))?
        });
        row.map(Coupon::try_from).transpose()
    }

    /// Deletes a coupon as the API sees it: inactive, `deleted_at` set, its code free again,
    /// its row kept. False when it was already deleted.
    pub async fn delete_coupon(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let deleted = changed!(
            self,
            "UPDATE discount_coupons SET is_active = FALSE, deleted_at = $2, updated_at = $2 \
             WHERE coupon_id = $1 AND deleted_at IS NULL",
            id,
            now
        );
        Ok(deleted == 1)
    }
}
