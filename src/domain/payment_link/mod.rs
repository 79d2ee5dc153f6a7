//! Payment links: a URL a merchant shares once (in a chat, on a poster) that every customer can
//! pay through. Each customer who opens it and presses "continue" gets a checkout session of
//! their own, made from the link's settings; a link preview robot that only fetches the URL
//! makes none.
//!
//! An `instant` link names its title, amount and currency itself; a `product` link names a
//! price (or a product, for its default price), whose amount, currency and product name it
//! takes, and a pay-what-you-want price lets the customer type the amount on the link's page.
//! Fields have lomi's `PaymentLinks` names.

mod view;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::catalog::amount_field;
use super::fields::{FieldError, Reader};
use super::money::Currency;
use super::provider::ProviderList;
use super::session::{Environment, MAX_DESCRIPTION, MAX_TITLE, parse_metadata, parse_url};

pub use view::{LinkView, whatsapp_url};

string_enum!(
    /// What a link sells: an amount of its own, or a price of the catalog.
    LinkType { Instant = "instant", Product = "product" }
);

/// What the merchant may set on a link, each value already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFields {
    pub link_type: LinkType,
    /// An instant link's title; a product link's, when it is not the product's name.
    pub title: Option<String>,
    pub public_description: Option<String>,
    /// The merchant's own note, never shown to customers.
    pub private_description: Option<String>,
    /// An instant link's amount; a product link's fixed amount for a pay-what-you-want price
    /// (else the customer chooses), or the standard price's.
    pub amount: Option<i64>,
    pub currency: Option<Currency>,
    pub product_id: Option<Uuid>,
    pub price_id: Option<Uuid>,
    pub quantity: i64,
    pub allow_quantity: bool,
    pub allow_coupon_code: bool,
    pub allowed_providers: Option<ProviderList>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub metadata: Option<Map<String, Value>>,
}

pub const WRITABLE: &[&str] = &[
    "link_type",
    "title",
    "public_description",
    "private_description",
    "amount",
    "currency_code",
    "product_id",
    "price_id",
    "quantity",
    "allow_quantity",
    "allow_coupon_code",
    "allowed_providers",
    "success_url",
    "cancel_url",
    "expires_at",
    "is_active",
    "metadata",
];

pub const READ_ONLY: &[&str] = &[
    "link_id",
    "organization_id",
    "environment",
    "url",
    "whatsapp_url",
    "poster_url",
    "created_at",
    "updated_at",
];

/// What a link's fields are checked against.
pub struct LinkRules {
    pub environment: Environment,
    /// The largest quantity a session may carry.
    pub max_quantity: i64,
    /// A time `expires_at` must be later than: now on a create, and on an update that sets it.
    pub expires_after: Option<DateTime<Utc>>,
}

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: Environment,
    pub fields: LinkFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by `DELETE`: gone from the API, its page says it is no longer available.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl PaymentLink {
    /// Whether a customer may open a session from it at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.deleted_at.is_none()
            && self.fields.is_active
            && self.fields.expires_at.is_none_or(|t| t > now)
    }

    /// Its page, which is what is shared.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/l/{}", self.id)
    }
}

