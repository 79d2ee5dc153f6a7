//! What goes *inside* a checkout QR code.
//!
//! A session's `qr_code_data` arrives as untrusted JSON in one of two shapes:
//! `{"payload": "..."}` (a ready EMVCo merchant-presented string or a
//! provider's `https://`/app deep link) or
//! `{"alias": "<SHID>", "country": "CI", "reference": "ORDER-42"}` (a BCEAO
//! PI-SPI account, for which this module builds the EMVCo payload itself).
//! [`QrCodeData::from_json`] checks it once and returns typed values, so the
//! rest of the server never handles an unchecked payload; every error names the
//! JSON field at fault.
//!
//! EMVCo merchant-presented payloads are TLV strings: a 2-digit ID, a 2-digit
//! length counted in *characters*, then the value; ID `00` (`01`) comes first
//! and ID `63` (a CRC-16/CCITT-FALSE over everything before its value,
//! including the literal `6304`) comes last.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::render::fits_in_qr;

mod emv;
mod pi_spi;
#[cfg(test)]
mod tests;

pub use emv::{EmvField, EmvPayload, crc16_ccitt_false, parse_emv};
use pi_spi::parse_alias;
pub use pi_spi::{Channel, Country, PiSpiAccount, PiSpiFields, Reference};

/// Largest amount tag `54` can carry: EMVCo caps its length at 13 characters.
pub const MAX_AMOUNT: u64 = 9_999_999_999_999;

/// Globally unique identifier of the BCEAO instant-payment scheme (tag 36.00).
const PI_SPI_GUID: &str = "int.bceao.pi";

/// Top-level tags of a PI-SPI payload, in the order BCEAO specifies.
const PI_SPI_STATIC_IDS: [u8; 9] = [0, 36, 52, 53, 58, 59, 60, 62, 63];
const PI_SPI_DYNAMIC_IDS: [u8; 10] = [0, 36, 52, 53, 54, 58, 59, 60, 62, 63];

/// URL schemes refused for a ready payload even in `scheme://` form: they are
/// not a provider's app, and several run code or read local data when a
/// browser follows them (e.g. `javascript://%0Aalert(1)` is valid JavaScript).
const BLOCKED_SCHEMES: &[&str] = &[
    "http",
    "javascript",
    "vbscript",
    "data",
    "file",
    "blob",
    "about",
    "filesystem",
    "view-source",
    "ftp",
    "ftps",
    "sftp",
    "ws",
    "wss",
    "jar",
    "chrome",
    "resource",
];

/// Why a `qr_code_data` value, an EMVCo payload or a PI-SPI field was refused.
///
/// [`PayloadError::field`] names the JSON field at fault (for API error
/// bodies); `Display` gives a sentence that already mentions it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(
        "qr_code_data must be a JSON object with either `payload`, or `alias`, `country` and `reference`"
    )]
    NotAnObject,
    #[error("qr_code_data must contain either `payload`, or `alias`, `country` and `reference`")]
    NoShape,
    #[error(
        "qr_code_data must contain either `payload` or `alias`/`country`/`reference`, not both"
    )]
    MixedShapes,
    #[error("{field} is not a known field of qr_code_data")]
    UnknownField { field: String },
    #[error("{field} is required")]
    MissingField { field: &'static str },
    #[error("{field} must be a string")]
    NotAString { field: &'static str },
    #[error("qr_code_data.alias {reason}")]
    InvalidAlias { reason: &'static str },
    #[error("qr_code_data.country must be one of BJ, BF, CI, ML, NE, SN, TG, GW (got {found:?})")]
    InvalidCountry { found: String },
    #[error("qr_code_data.reference {reason}")]
    InvalidReference { reason: String },
    #[error("qr_code_data.payload {reason}")]
    InvalidPayload { reason: String },
    #[error("qr_code_data.payload is not a valid EMVCo payload: {reason} (at character {})", .offset + 1)]
    MalformedEmv {
        /// Zero-based character position; the message counts from 1.
        offset: usize,
        reason: &'static str,
    },
    #[error(
        "qr_code_data.payload has a wrong CRC: it says {found} but its content gives {expected}, so it was altered or mistyped"
    )]
    CrcMismatch { found: String, expected: String },
    #[error("qr_code_data.payload is not a PI-SPI payload: {reason}")]
    NotPiSpi { reason: String },
    #[error(
        "qr_code_data.payload is too long for a QR code at error-correction level M ({bytes} bytes)"
    )]
    TooLongForQr { bytes: usize },
    #[error("the PI-SPI channel in qr_code_data.payload must be exactly 3 digits (got {found:?})")]
    InvalidChannel { found: String },
    #[error(
        "amount_total {amount} cannot go in a dynamic PI-SPI QR code: it must be between 1 and 9999999999999 francs"
    )]
    AmountOutOfRange { amount: u64 },
    #[error("a PI-SPI QR code needs a session in XOF (got currency {found:?})")]
    CurrencyNotXof { found: String },
}

