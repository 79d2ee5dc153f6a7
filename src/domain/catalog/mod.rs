//! The catalog: products a merchant sells and their prices, with lomi's field names. A session
//! (or a payment link) made from a price takes its amount, currency and title from it.
//!
//! A price is `standard` (one amount) or `pay_what_you_want` (the customer chooses an amount
//! between `minimum_amount` and `maximum_amount`; `amount`, when set, is the one suggested).
//! [`Price::amount_for`] is the one rule of which amounts a price allows. A product has at most
//! one default price, the one a session or link naming only the product uses.
//!
//! Bodies are checked in one place per resource ([`ProductFields::parse`],
//! [`PriceFields::parse`]) for a create and an update alike: an update is the stored fields with
//! the patch laid over them, checked whole.

mod view;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::{Field, FieldError, Reader};
use super::money::{Currency, MAX_AMOUNT};
use super::session::{Environment, MAX_DESCRIPTION, MAX_TITLE, parse_metadata, parse_url};

pub use view::{PriceView, ProductView};

string_enum!(
    /// How a price says what the customer pays.
    PricingModel { Standard = "standard", PayWhatYouWant = "pay_what_you_want" }
);

/// What the merchant may set on a product, each value already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFields {
    pub name: String,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub is_active: bool,
    pub metadata: Option<Map<String, Value>>,
}

pub const PRODUCT_WRITABLE: &[&str] =
    &["name", "description", "image_url", "is_active", "metadata"];
pub const PRODUCT_READ_ONLY: &[&str] = &[
    "product_id",
    "organization_id",
    "environment",
    "created_at",
    "updated_at",
];

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: Environment,
    pub fields: ProductFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by `DELETE`: gone from the API, kept for the sessions and prices that name it.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// What the merchant may set on a price, each value already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceFields {
    pub product_id: Uuid,
    pub pricing_model: PricingModel,
    /// A standard price's amount; a pay-what-you-want price's suggested one, if any.
    pub amount: Option<i64>,
    pub currency: Currency,
    /// A pay-what-you-want price's bounds (both set for one, both `None` for a standard one).
    pub minimum_amount: Option<i64>,
    pub maximum_amount: Option<i64>,
    pub is_default: bool,
    pub is_active: bool,
    pub metadata: Option<Map<String, Value>>,
}

pub const PRICE_WRITABLE: &[&str] = &[
    "product_id",
    "pricing_model",
    "amount",
    "currency_code",
    "minimum_amount",
    "maximum_amount",
    "is_default",
    "is_active",
    "metadata",
];
pub const PRICE_READ_ONLY: &[&str] = &[
    "price_id",
    "organization_id",
    "environment",
    "created_at",
    "updated_at",
];

/// A price as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: Environment,
    pub fields: PriceFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub(crate) fn amount_field(f: Field<'_>) -> Result<i64, FieldError> {
    f.integer_in(1, MAX_AMOUNT).map_err(|_| {
        f.error(format!(
            "must be a whole number of the currency's smallest unit, from 1 to {MAX_AMOUNT}"
        ))
    })
}

impl ProductFields {
    pub fn parse(
        body: &Map<String, Value>,
        environment: Environment,
    ) -> Result<ProductFields, Vec<FieldError>> {
        let mut r = Reader::new(body);
        let name = r.optional("name", |f| f.text(MAX_TITLE));
        let description = r.optional("description", |f| f.text(MAX_DESCRIPTION));
        let image_url = r.optional("image_url", |f| parse_url(f, environment));
        let is_active = r.optional("is_active", |f| f.bool()).unwrap_or(true);
        let metadata = r.optional("metadata", parse_metadata);
        let name = r.require("name", name, "is required");
        match name {
            Some(name) if r.errors.is_empty() => Ok(ProductFields {
                name,
                description,
                image_url,
                is_active,
                metadata,
            }),
            _ => Err(r.errors),
        }
    }
}

