//! The checkout session: what a merchant sells, for how much, and where it stands.
//!
//! A request body is checked against the rules of the resource in one place,
//! [`SessionFields::parse`], for a create and an update alike: an update is the stored fields
//! with the patch laid over them, parsed again whole, so no rule can be skipped by changing one
//! field at a time.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::{Field, FieldError, FieldResult};
use super::money::{Currency, MAX_AMOUNT, Totals};
use super::provider::{Provider, ProviderList};
use crate::qr::{PayloadError, QrCodeData};

/// How long a session stays open when the merchant does not say.
pub const DEFAULT_LIFETIME: Duration = Duration::minutes(60);
/// The furthest ahead a session may expire.
pub const MAX_LIFETIME: Duration = Duration::days(30);
pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_URL: usize = 2048;
pub const MAX_METADATA_KEYS: usize = 50;
pub const MAX_METADATA_KEY: usize = 40;
pub const MAX_METADATA_VALUE: usize = 500;
/// The placeholder a merchant puts in `success_url`/`cancel_url` to learn which session it was.
pub const SESSION_ID_PLACEHOLDER: &str = "{CHECKOUT_SESSION_ID}";

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(format!("must be one of {}", [$($s),+].join(", "))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Where a session stands. Only `open → completed` and `open → expired` ever happen.
    Status { Open = "open", Completed = "completed", Expired = "expired" }
);
string_enum!(
    /// Test or live money, fixed by the API key that created the session.
    Environment { Test = "test", Live = "live" }
);
string_enum!(
    /// Whether the QR code carries the amount (`dynamic`) or lets the payer enter it (`static`).
    QrCodeType { Static = "static", Dynamic = "dynamic" }
);

/// What the merchant may set on a session, each value already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFields {
    /// Unit price, in the currency's smallest unit.
    pub amount: i64,
    pub currency: Currency,
    pub quantity: i64,
    pub allow_quantity: bool,
    pub allow_coupon_code: bool,
    pub is_pos: bool,
    pub is_spi: bool,
    /// `None`: every provider the deployment has enabled.
    pub allowed_providers: Option<ProviderList>,
    pub title: String,
    pub public_description: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_id: Option<Uuid>,
    pub metadata: Option<Map<String, Value>>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub qr_code_type: QrCodeType,
    pub qr_code_data: Option<QrCodeData>,
    pub spi_account_number: Option<String>,
    pub payment_link_id: Option<Uuid>,
    pub payment_request_id: Option<Uuid>,
    pub price_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub installment_plan_id: Option<Uuid>,
}

/// The merchant-writable fields, by their JSON names.
pub const WRITABLE: &[&str] = &[
    "amount",
    "currency_code",
    "quantity",
    "allow_quantity",
    "allow_coupon_code",
    "is_pos",
    "is_spi",
    "allowed_providers",
    "title",
    "public_description",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_id",
    "metadata",
    "success_url",
    "cancel_url",
    "expires_at",
    "qr_code_type",
    "qr_code_data",
    "spi_account_number",
    "payment_link_id",
    "payment_request_id",
    "price_id",
    "product_id",
    "subscription_id",
    "installment_plan_id",
];

/// Fields the server sets; a request may not.
pub const READ_ONLY: &[&str] = &[
    "organization_id",
    "created_by",
    "environment",
    "status",
    "spi_qr_code_id",
    "created_at",
    "updated_at",
    "amount_subtotal",
    "amount_discount",
    "amount_total",
    "coupon_code",
    "payment_provider",
    "completed_at",
    "url",
];

/// What the fields are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub environment: Environment,
    pub now: DateTime<Utc>,
    /// The largest quantity a session may carry (and a customer may choose).
    pub max_quantity: i64,
    /// When the session was created, for the default `expires_at`.
    pub created_at: DateTime<Utc>,
}

