//! Discount coupons: a code a customer types on the checkout page for a percentage or a fixed
//! amount off, within limits the merchant sets (dates, uses, quantity, currency).
//!
//! A request body is checked in one place, [`CouponFields::parse`], for a create and an update
//! alike, as sessions are. [`Coupon::check`] says whether a coupon may apply to a session and
//! [`Coupon::discount`] what it takes off, in integers of the currency's smallest unit.
//!
//! Percentages are kept in basis points (hundredths of a percent), so `12.5` is `1250` and no
//! float ever touches money: a percentage discount is `subtotal × basis points / 10 000`, rounded
//! to the nearest smallest unit, halves up (10 % of 995 F is 100 F).

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};
use uuid::Uuid;

use super::fields::{Field, FieldError, FieldResult, kind};
use super::money::{Currency, MAX_AMOUNT};
use super::session::Environment;
use super::time;

pub const MAX_CODE: usize = 40;
pub const MAX_DESCRIPTION: usize = 500;
/// The largest `max_uses` and `max_quantity_per_use`: far above any real campaign, and a bound
/// that keeps the numbers sane.
pub const MAX_LIMIT: i64 = 1_000_000_000;

/// A coupon code: 1 to 40 of `A-Z 0-9 - _`, read case-insensitively and kept upper case, so
/// `noel10` and `NOEL10` are one code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CouponCode(String);