impl PriceFields {
    pub fn parse(body: &Map<String, Value>) -> Result<PriceFields, Vec<FieldError>> {
        let mut r = Reader::new(body);
        let product_id = r.optional("product_id", |f| f.uuid());
        let pricing_model = r.optional("pricing_model", |f| {
            f.str()?.parse::<PricingModel>().map_err(|e| f.error(e))
        });
        // A model that did not read leaves the rules of either unchecked.
        let model_refused = r.errors.iter().any(|e| e.field == "pricing_model");
        let pricing_model = pricing_model.unwrap_or(PricingModel::Standard);
        let amount = r.optional("amount", amount_field);
        let currency = r.optional("currency_code", |f| {
            f.str()?
                .parse::<Currency>()
                .map_err(|_| f.error("must be one of XOF, XAF, USD, EUR"))
        });
        let minimum = r.optional("minimum_amount", amount_field);
        let maximum = r.optional("maximum_amount", amount_field);
        let is_default = r.optional("is_default", |f| f.bool()).unwrap_or(false);
        let is_active = r.optional("is_active", |f| f.bool()).unwrap_or(true);
        let metadata = r.optional("metadata", parse_metadata);
        let product_id = r.require("product_id", product_id, "is required");
        let currency = r.require("currency_code", currency, "is required");
        let (minimum_amount, maximum_amount) = match pricing_model {
            _ if model_refused => (None, None),
            PricingModel::Standard => {
                r.require("amount", amount, "is required for a standard price");
                for (name, value) in [("minimum_amount", minimum), ("maximum_amount", maximum)] {
                    if value.is_some() {
                        r.refuse(name, "must be null for a standard price");
                    }
                }
                (None, None)
            }
            PricingModel::PayWhatYouWant => {
                let (min, max) = (minimum.unwrap_or(1), maximum.unwrap_or(MAX_AMOUNT));
                if min > max {
                    r.refuse("maximum_amount", "must be at least minimum_amount");
                } else if let Some(a) = amount.filter(|a| !(min..=max).contains(a)) {
                    r.refuse(
                        "amount",
                        format!("must be from minimum_amount to maximum_amount ({min} to {max}), not {a}"),
                    );
                }
                (Some(min), Some(max))
            }
        };
        if is_default && !is_active {
            r.refuse("is_default", "must be false for an inactive price");
        }
        match (product_id, currency) {
            (Some(product_id), Some(currency)) if r.errors.is_empty() => Ok(PriceFields {
                product_id,
                pricing_model,
                amount,
                currency,
                minimum_amount,
                maximum_amount,
                is_default,
                is_active,
                metadata,
            }),
            _ => Err(r.errors),
        }
    }
}

impl Price {
    /// What a session pays at this price when it asks for `asked` (an explicit `amount`, or
    /// none): a standard price's amount, or an amount within a pay-what-you-want price's
    /// bounds. `Err` says why, for the `amount` field.
    pub fn amount_for(&self, asked: Option<i64>) -> Result<i64, String> {
        let f = &self.fields;
        match (f.pricing_model, asked) {
            (PricingModel::Standard, None) => Ok(f.amount.unwrap_or_default()),
            (PricingModel::Standard, Some(a)) if Some(a) == f.amount => Ok(a),
            (PricingModel::Standard, Some(_)) => Err(format!(
                "must be the price's amount, {}, or absent",
                f.amount.unwrap_or_default()
            )),
            (PricingModel::PayWhatYouWant, asked) => {
                let (min, max) = (
                    f.minimum_amount.unwrap_or(1),
                    f.maximum_amount.unwrap_or(MAX_AMOUNT),
                );
                match asked.or(f.amount) {
                    Some(a) if (min..=max).contains(&a) => Ok(a),
                    Some(a) => Err(format!(
                        "must be from {min} to {max} for this pay-what-you-want price, not {a}"
                    )),
                    None => Err(format!(
                        "is required for a pay-what-you-want price: from {min} to {max}"
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