impl SessionFields {
    /// Checks a whole set of fields. `body` holds JSON values by field name; an absent or `null`
    /// field takes its default, or is an error when the field is required. Every violation is
    /// reported, each naming its field.
    pub fn parse(
        body: &Map<String, Value>,
        rules: &Rules,
    ) -> Result<SessionFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let read = |name: &'static str| -> Option<Field<'_>> {
            body.get(name)
                .filter(|v| !v.is_null())
                .map(|v| Field::new(name, v))
        };
        macro_rules! take {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(e);
                        Default::default()
                    }
                }
            };
        }
        macro_rules! optional {
            ($name:literal, $parse:expr) => {
                take!(read($name).map($parse).transpose())
            };
        }
        macro_rules! flag {
            ($name:literal) => {
                take!(read($name).map(|f| f.bool()).transpose()).unwrap_or(false)
            };
        }

        let amount = optional!("amount", |f| f
            .integer_in(1, MAX_AMOUNT)
            .map_err(|_| f.error(format!(
                "must be a whole number of the currency's smallest unit, from 1 to {MAX_AMOUNT}"
            ))));
        let currency: Option<Currency> = optional!("currency_code", |f| f
            .str()?
            .parse()
            .map_err(|_| f.error("must be one of XOF, XAF, USD, EUR")));
        let quantity = optional!("quantity", |f| f.integer_in(1, rules.max_quantity)).unwrap_or(1);
        let allow_quantity = flag!("allow_quantity");
        let allow_coupon_code = flag!("allow_coupon_code");
        let is_pos = flag!("is_pos");
        let is_spi = flag!("is_spi");
        let allowed_providers = optional!("allowed_providers", |f| f
            .str()?
            .parse::<ProviderList>()
            .map_err(|e| f.error(e)));
        let title = optional!("title", |f| f.text(MAX_TITLE));
        let public_description = optional!("public_description", |f| f.text(MAX_DESCRIPTION));
        let customer_name = optional!("customer_name", |f| f.text(MAX_TITLE));
        let customer_email = optional!("customer_email", parse_email);
        let customer_phone = optional!("customer_phone", parse_phone);
        let customer_id = optional!("customer_id", |f| f.uuid());
        let metadata = optional!("metadata", parse_metadata);
        let success_url = optional!("success_url", |f| parse_url(f, rules.environment));
        let cancel_url = optional!("cancel_url", |f| parse_url(f, rules.environment));
        let expires_at = optional!("expires_at", |f| {
            let t = super::time::truncate(f.datetime()?);
            if t <= rules.now {
                return Err(f.error("must be in the future"));
            }
            if t > rules.now + MAX_LIFETIME {
                return Err(f.error("must be at most 30 days ahead"));
            }
            Ok(t)
        })
        .unwrap_or(rules.created_at + DEFAULT_LIFETIME);
        let qr_code_type = optional!("qr_code_type", |f| f
            .str()?
            .parse()
            .map_err(|e: String| f.error(e)))
        .unwrap_or(QrCodeType::Dynamic);
        let qr_code_data = optional!("qr_code_data", |f| {
            QrCodeData::from_json(f.value).map_err(|e| payload_error(&e))
        });
        let spi_account_number = optional!("spi_account_number", parse_spi_account);
        let payment_link_id = optional!("payment_link_id", |f| f.uuid());
        let payment_request_id = optional!("payment_request_id", |f| f.uuid());
        let price_id = optional!("price_id", |f| f.uuid());
        let product_id = optional!("product_id", |f| f.uuid());
        let subscription_id = optional!("subscription_id", |f| f.uuid());
        let installment_plan_id = optional!("installment_plan_id", |f| f.uuid());

        let required = |errors: &mut Vec<FieldError>, name: &str, present: bool| {
            if !present && !errors.iter().any(|e| e.field == name) {
                errors.push(FieldError::new(name, "is required"));
            }
        };
        required(&mut errors, "amount", amount.is_some());
        required(&mut errors, "currency_code", currency.is_some());
        required(&mut errors, "title", title.is_some());

        if is_spi && currency.is_some_and(|c| c != Currency::Xof) {
            errors.push(FieldError::new(
                "currency_code",
                "must be XOF for a PI-SPI session (is_spi)",
            ));
        }
        if is_spi
            && allowed_providers
                .as_ref()
                .is_some_and(|l: &ProviderList| !l.contains(Provider::Spi))
        {
            errors.push(FieldError::new(
                "allowed_providers",
                "must include SPI when is_spi is true",
            ));
        }
        for (flag, name) in [(is_pos, "is_pos"), (is_spi, "is_spi")] {
            if flag
                && qr_code_data.is_none()
                && !errors.iter().any(|e| e.field.starts_with("qr_code_data"))
            {
                errors.push(FieldError::new(
                    "qr_code_data",
                    format!("is required when {name} is true: it is what the payer scans"),
                ));
            }
        }
        if let (Some(data), Some(currency)) = (&qr_code_data, currency)
            && !errors.iter().any(|e| e.field == "currency_code")
            && let Err(e) = data.check_currency(currency.code())
        {
            errors.push(FieldError::new("currency_code", e.to_string()));
        }
        if let (Some(a), Some(q)) = (amount, Some(quantity))
            && Totals::compute(a, q, 0).subtotal > MAX_AMOUNT
        {
            errors.push(FieldError::new(
                "quantity",
                format!("amount × quantity must not exceed {MAX_AMOUNT}"),
            ));
        }

        match (errors.is_empty(), amount, currency, title) {
            (true, Some(amount), Some(currency), Some(title)) => Ok(SessionFields {
                amount,
                currency,
                quantity,
                allow_quantity,
                allow_coupon_code,
                is_pos,
                is_spi,
                allowed_providers,
                title,
                public_description,
                customer_name,
                customer_email,
                customer_phone,
                customer_id,
                metadata,
                success_url,
                cancel_url,
                expires_at,
                qr_code_type,
                qr_code_data,
                spi_account_number,
                payment_link_id,
                payment_request_id,
                price_id,
                product_id,
                subscription_id,
                installment_plan_id,
            }),
            _ => Err(errors),
        }
    }

    /// The fields as JSON, by their API names: the response body, and the base a patch is laid over.
    pub fn to_json(&self) -> Map<String, Value> {
        let uuid = |u: &Option<Uuid>| u.map_or(Value::Null, |u| Value::String(u.to_string()));
        let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        let mut m = Map::new();
        m.insert("amount".into(), self.amount.into());
        m.insert("currency_code".into(), self.currency.code().into());
        m.insert("quantity".into(), self.quantity.into());
        m.insert("allow_quantity".into(), self.allow_quantity.into());
        m.insert("allow_coupon_code".into(), self.allow_coupon_code.into());
        m.insert("is_pos".into(), self.is_pos.into());
        m.insert("is_spi".into(), self.is_spi.into());
        m.insert(
            "allowed_providers".into(),
            self.allowed_providers
                .as_ref()
                .map_or(Value::Null, |l| l.to_string().into()),
        );
        m.insert("title".into(), self.title.clone().into());
        m.insert("public_description".into(), text(&self.public_description));
        m.insert("customer_name".into(), text(&self.customer_name));
        m.insert("customer_email".into(), text(&self.customer_email));
        m.insert("customer_phone".into(), text(&self.customer_phone));
        m.insert("customer_id".into(), uuid(&self.customer_id));
        m.insert(
            "metadata".into(),
            self.metadata.clone().map_or(Value::Null, Value::Object),
        );
        m.insert("success_url".into(), text(&self.success_url));
        m.insert("cancel_url".into(), text(&self.cancel_url));
        m.insert(
            "expires_at".into(),
            super::time::rfc3339(&self.expires_at).into(),
        );
        m.insert("qr_code_type".into(), self.qr_code_type.as_str().into());
        m.insert(
            "qr_code_data".into(),
            self.qr_code_data
                .as_ref()
                .map_or(Value::Null, QrCodeData::to_json),
        );
        m.insert("spi_account_number".into(), text(&self.spi_account_number));
        m.insert("payment_link_id".into(), uuid(&self.payment_link_id));
        m.insert("payment_request_id".into(), uuid(&self.payment_request_id));
        m.insert("price_id".into(), uuid(&self.price_id));
        m.insert("product_id".into(), uuid(&self.product_id));
        m.insert("subscription_id".into(), uuid(&self.subscription_id));
        m.insert(
            "installment_plan_id".into(),
            uuid(&self.installment_plan_id),
        );
        m
    }
}

