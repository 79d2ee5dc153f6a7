//! Products and prices as the API shows them: one type each, from which both the JSON a
//! response carries and the `Products` and `Prices` schemas of the OpenAPI document come. The
//! create and update bodies are these schemas' writable properties (see `web::api::doc`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PRICE_WRITABLE, PRODUCT_WRITABLE, Price, PricingModel, Product};
use crate::domain::money::Currency;
use crate::domain::session::Environment;
use crate::domain::time;

/// A product the merchant sells. Every field is always present in a response; absent values
/// are null.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Products)]
pub struct ProductView<'a> {
    /// Unique identifier, a UUID v4 made by the server.
    pub product_id: Uuid,
    /// The organization of the API key.
    pub organization_id: Uuid,
    /// From the API key; a key sees only products of its own environment.
    #[schema(inline)]
    pub environment: Environment,
    /// What customers see as the title of a session or link made from one of its prices.
    #[schema(min_length = 1, max_length = 200, example = "Pagne wax")]
    pub name: &'a str,
    #[schema(min_length = 1, max_length = 2000)]
    pub description: Option<&'a str>,
    /// An absolute `https` URL of the product's picture.
    #[schema(max_length = 2048, format = "uri")]
    pub image_url: Option<&'a str>,
    /// An inactive product's prices sell nothing: a session or link naming one is 422.
    #[schema(default = true)]
    pub is_active: bool,
    /// Up to 50 keys (1–40 characters) with string, number, boolean or null values.
    pub metadata: Option<&'a Map<String, Value>>,
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// A price of a product: one amount (`standard`), or bounds the customer chooses an amount
/// within (`pay_what_you_want`). Every field is always present in a response; absent values
/// are null.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Prices)]
pub struct PriceView<'a> {
    /// Unique identifier, a UUID v4 made by the server.
    pub price_id: Uuid,
    /// The product it prices: one of the organization's, in the same environment. It cannot
    /// change after the price is made.
    pub product_id: Uuid,
    pub organization_id: Uuid,
    #[schema(inline)]
    pub environment: Environment,
    #[schema(inline, default = "standard")]
    pub pricing_model: PricingModel,
    /// In the currency's smallest unit. Required for a `standard` price, whose amount a session
    /// must pay; for a `pay_what_you_want` price, the amount suggested (within the bounds), or
    /// null.
    #[schema(minimum = 1, maximum = 1e12, example = 10000)]
    pub amount: Option<i64>,
    #[schema(inline)]
    pub currency_code: Currency,
    /// A `pay_what_you_want` price's least amount (default 1); null for a `standard` one.
    #[schema(minimum = 1, maximum = 1e12)]
    pub minimum_amount: Option<i64>,
    /// A `pay_what_you_want` price's greatest amount (default 10^12); null for a `standard` one.
    #[schema(minimum = 1, maximum = 1e12)]
    pub maximum_amount: Option<i64>,
    /// The price a session or link naming only the product uses. A product has at most one:
    /// making a price the default makes the previous one not. An inactive price cannot be it.
    #[schema(default = false)]
    pub is_default: bool,
    /// An inactive price sells nothing: a session or link naming it is 422.
    #[schema(default = true)]
    pub is_active: bool,
    pub metadata: Option<&'a Map<String, Value>>,
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// The writable fields of a view as the API shows them: the base a patch is laid over.
fn writable(view: impl Serialize, writable: &[&str]) -> Map<String, Value> {
    let Ok(Value::Object(mut all)) = serde_json::to_value(view) else {
        unreachable!("a view is a JSON object");
    };
    all.retain(|k, _| writable.contains(&k.as_str()));
    all
}

impl Product {
    pub fn view(&self) -> ProductView<'_> {
        let f = &self.fields;
        ProductView {
            product_id: self.id,
            organization_id: self.organization_id,
            environment: self.environment,
            name: &f.name,
            description: f.description.as_deref(),
            image_url: f.image_url.as_deref(),
            is_active: f.is_active,
            metadata: f.metadata.as_ref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn writable_json(&self) -> Map<String, Value> {
        writable(self.view(), PRODUCT_WRITABLE)
    }
}

impl Price {
    pub fn view(&self) -> PriceView<'_> {
        let f = &self.fields;
        PriceView {
            price_id: self.id,
            product_id: f.product_id,
            organization_id: self.organization_id,
            environment: self.environment,
            pricing_model: f.pricing_model,
            amount: f.amount,
            currency_code: f.currency,
            minimum_amount: f.minimum_amount,
            maximum_amount: f.maximum_amount,
            is_default: f.is_default,
            is_active: f.is_active,
            metadata: f.metadata.as_ref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn writable_json(&self) -> Map<String, Value> {
        writable(self.view(), PRICE_WRITABLE)
    }
}
