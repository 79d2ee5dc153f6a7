//! What a merchant may set on a session, and the rules each field is checked by. A body is
//! checked in one place, [`SessionFields::parse`], for a create and an update alike.

use super::*;
use crate::domain::fields::has_control;

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
    "checkout_session_id",
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
    "payment",
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
    /// The organization's country, where `customer_phone` written as dialled inside a country
    /// is read; without it, the country of `qr_code_data`.
    pub country: Option<crate::domain::phone::Country>,
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
        let customer_id = optional!("customer_id", |f| f.uuid());
        let metadata = optional!("metadata", parse_metadata);
        let success_url = optional!("success_url", |f| parse_url(f, rules.environment));
        let cancel_url = optional!("cancel_url", |f| parse_url(f, rules.environment));
        let expires_at = optional!("expires_at", |f| {
            let t = crate::domain::time::truncate(f.datetime()?);
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
        let phone_country = rules.country.or_else(|| {
            qr_code_data
                .as_ref()
                .and_then(QrCodeData::country_code)
                .and_then(crate::domain::phone::Country::from_code)
        });
        let customer_phone = optional!("customer_phone", |f| parse_phone(f, phone_country));
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

/// A phone number as a customer writes it (`07 07 07 07 07`, `+225 07 07 07 07 07`), read in
/// `country` unless it starts with `+` or `00`, and stored in E.164 (see [`crate::domain::phone`]).
pub fn parse_phone(
    f: Field<'_>,
    country: Option<crate::domain::phone::Country>,
) -> FieldResult<String> {
    crate::domain::phone::parse(f.str()?, country).map_err(|e| f.error(e.to_string()))
}

/// Absolute `https` URLs; `http` only to this machine, and only in test.
///
/// Stored as the parser reads it (`https:shop.example` is `https://shop.example/`, a Unicode
/// host is in punycode), so what is stored is what was checked and what a browser is sent to.
/// A control character or a space anywhere, or a user name or password (`https://shop.example@
/// evil.example/` reads as a visit to the first and goes to the second), is refused.
pub fn parse_url(f: Field<'_>, environment: Environment) -> FieldResult<String> {
    let s = f.str()?.trim();
    if s.chars().count() > MAX_URL {
        return Err(f.error(format!("must be at most {MAX_URL} characters")));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(f.error("must not hold a space or a control character"));
    }
    let url = url::Url::parse(s).map_err(|_| f.error("must be an absolute https URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(f.error("must not carry a user name or a password"));
    }
    if url.as_str().chars().count() > MAX_URL {
        return Err(f.error(format!("must be at most {MAX_URL} characters")));
    }
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let normalized = || Ok(url.as_str().to_string());
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => normalized(),
        "http" if local && environment == Environment::Test => normalized(),
        "http" if local => {
            Err(f.error("http is allowed only for localhost in the test environment"))
        }
        _ => Err(f.error("must be an absolute https URL")),
    }
}

pub fn parse_metadata(f: Field<'_>) -> FieldResult<Map<String, Value>> {
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
        if has_control(k) || matches!(v, Value::String(s) if has_control(s)) {
            return Err(f.error(format!("must not hold control characters ({k:?})")));
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