/// A QR payload error as a field error; its message already names the field.
fn payload_error(e: &PayloadError) -> FieldError {
    let message = e.to_string();
    let message = message
        .strip_prefix(e.field())
        .map_or(message.as_str(), str::trim_start);
    FieldError::new(e.field(), message)
}

pub fn parse_email(f: Field<'_>) -> FieldResult<String> {
    let s = f.text(254)?;
    email_address::EmailAddress::from_str(&s)
        .ok()
        .filter(|e| e.domain().contains('.'))
        .map(|_| s)
        .ok_or_else(|| f.error("must be an email address, e.g. awa@example.com"))
}

/// `+` then 8 to 15 digits (E.164); spaces between digit groups are dropped.
pub fn parse_phone(f: Field<'_>) -> FieldResult<String> {
    let s: String = f.str()?.chars().filter(|c| *c != ' ').collect();
    let digits = s.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(f.error("must be + and 8 to 15 digits, e.g. +2250700000000"))
    }
}

/// Absolute `https` URLs; `http` only to this machine, and only in test.
pub fn parse_url(f: Field<'_>, environment: Environment) -> FieldResult<String> {
    let s = f.str()?.trim();
    if s.chars().count() > MAX_URL {
        return Err(f.error(format!("must be at most {MAX_URL} characters")));
    }
    let url = url::Url::parse(s).map_err(|_| f.error("must be an absolute https URL"))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(s.to_string()),
        "http" if local && environment == Environment::Test => Ok(s.to_string()),
        "http" if local => {
            Err(f.error("http is allowed only for localhost in the test environment"))
        }
        _ => Err(f.error("must be an absolute https URL")),
    }
}

