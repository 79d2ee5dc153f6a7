//! The coupon as the API shows it: one type from which both the JSON a response carries and the
//! `DiscountCoupons` schema of the OpenAPI document come. The create and update bodies are this
//! schema's writable properties (see `web::api::doc`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Coupon, Discount, DiscountType, Percentage};
use crate::domain::money::Currency;
use crate::domain::session::Environment;
use crate::domain::time;

/// A discount coupon: a code customers type on the checkout page for a percentage or a fixed amount
/// off the subtotal. Every field is always present in a response; absent values are null. A coupon
/// applies when it is active, inside its dates, has uses left, the session's quantity is at most
/// `max_quantity_per_use`, and the session is in its currency (if it has one), of the same
/// organization and environment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DiscountCoupons)]
pub struct CouponView<'a> {
    /// Unique identifier, a UUID v4 made by the server.
    pub coupon_id: Uuid,
    /// The organization of the API key.
    pub organization_id: Uuid,
    /// From the API key. A coupon applies only to sessions of its own environment, and a key sees
    /// only coupons of its own.
    #[schema(inline)]
    pub environment: Environment,
    /// What the customer types: 1 to 40 letters A-Z, digits, `-` or `_`. Read case-insensitively
    /// (surrounding spaces dropped) and returned upper case. Unique per organization and environment
    /// among coupons not deleted: `noel10` and `NOEL10` are one code (409 `coupon_code_taken`).
    #[schema(
        min_length = 1,
        max_length = 40,
        example = "NOEL10",
        pattern = "^[A-Z0-9_-]{1,40}$"
    )]
    pub code: &'a str,
    /// A share of the subtotal (`discount_percentage`) or an amount off (`discount_fixed_amount` in
    /// `currency_code`).
    #[schema(inline)]
    pub discount_type: DiscountType,
    /// Required for a `percentage` coupon, null for a `fixed` one. Greater than 0, at most 100, with
    /// at most two decimals (12.5 and 12.25 are accepted, 12.345 is 422); kept exactly, as hundredths
    /// of a percent. The discount is `subtotal × percentage / 100` in the currency's smallest unit,
    /// rounded to the nearest unit, halves up (10 % of 995 F CFA is 100 F CFA).
    #[schema(value_type = Option<f64>, maximum = 100, example = 12.5, exclusive_minimum = 0)]
    pub discount_percentage: Option<Percentage>,
    /// Required for a `fixed` coupon, null for a `percentage` one: the amount off the session's
    /// subtotal, once per session whatever the quantity, in the smallest unit of `currency_code`. A
    /// discount never exceeds the subtotal.
    #[schema(minimum = 1, maximum = 1e12, example = 1000)]
    pub discount_fixed_amount: Option<i64>,
    /// The only currency the coupon applies in. Required for a `fixed` coupon (its amount means
    /// something in one currency only); optional for a `percentage` coupon, which applies in every
    /// currency when it is null. Read case-insensitively.
    #[schema(inline)]
    pub currency_code: Option<Currency>,
    /// How many completed sessions may use the coupon; null is unlimited. Setting it to
    /// `current_uses` or below ends the coupon.
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses: Option<i64>,
    /// Completed sessions that used the coupon. Counted when a session completes, atomically, so
    /// `max_uses` holds under concurrent checkouts; a session that applies the coupon but is never
    /// paid does not count.
    #[schema(minimum = 0)]
    pub current_uses: i64,
    /// The largest session quantity the coupon applies to; null is any.
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_quantity_per_use: Option<i64>,
    /// When the coupon starts to apply (RFC 3339; without an offset, UTC). Null: from its creation.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub valid_from: Option<DateTime<Utc>>,
    /// When the coupon stops applying; null: never. After `valid_from`, and in the future when it is
    /// set.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Switch the coupon off (and on again) without deleting it.
    #[schema(default = true)]
    pub is_active: bool,
    /// The merchant's note, up to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub description: Option<&'a str>,
    /// When the coupon was created (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When the coupon last changed (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl Coupon {
    /// The API representation: every field by its exact name.
    pub fn view(&self) -> CouponView<'_> {
        let f = &self.fields;
        let (discount_percentage, discount_fixed_amount) = match f.discount {
            Discount::Percentage { percentage, .. } => (Some(percentage), None),
            Discount::Fixed { amount, .. } => (None, Some(amount)),
        };
        CouponView {
            coupon_id: self.id,
            organization_id: self.organization_id,
            environment: self.environment,
            code: f.code.as_str(),
            discount_type: f.discount.kind(),
            discount_percentage,
            discount_fixed_amount,
            currency_code: f.discount.currency(),
            max_uses: f.max_uses,
            current_uses: self.current_uses,
            max_quantity_per_use: f.max_quantity_per_use,
            valid_from: f.valid_from,
            expires_at: f.expires_at,
            is_active: f.is_active,
            description: f.description.as_deref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The writable fields as the API shows them: the base a patch is laid over.
    pub fn writable_json(&self) -> Map<String, Value> {
        let Ok(Value::Object(mut all)) = serde_json::to_value(self.view()) else {
            unreachable!("a coupon view is a JSON object");
        };
        all.retain(|k, _| super::WRITABLE.contains(&k.as_str()));
        all
    }
}

impl Serialize for Percentage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}