impl PayloadError {
    /// The JSON field at fault, e.g. `qr_code_data.alias`.
    ///
    /// Errors found inside a payload string (structure, CRC, channel) name
    /// `qr_code_data.payload`; errors about a PI-SPI alias, country or
    /// reference name that field even when read back from a payload, because
    /// that is where the value comes from.
    pub fn field(&self) -> &str {
        match self {
            Self::NotAnObject | Self::NoShape | Self::MixedShapes => "qr_code_data",
            Self::UnknownField { field } => field,
            Self::MissingField { field } | Self::NotAString { field } => field,
            Self::InvalidAlias { .. } => "qr_code_data.alias",
            Self::InvalidCountry { .. } => "qr_code_data.country",
            Self::InvalidReference { .. } => "qr_code_data.reference",
            Self::InvalidPayload { .. }
            | Self::MalformedEmv { .. }
            | Self::CrcMismatch { .. }
            | Self::NotPiSpi { .. }
            | Self::TooLongForQr { .. }
            | Self::InvalidChannel { .. } => "qr_code_data.payload",
            Self::AmountOutOfRange { .. } => "amount_total",
            Self::CurrencyNotXof { .. } => "currency",
        }
    }
}

/// A ready payload that is a link: `https://` or a provider's app deep link.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link(String);

impl Link {
    /// Accepts `scheme://rest` with a scheme that is not blocked.
    ///
    /// Rules: visible ASCII only (no spaces or control characters, which
    /// browsers strip and attackers use to hide `java\tscript:`; anything else
    /// must be percent-encoded); an RFC 3986 scheme followed by `://` (which
    /// leaves out `javascript:`, `data:`, `mailto:`…); a scheme outside
    /// [`BLOCKED_SCHEMES`], compared case-insensitively; something after
    /// `://`, and for `https` a host.
    pub fn parse(text: &str) -> Result<Self, PayloadError> {
        let invalid = |reason: String| PayloadError::InvalidPayload { reason };
        if text.is_empty() {
            return Err(invalid("must not be empty".to_owned()));
        }
        if let Some(c) = text.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(invalid(format!(
                "must be an EMVCo payload (starting 000201) or a link of visible ASCII characters; found {c:?}"
            )));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(invalid(
                "must be an EMVCo payload (starting 000201), an https:// link or an app link such as wave://…".to_owned(),
            ));
        };
        let valid_scheme = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !valid_scheme {
            return Err(invalid(format!(
                "starts with {scheme:?}, which is not a URL scheme"
            )));
        }
        let lower = scheme.to_ascii_lowercase();
        if BLOCKED_SCHEMES.contains(&lower.as_str()) {
            return Err(invalid(format!(
                "must not use the {lower}: scheme; use https:// or a payment app's own link"
            )));
        }
        if rest.is_empty() || (lower == "https" && rest.starts_with(['/', '?', '#'])) {
            return Err(invalid(
                "is a link with nothing after its scheme".to_owned(),
            ));
        }
        Ok(Link(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scheme as written, e.g. `https` or `wave`.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("", |(scheme, _)| scheme)
    }
}

/// A checked `qr_code_data` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrCodeData {
    /// A ready EMVCo merchant-presented payload, encoded as given.
    Emv(EmvPayload),
    /// A ready `https://` or app link, encoded as given.
    Link(Link),
    /// A PI-SPI payee; the payload is built per session from its amount.
    PiSpi(PiSpiAccount),
}

const PI_SPI_KEYS: [&str; 3] = ["alias", "country", "reference"];

/// The string at `key`, `None` if absent or `null`.
fn string_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<&'a str>, PayloadError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(PayloadError::NotAString { field }),
    }
}