fn parse_metadata(f: Field<'_>) -> FieldResult<Map<String, Value>> {
    let map = f.object()?;
    if map.len() > MAX_METADATA_KEYS {
        return Err(f.error(format!("must have at most {MAX_METADATA_KEYS} keys")));
    }
    for (k, v) in map {
        if k.is_empty() || k.chars().count() > MAX_METADATA_KEY {
            return Err(f.error(format!(
                "keys must be 1 to {MAX_METADATA_KEY} characters ({k:?})"
            )));
        }
        match v {
            Value::String(s) if s.chars().count() > MAX_METADATA_VALUE => {
                return Err(f.error(format!(
                    "values must be at most {MAX_METADATA_VALUE} characters ({k:?})"
                )));
            }
            Value::Array(_) | Value::Object(_) => {
                return Err(f.error(format!(
                    "values must be strings, numbers, booleans or null, not nested ({k:?})"
                )));
            }
            _ => {}
        }
    }
    Ok(map.clone())
}

/// A PI-SPI payee account: letters and digits, as banks print them (`CIC2344256727788288822`).
fn parse_spi_account(f: Field<'_>) -> FieldResult<String> {
    let s = f.str()?.trim().to_ascii_uppercase();
    if (8..=34).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(s)
    } else {
        Err(f.error("must be 8 to 34 letters and digits"))
    }
}