impl CouponCode {
    /// Trims the surrounding spaces a customer may type and upper-cases the rest.
    pub fn parse(s: &str) -> Result<CouponCode, String> {
        let code = s.trim().to_ascii_uppercase();
        let allowed =
            |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
        if code.is_empty() || code.len() > MAX_CODE || !code.bytes().all(allowed) {
            return Err(format!(
                "must be 1 to {MAX_CODE} letters A-Z, digits, - or _ (e.g. NOEL10)"
            ));
        }
        Ok(CouponCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CouponCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A percentage from 0.01 to 100, in basis points (1 to 10 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentage(u16);

impl Percentage {
    pub const FULL: i64 = 10_000;

    pub fn from_basis_points(bp: i64) -> Option<Percentage> {
        u16::try_from(bp)
            .ok()
            .filter(|&bp| bp >= 1 && i64::from(bp) <= Self::FULL)
            .map(Percentage)
    }

    pub fn basis_points(self) -> i64 {
        i64::from(self.0)
    }

    /// As the API prints it: `10` for 10 %, `12.5` for 12.5 %.
    pub fn to_json(self) -> Value {
        let bp = self.basis_points();
        if bp % 100 == 0 {
            Value::from(bp / 100)
        } else {
            // Exact enough: a two-decimal number prints back as itself.
            Number::from_f64(bp as f64 / 100.0).map_or(Value::Null, Value::Number)
        }
    }
}

string_enum!(
    /// The kinds of [`Discount`], as the API names them.
    DiscountType { Percentage = "percentage", Fixed = "fixed" }
);

/// What a coupon takes off, and in which currency it may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// A share of the subtotal; `currency`, when set, limits the coupon to sessions in it.
    Percentage {
        percentage: Percentage,
        currency: Option<Currency>,
    },
    /// An amount in the smallest unit of `currency`, which only means something in that currency.
    Fixed { amount: i64, currency: Currency },
}

impl Discount {
    pub fn kind(&self) -> DiscountType {
        match self {
            Discount::Percentage { .. } => DiscountType::Percentage,
            Discount::Fixed { .. } => DiscountType::Fixed,
        }
    }

    /// The only currency the coupon applies in, if it is limited to one.
    pub fn currency(&self) -> Option<Currency> {
        match *self {
            Discount::Percentage { currency, .. } => currency,
            Discount::Fixed { currency, .. } => Some(currency),
        }
    }
}

/// What the merchant may set on a coupon, each value already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponFields {
    pub code: CouponCode,
    pub discount: Discount,
    /// `None`: unlimited.
    pub max_uses: Option<i64>,
    /// The largest session quantity the coupon applies to; `None`: any.
    pub max_quantity_per_use: Option<i64>,
    /// `None`: valid from its creation.
    pub valid_from: Option<DateTime<Utc>>,
    /// `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub description: Option<String>,
}

/// The merchant-writable fields, by their JSON names.
pub const WRITABLE: &[&str] = &[
    "code",
    "discount_type",
    "discount_percentage",
    "discount_fixed_amount",
    "currency_code",
    "max_uses",
    "max_quantity_per_use",
    "valid_from",
    "expires_at",
    "is_active",
    "description",
];

/// Fields the server sets; a request may not.
pub const READ_ONLY: &[&str] = &[
    "coupon_id",
    "organization_id",
    "environment",
    "current_uses",
    "created_at",
    "updated_at",
];

impl CouponFields {
    /// Checks a whole set of fields. `body` holds JSON values by field name; an absent or `null`
    /// field takes its default, or is an error when the field is required. Every violation is
    /// reported, each naming its field. `expires_after`, when given, is a time `expires_at` must
    /// be later than: the current time on a create, and on an update that sets `expires_at` (an
    /// update of something else must stay possible on a coupon that has expired).
    pub fn parse(
        body: &Map<String, Value>,
        expires_after: Option<DateTime<Utc>>,
    ) -> Result<CouponFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let read = |name: &'static str| -> Option<Field<'_>> {
            body.get(name)
                .filter(|v| !v.is_null())
                .map(|v| Field::new(name, v))
        };
        macro_rules! optional {
            ($name:literal, $parse:expr) => {
                match read($name).map($parse).transpose() {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            };
        }

        let code = optional!("code", |f| CouponCode::parse(f.str()?)
            .map_err(|e| f.error(e)));
        let kind = optional!("discount_type", |f| f
            .str()?
            .parse::<DiscountType>()
            .map_err(|e| f.error(e)));
        let percentage = optional!("discount_percentage", parse_percentage);
        let fixed_amount = optional!("discount_fixed_amount", |f| f
            .integer_in(1, MAX_AMOUNT)
            .map_err(|_| f.error(format!(
                "must be a whole number of the currency's smallest unit, from 1 to {MAX_AMOUNT}"
            ))));
        let currency: Option<Currency> = optional!("currency_code", |f| f
            .str()?
            .parse()
            .map_err(|_| f.error("must be one of XOF, XAF, USD, EUR")));
        let max_uses = optional!("max_uses", |f| f.integer_in(1, MAX_LIMIT));
        let max_quantity_per_use =
            optional!("max_quantity_per_use", |f| f.integer_in(1, MAX_LIMIT));
        let valid_from = optional!("valid_from", |f| f.datetime().map(time::truncate));
        let expires_at = optional!("expires_at", |f| {
            let t = time::truncate(f.datetime()?);
            match expires_after {
                Some(now) if t <= now => Err(f.error("must be in the future")),
                _ => Ok(t),
            }
        });
        let is_active = optional!("is_active", |f| f.bool()).unwrap_or(true);
        let description = optional!("description", |f| f.text(MAX_DESCRIPTION));

        let named = |errors: &[FieldError], name: &str| errors.iter().any(|e| e.field == name);
        let require = |errors: &mut Vec<FieldError>, name: &str, present: bool, why: &str| {
            if !present && !named(errors, name) {
                errors.push(FieldError::new(name, why));
            }
        };
        require(&mut errors, "code", code.is_some(), "is required");
        require(&mut errors, "discount_type", kind.is_some(), "is required");
        let present = |name: &str| body.get(name).is_some_and(|v| !v.is_null());
        let discount = match kind {
            Some(DiscountType::Percentage) => {
                require(
                    &mut errors,
                    "discount_percentage",
                    percentage.is_some(),
                    "is required for a percentage coupon",
                );
                percentage.map(|percentage| Discount::Percentage {
                    percentage,
                    currency,
                })
            }
            Some(DiscountType::Fixed) => {
                require(
                    &mut errors,
                    "discount_fixed_amount",
                    fixed_amount.is_some(),
                    "is required for a fixed coupon",
                );
                require(
                    &mut errors,
                    "currency_code",
                    currency.is_some(),
                    "is required for a fixed coupon: the amount is in that currency",
                );
                fixed_amount
                    .zip(currency)
                    .map(|(amount, currency)| Discount::Fixed { amount, currency })
            }
            None => None,
        };
        // A coupon has its kind's amount only: the other kind's must be null.
        let other = match kind {
            Some(DiscountType::Percentage) => Some("discount_fixed_amount"),
            Some(DiscountType::Fixed) => Some("discount_percentage"),
            None => None,
        };
        if let (Some(kind), Some(other)) = (kind, other)
            && present(other)
            && !named(&errors, other)
        {
            let why = format!("must be null for a {kind} coupon");
            errors.push(FieldError::new(other, why));
        }
        if let (Some(from), Some(until)) = (valid_from, expires_at)
            && until <= from
        {
            errors.push(FieldError::new("expires_at", "must be after valid_from"));
        }

        match (errors.is_empty(), code, discount) {
            (true, Some(code), Some(discount)) => Ok(CouponFields {
                code,
                discount,
                max_uses,
                max_quantity_per_use,
                valid_from,
                expires_at,
                is_active,
                description,
            }),
            _ => Err(errors),
        }
    }
}

/// A number from 0.01 to 100 with at most two decimals, as basis points.
fn parse_percentage(f: Field<'_>) -> FieldResult<Percentage> {
    let Value::Number(n) = f.value else {
        return Err(f.error(format!("must be a number, not {}", kind(f.value))));
    };
    // The float only carries the JSON number across the edge; it becomes an integer here. A
    // number with at most two decimals is exactly the double nearest to `bp / 100`, which is
    // what `bp as f64 / 100.0` computes, so the comparison below is exact, not approximate.
    let p = n.as_f64().unwrap_or(f64::NAN);
    if !(p > 0.0 && p <= 100.0) {
        return Err(f.error("must be greater than 0 and at most 100"));
    }
    let bp = (p * 100.0).round();
    if bp / 100.0 != p {
        return Err(f.error("must have at most two decimals (12.5 and 12.25 are, 12.345 is not)"));
    }
    Percentage::from_basis_points(bp as i64)
        .ok_or_else(|| f.error("must be greater than 0 and at most 100"))
}

/// A coupon as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: Environment,
    pub fields: CouponFields,
    /// Completed sessions that used it; counted only at completion, atomically.
    pub current_uses: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by `DELETE`: the coupon is gone from the API and its code free again, but the record
    /// stays (inactive) for the sessions that used it.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Why a coupon does not apply. Each has a stable code for the page's messages and for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No coupon has this code in the session's organization and environment. Found by the
    /// lookup, never by [`Coupon::check`]; here so the page has one set of reasons.
    NotFound,
    /// Switched off by the merchant, or deleted.
    Inactive,
    NotYetValid,
    Expired,
    /// `max_uses` completed sessions have used it.
    UsedUp,
    /// The session's quantity is above `max_quantity_per_use`.
    QuantityTooHigh {
        max: i64,
    },
    /// The coupon is limited to another currency than the session's.
    WrongCurrency,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Rejection::NotFound => "coupon_not_found",
            Rejection::Inactive => "coupon_inactive",
            Rejection::NotYetValid => "coupon_not_yet_valid",
            Rejection::Expired => "coupon_expired",
            Rejection::UsedUp => "coupon_used_up",
            Rejection::QuantityTooHigh { .. } => "coupon_quantity_too_high",
            Rejection::WrongCurrency => "coupon_wrong_currency",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotFound => f.write_str("no coupon has this code"),
            Rejection::Inactive => f.write_str("this coupon is not active"),
            Rejection::NotYetValid => f.write_str("this coupon is not valid yet"),
            Rejection::Expired => f.write_str("this coupon has expired"),
            Rejection::UsedUp => f.write_str("this coupon has been used as often as it may be"),
            Rejection::QuantityTooHigh { max } => {
                write!(f, "this coupon applies to a quantity of at most {max}")
            }
            Rejection::WrongCurrency => f.write_str("this coupon is for another currency"),
        }
    }
}