impl LinkFields {
    pub fn parse(
        body: &Map<String, Value>,
        rules: &LinkRules,
    ) -> Result<LinkFields, Vec<FieldError>> {
        let mut r = Reader::new(body);
        let link_type = r.optional("link_type", |f| {
            f.str()?.parse::<LinkType>().map_err(|e| f.error(e))
        });
        let type_refused = r.errors.iter().any(|e| e.field == "link_type");
        let link_type = link_type.unwrap_or(LinkType::Instant);
        let title = r.optional("title", |f| f.text(MAX_TITLE));
        let public_description = r.optional("public_description", |f| f.text(MAX_DESCRIPTION));
        let private_description = r.optional("private_description", |f| f.text(MAX_DESCRIPTION));
        let amount = r.optional("amount", amount_field);
        let currency = r.optional("currency_code", |f| {
            f.str()?
                .parse::<Currency>()
                .map_err(|_| f.error("must be one of XOF, XAF, USD, EUR"))
        });
        let product_id = r.optional("product_id", |f| f.uuid());
        let price_id = r.optional("price_id", |f| f.uuid());
        let quantity = r
            .optional("quantity", |f| f.integer_in(1, rules.max_quantity))
            .unwrap_or(1);
        let allow_quantity = r.optional("allow_quantity", |f| f.bool()).unwrap_or(false);
        let allow_coupon_code = r
            .optional("allow_coupon_code", |f| f.bool())
            .unwrap_or(false);
        let allowed_providers = r.optional("allowed_providers", |f| {
            f.str()?.parse::<ProviderList>().map_err(|e| f.error(e))
        });
        let success_url = r.optional("success_url", |f| parse_url(f, rules.environment));
        let cancel_url = r.optional("cancel_url", |f| parse_url(f, rules.environment));
        let expires_at = r.optional("expires_at", |f| {
            let t = super::time::truncate(f.datetime()?);
            match rules.expires_after {
                Some(now) if t <= now => Err(f.error("must be in the future")),
                _ => Ok(t),
            }
        });
        let is_active = r.optional("is_active", |f| f.bool()).unwrap_or(true);
        let metadata = r.optional("metadata", parse_metadata);
        match link_type {
            _ if type_refused => {}
            LinkType::Instant => {
                r.require("title", title.as_ref(), "is required for an instant link");
                r.require("amount", amount, "is required for an instant link");
                r.require("currency_code", currency, "is required for an instant link");
                for (name, given) in [
                    ("product_id", product_id.is_some()),
                    ("price_id", price_id.is_some()),
                ] {
                    if given {
                        r.refuse(
                            name,
                            "must be null for an instant link: use link_type product",
                        );
                    }
                }
            }
            LinkType::Product => {
                if product_id.is_none() && price_id.is_none() {
                    r.refuse(
                        "price_id",
                        "is required for a product link, or a product_id",
                    );
                }
            }
        }
        if r.errors.is_empty() {
            Ok(LinkFields {
                link_type,
                title,
                public_description,
                private_description,
                amount,
                currency,
                product_id,
                price_id,
                quantity,
                allow_quantity,
                allow_coupon_code,
                allowed_providers,
                success_url,
                cancel_url,
                expires_at,
                is_active,
                metadata,
            })
        } else {
            Err(r.errors)
        }
    }

    /// The body of the checkout session a customer opens from the link (`amount` is the one
    /// they typed on a pay-what-you-want link's page), with `payment_link_id` set. A product
    /// link's price fills the rest through the catalog, as for any session made from a price.
    pub fn session_body(&self, link_id: Uuid, amount: Option<i64>) -> Map<String, Value> {
        let mut body = Map::new();
        let mut put = |name: &str, value: Value| {
            if !value.is_null() {
                body.insert(name.to_string(), value);
            }
        };
        put("title", self.title.clone().into());
        put("public_description", self.public_description.clone().into());
        put("amount", amount.or(self.amount).into());
        put("currency_code", self.currency.map(|c| c.code()).into());
        put(
            "product_id",
            self.product_id.map(|id| id.to_string()).into(),
        );
        put("price_id", self.price_id.map(|id| id.to_string()).into());
        put("quantity", self.quantity.into());
        put("allow_quantity", self.allow_quantity.into());
        put("allow_coupon_code", self.allow_coupon_code.into());
        put(
            "allowed_providers",
            self.allowed_providers
                .as_ref()
                .map(ToString::to_string)
                .into(),
        );
        put("success_url", self.success_url.clone().into());
        put("cancel_url", self.cancel_url.clone().into());
        put("metadata", self.metadata.clone().map(Value::Object).into());
        put("payment_link_id", link_id.to_string().into());
        body
    }
}

#[cfg(test)]
mod tests;