/// A checkout session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutSession {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The id of the API key that created it, or `cli` for the operator's command line.
    pub created_by: String,
    pub environment: Environment,
    pub status: Status,
    pub fields: SessionFields,
    pub spi_qr_code_id: Option<Uuid>,
    /// The QR payload built for the session's current state, kept so it shows the same code.
    pub qr_payload: Option<String>,
    pub coupon_id: Option<Uuid>,
    pub coupon_code: Option<String>,
    /// The discount of the applied coupon, recomputed whenever the quantity changes.
    pub amount_discount: i64,
    pub payment_provider: Option<String>,
    pub provider_reference: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Coupon codes tried on the page since `coupon_window_started_at`, for rate limiting.
    pub coupon_attempts: i64,
    pub coupon_window_started_at: Option<DateTime<Utc>>,
    /// How many times the stored session has been written. A write is made against the version
    /// it read, so a concurrent write is never silently undone (see `Store::update_open_session`).
    pub version: i64,
}

impl CheckoutSession {
    /// A new open session, priced, with nothing applied or paid yet; not stored.
    pub fn open(
        id: Uuid,
        organization_id: Uuid,
        created_by: String,
        environment: Environment,
        fields: SessionFields,
        now: DateTime<Utc>,
    ) -> CheckoutSession {
        let mut session = CheckoutSession {
            id,
            organization_id,
            created_by,
            environment,
            status: Status::Open,
            fields,
            spi_qr_code_id: None,
            qr_payload: None,
            coupon_id: None,
            coupon_code: None,
            amount_discount: 0,
            payment_provider: None,
            provider_reference: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
            coupon_attempts: 0,
            coupon_window_started_at: None,
            version: 0,
        };
        session.refresh_qr();
        session
    }

    pub fn totals(&self) -> Totals {
        Totals::compute(
            self.fields.amount,
            self.fields.quantity,
            self.amount_discount,
        )
    }

    /// Rebuilds the QR payload for the session's current state. The payload is kept, and
    /// `spi_qr_code_id` names it: a new id only when the payload changes, so the same state
    /// always shows the same code. A dynamic code carries `amount_total`; a total of zero has
    /// no code, as it is paid by nobody.
    pub fn refresh_qr(&mut self) {
        let dynamic = self.fields.qr_code_type == QrCodeType::Dynamic;
        let total = u64::try_from(self.totals().total).unwrap_or(0);
        let payload = self
            .fields
            .qr_code_data
            .as_ref()
            .filter(|_| total > 0)
            .and_then(|data| data.payload_for(total, dynamic).ok());
        if payload != self.qr_payload {
            self.spi_qr_code_id = payload.as_ref().map(|_| Uuid::new_v4());
            self.qr_payload = payload;
        }
    }

    /// Open by its status, but past its expiry: it is expired the moment anyone looks.
    pub fn is_due_to_expire(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Open && self.fields.expires_at <= now
    }

    /// The API representation: every field of the resource by its exact name, and the computed
    /// amounts and the hosted page's URL beside them.
    pub fn to_json(&self, public_url: &str) -> Value {
        let mut m = self.fields.to_json();
        let totals = self.totals();
        m.insert("checkout_session_id".into(), self.id.to_string().into());
        m.insert(
            "organization_id".into(),
            self.organization_id.to_string().into(),
        );
        m.insert("created_by".into(), self.created_by.clone().into());
        m.insert("environment".into(), self.environment.as_str().into());
        m.insert("status".into(), self.status.as_str().into());
        m.insert(
            "spi_qr_code_id".into(),
            self.spi_qr_code_id
                .map_or(Value::Null, |u| u.to_string().into()),
        );
        m.insert("amount_subtotal".into(), totals.subtotal.into());
        m.insert("amount_discount".into(), totals.discount.into());
        m.insert("amount_total".into(), totals.total.into());
        m.insert(
            "coupon_code".into(),
            self.coupon_code.clone().map_or(Value::Null, Value::String),
        );
        m.insert(
            "payment_provider".into(),
            self.payment_provider
                .clone()
                .map_or(Value::Null, Value::String),
        );
        m.insert(
            "completed_at".into(),
            self.completed_at
                .map_or(Value::Null, |t| super::time::rfc3339(&t).into()),
        );
        m.insert(
            "created_at".into(),
            super::time::rfc3339(&self.created_at).into(),
        );
        m.insert(
            "updated_at".into(),
            super::time::rfc3339(&self.updated_at).into(),
        );
        m.insert("url".into(), self.url(public_url).into());
        Value::Object(m)
    }