impl Coupon {
    /// Whether this coupon may apply to a session of `currency`, `quantity`, at `now`
    /// (organization/environment matching is done by the lookup). The first reason found is
    /// given, in the order a customer can do least about: switched off, dates, uses, currency,
    /// quantity.
    pub fn check(
        &self,
        currency: Currency,
        quantity: i64,
        now: DateTime<Utc>,
    ) -> Result<(), Rejection> {
        let f = &self.fields;
        if !f.is_active || self.deleted_at.is_some() {
            return Err(Rejection::Inactive);
        }
        if f.valid_from.is_some_and(|from| now < from) {
            return Err(Rejection::NotYetValid);
        }
        if f.expires_at.is_some_and(|until| now >= until) {
            return Err(Rejection::Expired);
        }
        if f.max_uses.is_some_and(|max| self.current_uses >= max) {
            return Err(Rejection::UsedUp);
        }
        if f.discount.currency().is_some_and(|c| c != currency) {
            return Err(Rejection::WrongCurrency);
        }
        if let Some(max) = f.max_quantity_per_use
            && quantity > max
        {
            return Err(Rejection::QuantityTooHigh { max });
        }
        Ok(())
    }

    /// The discount on `subtotal` (smallest unit), never more than the subtotal, never
    /// negative. A percentage is rounded to the nearest smallest unit, halves up; a fixed amount
    /// is taken off once per session, whatever the quantity. The currency is [`Coupon::check`]'s
    /// business, not this one's.
    pub fn discount(&self, subtotal: i64) -> i64 {
        if subtotal <= 0 {
            return 0;
        }
        let discount = match self.fields.discount {
            Discount::Percentage { percentage, .. } => {
                let full = i128::from(Percentage::FULL);
                let share = (i128::from(subtotal) * i128::from(percentage.basis_points())
                    + full / 2)
                    / full;
                // At most the subtotal, since the percentage is at most 100.
                i64::try_from(share).unwrap_or(subtotal)
            }
            Discount::Fixed { amount, .. } => amount,
        };
        discount.clamp(0, subtotal)
    }
}

#[cfg(test)]
impl Coupon {
    /// A test coupon of a new organization made of the fields of `fields`, for unit tests.
    pub(crate) fn sample(fields: Value) -> Coupon {
        let now = super::time::now();
        Coupon {
            id: Uuid::new_v4(),
            organization_id: Uuid::new_v4(),
            environment: Environment::Test,
            fields: CouponFields::parse(fields.as_object().unwrap(), None).unwrap(),
            current_uses: 0,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        }
    }
}

mod view;
pub use view::CouponView;

#[cfg(test)]
mod tests;
