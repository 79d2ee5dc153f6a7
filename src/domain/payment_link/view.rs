//! The payment link as the API shows it: one type from which the JSON a response carries and
//! the `PaymentLinks` schema of the OpenAPI document come. The create and update bodies are
//! this schema's writable properties (see `web::api::doc`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{LinkType, PaymentLink, WRITABLE};
use crate::domain::money::Currency;
use crate::domain::session::Environment;
use crate::domain::time;

/// A reusable payment link. Every field is always present in a response; absent values are
/// null.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PaymentLinks)]
pub struct LinkView<'a> {
    /// Unique identifier, a UUID v4 made by the server; the link's page is `/l/{link_id}`.
    pub link_id: Uuid,
    pub organization_id: Uuid,
    /// From the API key; sessions opened from the link are of this environment.
    #[schema(inline)]
    pub environment: Environment,
    /// `instant`: the link names its title, amount and currency. `product`: it names a
    /// `price_id` (or a `product_id`, for its default price), whose amount and currency it
    /// takes, and the product's name as its title unless it has one.
    #[schema(inline, default = "instant")]
    pub link_type: LinkType,
    /// Required for an instant link. A product link made without one takes its product's name.
    #[schema(min_length = 1, max_length = 200, example = "Pagne wax")]
    pub title: Option<&'a str>,
    /// Shown to customers under the title.
    #[schema(min_length = 1, max_length = 2000)]
    pub public_description: Option<&'a str>,
    /// The merchant's own note, never shown to customers.
    #[schema(min_length = 1, max_length = 2000)]
    pub private_description: Option<&'a str>,
    /// In the currency's smallest unit. Required for an instant link. On a product link: the
    /// standard price's amount (any other is 422), or a fixed amount within a pay-what-you-want
    /// price's bounds; absent there, the customer types the amount on the link's page.
    #[schema(minimum = 1, maximum = 1e12, example = 10000)]
    pub amount: Option<i64>,
    /// Required for an instant link; a product link's must be its price's.
    #[schema(inline)]
    pub currency_code: Option<Currency>,
    pub product_id: Option<Uuid>,
    pub price_id: Option<Uuid>,
    /// The quantity each session opens with.
    #[schema(minimum = 1, default = 1)]
    pub quantity: i64,
    #[schema(default = false)]
    pub allow_quantity: bool,
    #[schema(default = false)]
    pub allow_coupon_code: bool,
    /// As on a session: comma-separated provider codes, stored canonical.
    #[schema(example = "WAVE,ORANGE")]
    pub allowed_providers: Option<String>,
    /// As on a session; `{CHECKOUT_SESSION_ID}` is replaced with each customer's session.
    #[schema(max_length = 2048, format = "uri")]
    pub success_url: Option<&'a str>,
    #[schema(max_length = 2048, format = "uri")]
    pub cancel_url: Option<&'a str>,
    /// After it, the link's page says it is no longer available; null: never.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub expires_at: Option<DateTime<Utc>>,
    /// An inactive link's page says it is not available, and opens no session.
    #[schema(default = true)]
    pub is_active: bool,
    /// Copied to each session opened from the link.
    pub metadata: Option<&'a Map<String, Value>>,
    /// The link's page: what is shared.
    #[schema(format = "uri")]
    pub url: String,
    /// A WhatsApp link that shares the title and `url` in a chat of the customer's choosing.
    #[schema(format = "uri")]
    pub whatsapp_url: String,
    /// A printable poster of the link (title, amount, its QR code, the URL in text), as SVG;
    /// the same with `.png` is a PNG image.
    #[schema(format = "uri")]
    pub poster_url: String,
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// `https://wa.me/?text=…`: WhatsApp's documented link to share a text.
pub fn whatsapp_url(text: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    // WhatsApp reads `%20` for spaces; `+` would be shown as it is.
    format!("https://wa.me/?text={}", encoded.replace('+', "%20"))
}

impl PaymentLink {
    pub fn view(&self, public_url: &str) -> LinkView<'_> {
        let f = &self.fields;
        let url = self.url(public_url);
        let share = match &f.title {
            Some(title) => format!("{title} {url}"),
            None => url.clone(),
        };
        LinkView {
            link_id: self.id,
            organization_id: self.organization_id,
            environment: self.environment,
            link_type: f.link_type,
            title: f.title.as_deref(),
            public_description: f.public_description.as_deref(),
            private_description: f.private_description.as_deref(),
            amount: f.amount,
            currency_code: f.currency,
            product_id: f.product_id,
            price_id: f.price_id,
            quantity: f.quantity,
            allow_quantity: f.allow_quantity,
            allow_coupon_code: f.allow_coupon_code,
            allowed_providers: f.allowed_providers.as_ref().map(ToString::to_string),
            success_url: f.success_url.as_deref(),
            cancel_url: f.cancel_url.as_deref(),
            expires_at: f.expires_at,
            is_active: f.is_active,
            metadata: f.metadata.as_ref(),
            whatsapp_url: whatsapp_url(&share),
            poster_url: format!("{url}/poster.svg"),
            url,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The writable fields as the API shows them: the base a patch is laid over.
    pub fn writable_json(&self) -> Map<String, Value> {
        let Ok(Value::Object(mut all)) = serde_json::to_value(self.view("")) else {
            unreachable!("a link view is a JSON object");
        };
        all.retain(|k, _| WRITABLE.contains(&k.as_str()));
        all
    }
}