    /// The hosted page's absolute URL.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/checkout/{}", self.id)
    }
}

/// Replaces the session-id placeholder in a redirect URL, URL-encoded.
pub fn redirect_url(template: &str, id: Uuid) -> String {
    // A UUID is already URL-safe; encoding it anyway keeps the rule in one place.
    let encoded: String = url::form_urlencoded::byte_serialize(id.to_string().as_bytes()).collect();
    template.replace(SESSION_ID_PLACEHOLDER, &encoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> Rules {
        let now = crate::domain::time::now();
        Rules {
            environment: Environment::Test,
            now,
            max_quantity: 99,
            created_at: now,
        }
    }

    fn parse(v: Value) -> Result<SessionFields, Vec<FieldError>> {
        SessionFields::parse(v.as_object().unwrap(), &rules())
    }

    fn fields_of(v: Value) -> Vec<String> {
        parse(v).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    fn base() -> Value {
        json!({"amount": 10000, "currency_code": "XOF", "title": "Panier"})
    }

    fn with(k: &str, v: Value) -> Value {
        let mut b = base();
        b[k] = v;
        b
    }

    #[test]
    fn a_minimal_session_gets_its_defaults() {
        let f = parse(base()).unwrap();
        assert_eq!(f.quantity, 1);
        assert_eq!(f.qr_code_type, QrCodeType::Dynamic);
        assert!(!f.allow_quantity && !f.is_spi);
        assert_eq!(f.expires_at, rules().created_at + DEFAULT_LIFETIME);
    }

    #[test]
    fn missing_required_fields_are_each_named() {
        assert_eq!(fields_of(json!({})), ["amount", "currency_code", "title"]);
    }

    #[test]
    fn amounts_must_be_positive_whole_and_bounded() {
        assert_eq!(parse(with("amount", json!(10000.0))).unwrap().amount, 10000);
        for bad in [
            json!(10.5),
            json!(0),
            json!(-5),
            json!(1_000_000_000_001_i64),
            json!("100"),
        ] {
            assert_eq!(fields_of(with("amount", bad)), ["amount"]);
        }
    }

    #[test]
    fn unknown_currencies_and_lowercase_codes() {
        assert_eq!(
            parse(with("currency_code", json!("eur"))).unwrap().currency,
            Currency::Eur
        );
        assert_eq!(
            fields_of(with("currency_code", json!("BTC"))),
            ["currency_code"]
        );
    }

    #[test]
    fn urls_must_be_absolute_https() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "http://example.com",
            "https://",
            "ftp://x.org",
        ] {
            assert_eq!(
                fields_of(with("success_url", json!(bad))),
                ["success_url"],
                "{bad}"
            );
        }
        let ok = parse(with(
            "success_url",
            json!("https://shop.example/ok?s={CHECKOUT_SESSION_ID}"),
        ))
        .unwrap();
        assert_eq!(
            ok.success_url.unwrap(),
            "https://shop.example/ok?s={CHECKOUT_SESSION_ID}"
        );
        assert!(parse(with("cancel_url", json!("http://localhost:3000/c"))).is_ok());
        let live = Rules {
            environment: Environment::Live,
            ..rules()
        };
        let b = with("cancel_url", json!("http://localhost:3000/c"));
        assert!(SessionFields::parse(b.as_object().unwrap(), &live).is_err());
    }

    #[test]
    fn metadata_limits() {
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(
            fields_of(with("metadata", Value::Object(many))),
            ["metadata"]
        );
        assert_eq!(
            fields_of(with("metadata", json!({"k": "x".repeat(501)}))),
            ["metadata"]
        );
        assert_eq!(
            fields_of(with("metadata", json!({"k".repeat(41): 1}))),
            ["metadata"]
        );
        assert_eq!(fields_of(with("metadata", json!([1]))), ["metadata"]);
        assert!(
            parse(with(
                "metadata",
                json!({"order": "42", "n": 3, "gift": true})
            ))
            .is_ok()
        );
    }

    #[test]
    fn customer_details_are_checked() {
        assert_eq!(
            fields_of(with("customer_email", json!("not-an-email"))),
            ["customer_email"]
        );
        assert_eq!(
            fields_of(with("customer_phone", json!("0700000000"))),
            ["customer_phone"]
        );
        assert_eq!(
            fields_of(with("customer_phone", json!("+22507"))),
            ["customer_phone"]
        );
        assert_eq!(
            parse(with("customer_phone", json!("+225 07 00 00 00 00")))
                .unwrap()
                .customer_phone
                .unwrap(),
            "+2250700000000"
        );
        assert_eq!(fields_of(with("customer_id", json!("42"))), ["customer_id"]);
    }

    #[test]
    fn expiry_must_be_in_the_future_and_within_thirty_days() {
        let now = rules().now;
        assert_eq!(
            fields_of(with(
                "expires_at",
                json!(crate::domain::time::rfc3339(&(now - Duration::minutes(1))))
            )),
            ["expires_at"]
        );
        assert_eq!(
            fields_of(with(
                "expires_at",
                json!(crate::domain::time::rfc3339(&(now + Duration::days(31))))
            )),
            ["expires_at"]
        );
    }

    #[test]
    fn spi_sessions_are_in_xof_and_carry_their_qr_code() {
        let qr = json!({"alias": "111c3e1b-4312-49ec-b75e-4c8c74c10fd7", "country": "CI", "reference": "R1"});
        let mut b = with("is_spi", json!(true));
        b["qr_code_data"] = qr.clone();
        b["currency_code"] = json!("EUR");
        assert_eq!(fields_of(b), ["currency_code"]);
        let b = json!({"amount": 1, "currency_code": "XOF", "title": "t", "is_spi": true, "allowed_providers": "WAVE", "qr_code_data": qr});
        assert_eq!(fields_of(b), ["allowed_providers"]);
        assert_eq!(fields_of(with("is_spi", json!(true))), ["qr_code_data"]);
        assert_eq!(fields_of(with("is_pos", json!(true))), ["qr_code_data"]);
    }

    #[test]
    fn quantity_is_bounded_by_the_configured_maximum() {
        assert_eq!(parse(with("quantity", json!(2.0))).unwrap().quantity, 2);
        assert_eq!(fields_of(with("quantity", json!(100))), ["quantity"]);
        assert_eq!(fields_of(with("quantity", json!(0))), ["quantity"]);
    }

    #[test]
    fn fields_survive_a_round_trip_through_json() {
        let b = json!({
            "amount": 1250, "currency_code": "USD", "title": "T", "quantity": 3,
            "allowed_providers": "card, wave", "metadata": {"a": "b"},
            "customer_email": "a@b.co", "product_id": Uuid::new_v4().to_string(),
        });
        let f = parse(b).unwrap();
        assert_eq!(
            f.allowed_providers.as_ref().unwrap().to_string(),
            "CARD,WAVE"
        );
        assert_eq!(SessionFields::parse(&f.to_json(), &rules()).unwrap(), f);
    }

    #[test]
    fn redirect_urls_get_the_session_id() {
        let id = Uuid::new_v4();
        assert_eq!(
            redirect_url("https://s.example/ok?cs={CHECKOUT_SESSION_ID}", id),
            format!("https://s.example/ok?cs={id}")
        );
    }
}