fn required(
    object: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<String, PayloadError> {
    string_field(object, key, field)?
        .map(str::to_owned)
        .ok_or(PayloadError::MissingField { field })
}

impl QrCodeData {
    /// The country the code's merchant is in: a PI-SPI payee's, or an EMVCo payload's tag
    /// `58` (ISO 3166-1 alpha-2); `None` for a link.
    pub fn country_code(&self) -> Option<&str> {
        match self {
            QrCodeData::PiSpi(account) => Some(account.country.code()),
            QrCodeData::Emv(emv) => emv.value(58),
            QrCodeData::Link(_) => None,
        }
    }

    /// Checks a `qr_code_data` JSON value. Unknown keys are refused so that a
    /// typo (`refrence`) fails loudly instead of being ignored; `null` counts
    /// as absent.
    pub fn from_json(value: &Value) -> Result<Self, PayloadError> {
        let object = value.as_object().ok_or(PayloadError::NotAnObject)?;
        if let Some(key) = object
            .keys()
            .find(|k| k.as_str() != "payload" && !PI_SPI_KEYS.contains(&k.as_str()))
        {
            return Err(PayloadError::UnknownField {
                field: format!("qr_code_data.{key}"),
            });
        }
        let payload = string_field(object, "payload", "qr_code_data.payload")?;
        let has_pi_spi_key = PI_SPI_KEYS
            .iter()
            .any(|k| object.get(*k).is_some_and(|v| !v.is_null()));
        match payload {
            Some(_) if has_pi_spi_key => Err(PayloadError::MixedShapes),
            Some(payload) => Self::ready(payload),
            None if has_pi_spi_key => {
                let alias = required(object, "alias", "qr_code_data.alias")?;
                let country = required(object, "country", "qr_code_data.country")?;
                let reference = required(object, "reference", "qr_code_data.reference")?;
                Ok(QrCodeData::PiSpi(PiSpiAccount {
                    alias: parse_alias(&alias)?,
                    country: country.parse()?,
                    reference: Reference::new(&reference)?,
                }))
            }
            None => Err(PayloadError::NoShape),
        }
    }

    /// A ready payload: EMVCo if it starts `000201`, a link otherwise; either
    /// way it must fit in a QR code at level M.
    pub fn ready(payload: &str) -> Result<Self, PayloadError> {
        // First, because it bounds the work the parsers below can be made to do.
        if !fits_in_qr(payload) {
            return Err(PayloadError::TooLongForQr {
                bytes: payload.len(),
            });
        }
        if payload.starts_with("000201") {
            Ok(QrCodeData::Emv(parse_emv(payload)?))
        } else {
            Ok(QrCodeData::Link(Link::parse(payload)?))
        }
    }

    /// The string to encode for a session of `amount_total` (whole francs).
    ///
    /// Ready payloads come back unchanged. For PI-SPI, `dynamic` puts the
    /// amount in (tag 54, channel 400) and needs 1 ≤ amount ≤ [`MAX_AMOUNT`];
    /// a static code (channel 000) leaves it out and ignores `amount_total`.
    pub fn payload_for(&self, amount_total: u64, dynamic: bool) -> Result<String, PayloadError> {
        match self {
            QrCodeData::Emv(emv) => Ok(emv.as_str().to_owned()),
            QrCodeData::Link(link) => Ok(link.as_str().to_owned()),
            QrCodeData::PiSpi(account) if !dynamic => Ok(account.static_fields().build()),
            QrCodeData::PiSpi(account) => {
                if !(1..=MAX_AMOUNT).contains(&amount_total) {
                    return Err(PayloadError::AmountOutOfRange {
                        amount: amount_total,
                    });
                }
                Ok(account.dynamic_fields(amount_total).build())
            }
        }
    }

    /// PI-SPI settles in XOF only; ready payloads carry their own currency.
    pub fn check_currency(&self, currency: &str) -> Result<(), PayloadError> {
        match self {
            QrCodeData::PiSpi(_) => require_xof(currency),
            QrCodeData::Emv(_) | QrCodeData::Link(_) => Ok(()),
        }
    }

    /// The canonical JSON form, which [`Self::from_json`] reads back.
    pub fn view(&self) -> QrCodeDataView<'_> {
        match self {
            QrCodeData::Emv(emv) => QrCodeDataView::Ready(QrCodeReadyPayload {
                payload: emv.as_str(),
            }),
            QrCodeData::Link(link) => QrCodeDataView::Ready(QrCodeReadyPayload {
                payload: link.as_str(),
            }),
            QrCodeData::PiSpi(account) => QrCodeDataView::PiSpi(QrCodePiSpi {
                alias: account.alias,
                country: account.country,
                reference: account.reference.as_str(),
            }),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).expect("a QR code's data is JSON")
    }
}

impl serde::Serialize for QrCodeData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
    }
}

/// One of two shapes: a ready payload, or a PI-SPI payee for which the server builds the BCEAO
/// EMVCo payload itself (with the session's `amount_total` when `qr_code_type` is `dynamic`).
/// Unknown keys, or keys of both shapes, are 422.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = QrCodeData)]
pub enum QrCodeDataView<'a> {
    Ready(QrCodeReadyPayload<'a>),
    PiSpi(QrCodePiSpi<'a>),
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QrCodeReadyPayload<'a> {
    /// Encoded as given: an EMVCo merchant-presented string (starts `000201`, its CRC is
    /// checked) or an `https://` or app deep link (`wave://…`). `javascript:`, `data:`, `http:`,
    /// `file:` and similar are 422, and so is a payload too long for a QR code.
    #[schema(min_length = 1, example = "https://pay.wave.com/c/cos-1b2c3d")]
    pub payload: &'a str,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QrCodePiSpi<'a> {
    /// The payee's SHID, a UUID v4 (returned lower case).
    pub alias: Uuid,
    /// The UEMOA member state.
    #[schema(inline)]
    pub country: Country,
    /// The merchant's reference: 1 to 25 printable ASCII characters, not starting or ending with
    /// a space.
    #[schema(min_length = 1, max_length = 25, example = "ORDER-42")]
    pub reference: &'a str,
}

impl TryFrom<&Value> for QrCodeData {
    type Error = PayloadError;

    fn try_from(value: &Value) -> Result<Self, Self::Error> {
        QrCodeData::from_json(value)
    }
}

/// Refuses any currency but XOF (case-insensitive), for PI-SPI sessions.
pub fn require_xof(currency: &str) -> Result<(), PayloadError> {
    if currency.eq_ignore_ascii_case("XOF") {
        Ok(())
    } else {
        Err(PayloadError::CurrencyNotXof {
            found: currency.to_owned(),
        })
    }
}
