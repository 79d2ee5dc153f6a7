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

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no
/// reflection, no final XOR — the checksum EMVCo tag `63` carries.
///
/// Bit by bit rather than table-driven: payloads are a few hundred bytes, so
/// the table would buy nothing measurable.
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// One TLV field of an EMVCo payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmvField {
    id: u8,
    value: String,
    subfields: Option<Vec<EmvField>>,
}

impl EmvField {
    /// The 2-digit ID as a number (`"05"` is 5).
    pub fn id(&self) -> u8 {
        self.id
    }

    /// The raw value (for a template, its unparsed TLV text).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The nested fields, if this ID is a template (26–51, 62, 64, 80–99).
    pub fn subfields(&self) -> Option<&[EmvField]> {
        self.subfields.as_deref()
    }

    /// The nested field with this ID, if this is a template that has it.
    pub fn subfield(&self, id: u8) -> Option<&EmvField> {
        self.subfields()?.iter().find(|f| f.id == id)
    }
}

/// A structurally valid EMVCo merchant-presented payload with a correct CRC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmvPayload {
    raw: String,
    fields: Vec<EmvField>,
}

impl EmvPayload {
    /// The payload exactly as given (what goes into the QR code).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn into_string(self) -> String {
        self.raw
    }

    /// Top-level fields in payload order, from `00` to `63`.
    pub fn fields(&self) -> &[EmvField] {
        &self.fields
    }

    pub fn field(&self, id: u8) -> Option<&EmvField> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Value of a top-level field, e.g. `value(54)` for the amount.
    pub fn value(&self, id: u8) -> Option<&str> {
        self.field(id).map(EmvField::value)
    }

    /// Value of a field nested in a template, e.g. `sub_value(62, 5)`.
    pub fn sub_value(&self, id: u8, sub_id: u8) -> Option<&str> {
        self.field(id)?.subfield(sub_id).map(EmvField::value)
    }
}

/// IDs whose value is itself a TLV list, per EMVCo MPM: merchant account
/// templates, additional data, language template and unreserved templates.
fn is_template(id: u8) -> bool {
    matches!(id, 26..=51 | 62 | 64 | 80..=99)
}

fn malformed(offset: usize, reason: &'static str) -> PayloadError {
    PayloadError::MalformedEmv { offset, reason }
}

fn two_digits(pair: &[char]) -> Option<u8> {
    match pair {
        [a, b] => {
            let hi = a.to_digit(10)?;
            let lo = b.to_digit(10)?;
            // Both are below 10, so the result is at most 99.
            u8::try_from(hi * 10 + lo).ok()
        }
        _ => None,
    }
}

/// Parses the TLV list in `chars[start..end]`; offsets in errors are absolute
/// character positions in the whole payload.
fn parse_tlvs(
    chars: &[char],
    start: usize,
    end: usize,
    top_level: bool,
) -> Result<Vec<EmvField>, PayloadError> {
    let mut fields: Vec<EmvField> = Vec::new();
    let mut pos = start;
    while pos < end {
        if end - pos < 4 {
            return Err(malformed(
                pos,
                "truncated field: an ID and a length take 4 characters",
            ));
        }
        let id = two_digits(&chars[pos..pos + 2])
            .ok_or_else(|| malformed(pos, "a field ID must be 2 digits"))?;
        let len = two_digits(&chars[pos + 2..pos + 4])
            .ok_or_else(|| malformed(pos + 2, "a field length must be 2 digits"))?;
        if len == 0 {
            return Err(malformed(pos + 2, "a field length must be at least 01"));
        }
        let value_start = pos + 4;
        let value_end = value_start + usize::from(len);
        if value_end > end {
            return Err(malformed(
                pos + 2,
                "the field is longer than what is left of the payload or its template",
            ));
        }
        if fields.iter().any(|f| f.id == id) {
            return Err(malformed(pos, "the same field ID appears twice"));
        }
        // EMVCo nests one level only: sub-fields of a template are primitive.
        let subfields = if top_level && is_template(id) {
            Some(parse_tlvs(chars, value_start, value_end, false)?)
        } else {
            None
        };
        fields.push(EmvField {
            id,
            value: chars[value_start..value_end].iter().collect(),
            subfields,
        });
        pos = value_end;
    }
    Ok(fields)
}

/// Parses and checks an EMVCo merchant-presented payload.
///
/// Checks, in this order: it ends with `6304` and 4 upper-case hex digits;
/// the CRC matches (checked first because a mismatch is the most useful
/// message for a mistyped or altered payload); every field has a 2-digit ID
/// and a 2-digit, non-zero length counted in characters that stays inside its
/// parent; IDs are unique within their template; templates parse; `00`=`01`
/// is first and the CRC field is last.
pub fn parse_emv(input: &str) -> Result<EmvPayload, PayloadError> {
    let chars: Vec<char> = input.chars().collect();
    let n = chars.len();
    if n < 8 || chars[n - 8..n - 4] != ['6', '3', '0', '4'] {
        return Err(malformed(
            n.saturating_sub(8),
            "it must end with the CRC field: `6304` and 4 hex digits",
        ));
    }
    let found: String = chars[n - 4..].iter().collect();
    if !found
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    {
        return Err(malformed(
            n - 4,
            "the CRC must be 4 upper-case hexadecimal digits",
        ));
    }
    // The last 4 characters are ASCII, hence 4 bytes.
    let covered = &input[..input.len() - 4];
    let expected = format!("{:04X}", crc16_ccitt_false(covered.as_bytes()));
    if expected != found {
        return Err(PayloadError::CrcMismatch { found, expected });
    }

    let fields = parse_tlvs(&chars, 0, n, true)?;
    match fields.first() {
        Some(first) if first.id == 0 && first.value == "01" => {}
        _ => {
            return Err(malformed(
                0,
                "it must start with the payload format indicator `000201`",
            ));
        }
    }
    match fields.last() {
        // The input ends in `6304xxxx`, so a last field 63 of 4 characters
        // is exactly that CRC field.
        Some(last) if last.id == 63 && last.value.chars().count() == 4 => {}
        _ => {
            return Err(malformed(
                n - 8,
                "the CRC field `6304` must be the last field",
            ));
        }
    }
    Ok(EmvPayload {
        raw: input.to_owned(),
        fields,
    })
}

/// A UEMOA member state, as PI-SPI tag `58` spells it (ISO 3166-1 alpha-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Country {
    Benin,
    BurkinaFaso,
    CoteDIvoire,
    Mali,
    Niger,
    Senegal,
    Togo,
    GuineaBissau,
}

impl Country {
    pub const ALL: [Country; 8] = [
        Country::Benin,
        Country::BurkinaFaso,
        Country::CoteDIvoire,
        Country::Mali,
        Country::Niger,
        Country::Senegal,
        Country::Togo,
        Country::GuineaBissau,
    ];

    /// The upper-case ISO 3166-1 alpha-2 code, e.g. `"CI"`.
    pub fn code(self) -> &'static str {
        match self {
            Country::Benin => "BJ",
            Country::BurkinaFaso => "BF",
            Country::CoteDIvoire => "CI",
            Country::Mali => "ML",
            Country::Niger => "NE",
            Country::Senegal => "SN",
            Country::Togo => "TG",
            Country::GuineaBissau => "GW",
        }
    }
}

impl FromStr for Country {
    type Err = PayloadError;

    /// Exact upper-case codes only: the payload must carry them that way, and
    /// accepting `ci` here would make the JSON and the payload disagree.
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Country::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| PayloadError::InvalidCountry {
                found: code.to_owned(),
            })
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The merchant's reference for a PI-SPI payment (tag 62.05).
///
/// Allowed: 1 to 25 characters of EMVCo `ans`, i.e. printable ASCII from
/// space (U+0020) to `~` (U+007E), not starting or ending with a space (banks
/// may trim it, and then the reference a payer sees would not match).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference(String);

impl Reference {
    pub const MAX_CHARS: usize = 25;

    pub fn new(text: &str) -> Result<Self, PayloadError> {
        let invalid = |reason: String| PayloadError::InvalidReference { reason };
        if text.is_empty() {
            return Err(invalid("must not be empty".to_owned()));
        }
        if let Some((i, c)) = text
            .chars()
            .enumerate()
            .find(|&(_, c)| !(' '..='~').contains(&c))
        {
            return Err(invalid(format!(
                "may only contain printable ASCII characters (space to ~); found {c:?} at position {}",
                i + 1
            )));
        }
        // All ASCII from here on, so bytes are characters.
        if text.len() > Self::MAX_CHARS {
            return Err(invalid(format!(
                "must be at most {} characters (got {})",
                Self::MAX_CHARS,
                text.len()
            )));
        }
        if text.starts_with(' ') || text.ends_with(' ') {
            return Err(invalid("must not start or end with a space".to_owned()));
        }
        Ok(Reference(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Reference {
    type Err = PayloadError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Reference::new(text)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The PI-SPI initiation channel (tag 62.11): exactly 3 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel([u8; 3]);

impl Channel {
    /// Static QR code (no amount).
    pub const STATIC: Channel = Channel(*b"000");
    /// Dynamic QR code (with an amount) shown by this server.
    pub const DYNAMIC: Channel = Channel(*b"400");

    pub fn new(digits: &str) -> Result<Self, PayloadError> {
        match digits.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => Ok(Channel([a, b, c])),
            _ => Err(PayloadError::InvalidChannel {
                found: digits.to_owned(),
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("000")
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that varies in a BCEAO PI-SPI payload.
///
/// `build` and `parse` are exact inverses: `parse` accepts only the canonical
/// form `build` produces (field order, lower-case alias, no leading zeros), so
/// a payload that parses is byte for byte the one its fields build.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PiSpiFields {
    /// The payee's SHID (a UUID v4), tag 36.01.
    pub alias: Uuid,
    pub country: Country,
    pub reference: Reference,
    /// Whole francs (tag 54); `None` for a static QR code, which omits it.
    pub amount: Option<u64>,
    pub channel: Channel,
}

/// Appends one TLV field; lengths count characters, as EMVCo requires.
fn push_tlv(out: &mut String, id: u8, value: &str) {
    let len = value.chars().count();
    // Every PI-SPI value is far below 100 characters (the longest, tag 36,
    // is 56), so two digits always suffice.
    debug_assert!(id < 100 && len < 100);
    for n in [usize::from(id), len] {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    }
    out.push_str(value);
}

fn not_pi_spi(reason: impl Into<String>) -> PayloadError {
    PayloadError::NotPiSpi {
        reason: reason.into(),
    }
}

/// A SHID written as 8-4-4-4-12 hex digits, version 4 (either case).
fn parse_alias(text: &str) -> Result<Uuid, PayloadError> {
    // `Uuid::try_parse` also takes the simple, braced and URN forms; only the
    // hyphenated one is 36 characters long.
    let uuid = Uuid::try_parse(text)
        .ok()
        .filter(|_| text.len() == 36)
        .ok_or(PayloadError::InvalidAlias {
            reason: "must be a UUID written as 8-4-4-4-12 hexadecimal digits",
        })?;
    if uuid.get_version_num() != 4 || uuid.get_variant() != uuid::Variant::RFC4122 {
        return Err(PayloadError::InvalidAlias {
            reason: "must be a version 4 UUID (a PI-SPI SHID)",
        });
    }
    Ok(uuid)
}

impl PiSpiFields {
    /// The EMVCo payload, CRC included.
    pub fn build(&self) -> String {
        let mut account = String::with_capacity(56);
        push_tlv(&mut account, 0, PI_SPI_GUID);
        push_tlv(&mut account, 1, &self.alias.hyphenated().to_string());

        let mut additional = String::with_capacity(36);
        push_tlv(&mut additional, 5, self.reference.as_str());
        push_tlv(&mut additional, 11, self.channel.as_str());

        let mut out = String::with_capacity(160);
        push_tlv(&mut out, 0, "01");
        push_tlv(&mut out, 36, &account);
        push_tlv(&mut out, 52, "0000");
        push_tlv(&mut out, 53, "952");
        if let Some(amount) = self.amount {
            push_tlv(&mut out, 54, &amount.to_string());
        }
        push_tlv(&mut out, 58, self.country.code());
        push_tlv(&mut out, 59, "X");
        push_tlv(&mut out, 60, "X");
        push_tlv(&mut out, 62, &additional);
        out.push_str("6304");
        let crc = crc16_ccitt_false(out.as_bytes());
        out.push_str(&format!("{crc:04X}"));
        out
    }

    /// Reads the fields back from a PI-SPI payload built as [`Self::build`]
    /// builds it.
    ///
    /// Anything else is refused, including valid EMVCo payloads with extra
    /// fields and any non-ASCII character: CRC-16 only guarantees to catch
    /// substitutions that change at most 16 consecutive bits, and an ASCII
    /// character replaced by a multi-byte one changes more.
    pub fn parse(input: &str) -> Result<Self, PayloadError> {
        if !input.is_ascii() {
            return Err(not_pi_spi("PI-SPI payloads are plain ASCII"));
        }
        let emv = parse_emv(input)?;
        let ids: Vec<u8> = emv.fields().iter().map(EmvField::id).collect();
        if ids != PI_SPI_STATIC_IDS && ids != PI_SPI_DYNAMIC_IDS {
            let found: Vec<String> = ids.iter().map(|id| format!("{id:02}")).collect();
            return Err(not_pi_spi(format!(
                "expected fields 00 36 52 53 [54] 58 59 60 62 63 in that order, found {}",
                found.join(" ")
            )));
        }
        // The ID check above guarantees every lookup below finds its field.
        let value = |id: u8| emv.value(id).unwrap_or_default();

        let account = subfields_exactly(&emv, 36, [0, 1])?;
        if account[0].value() != PI_SPI_GUID {
            return Err(not_pi_spi("field 36.00 must be int.bceao.pi"));
        }
        let alias = parse_alias(account[1].value())?;
        if account[1].value() != alias.hyphenated().to_string() {
            return Err(PayloadError::InvalidAlias {
                reason: "must be written in lower case in a payload",
            });
        }
        if value(52) != "0000" {
            return Err(not_pi_spi("field 52 (merchant category) must be 0000"));
        }
        if value(53) != "952" {
            return Err(not_pi_spi("field 53 (currency) must be 952, XOF"));
        }
        let amount = match emv.value(54) {
            None => None,
            Some(text) => Some(parse_amount(text)?),
        };
        let country = value(58).parse::<Country>()?;
        if value(59) != "X" || value(60) != "X" {
            return Err(not_pi_spi("fields 59 and 60 must both be X"));
        }
        let additional = subfields_exactly(&emv, 62, [5, 11])?;
        let reference = Reference::new(additional[0].value())?;
        let channel = Channel::new(additional[1].value())?;

        let fields = PiSpiFields {
            alias,
            country,
            reference,
            amount,
            channel,
        };
        // Every field was checked against its canonical spelling above; this
        // keeps `parse` an exact inverse of `build` even if a check is missed.
        if fields.build() != input {
            return Err(not_pi_spi("it is not in canonical PI-SPI form"));
        }
        Ok(fields)
    }
}

/// The template `id` of `emv`, which must hold exactly the sub-IDs `expected`
/// in that order.
fn subfields_exactly<const N: usize>(
    emv: &EmvPayload,
    id: u8,
    expected: [u8; N],
) -> Result<&[EmvField], PayloadError> {
    let subfields = emv.field(id).and_then(EmvField::subfields).unwrap_or(&[]);
    let ids: Vec<u8> = subfields.iter().map(EmvField::id).collect();
    if ids != expected {
        let wanted: Vec<String> = expected.iter().map(|s| format!("{s:02}")).collect();
        return Err(not_pi_spi(format!(
            "field {id} must hold exactly the sub-fields {} in that order",
            wanted.join(" ")
        )));
    }
    Ok(subfields)
}

/// Whole francs, digits only, without leading zeros (so it is canonical).
fn parse_amount(text: &str) -> Result<u64, PayloadError> {
    let canonical =
        text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    text.parse::<u64>()
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| {
            not_pi_spi("field 54 (amount) must be whole francs: digits only, no leading zero")
        })
}

/// A PI-SPI payee as given in `qr_code_data`; the amount and channel come from
/// the session when the payload is built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PiSpiAccount {
    pub alias: Uuid,
    pub country: Country,
    pub reference: Reference,
}

impl PiSpiAccount {
    /// Fields of a static code: no amount, channel `000`.
    pub fn static_fields(&self) -> PiSpiFields {
        self.fields(None, Channel::STATIC)
    }

    /// Fields of a dynamic code: the amount, channel `400`.
    pub fn dynamic_fields(&self, amount: u64) -> PiSpiFields {
        self.fields(Some(amount), Channel::DYNAMIC)
    }

    pub fn fields(&self, amount: Option<u64>, channel: Channel) -> PiSpiFields {
        PiSpiFields {
            alias: self.alias,
            country: self.country,
            reference: self.reference.clone(),
            amount,
            channel,
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
    pub fn to_json(&self) -> Value {
        match self {
            QrCodeData::Emv(emv) => serde_json::json!({ "payload": emv.as_str() }),
            QrCodeData::Link(link) => serde_json::json!({ "payload": link.as_str() }),
            QrCodeData::PiSpi(account) => serde_json::json!({
                "alias": account.alias.hyphenated().to_string(),
                "country": account.country.code(),
                "reference": account.reference.as_str(),
            }),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const BCEAO_EXAMPLE: &str = "00020136560012int.bceao.pi0136111c3e1b-4312-49ec-b75e-4c8c74c10fd7520400005303952540410005802CI5901X6001X62270516F2YG7643D5HH2023110350063049618";
    const ALIAS: &str = "111c3e1b-4312-49ec-b75e-4c8c74c10fd7";

    fn example_fields() -> PiSpiFields {
        PiSpiFields {
            alias: Uuid::parse_str(ALIAS).unwrap(),
            country: Country::CoteDIvoire,
            reference: Reference::new("F2YG7643D5HH2023").unwrap(),
            amount: Some(1000),
            channel: Channel::new("500").unwrap(),
        }
    }

    fn account() -> PiSpiAccount {
        PiSpiAccount {
            alias: Uuid::parse_str(ALIAS).unwrap(),
            country: Country::Senegal,
            reference: Reference::new("ORDER-42").unwrap(),
        }
    }

    /// `body` followed by `6304` and its correct CRC, to test structure
    /// errors that the CRC would otherwise mask.
    fn with_crc(body: &str) -> String {
        let mut s = format!("{body}6304");
        let crc = crc16_ccitt_false(s.as_bytes());
        s.push_str(&format!("{crc:04X}"));
        s
    }

    fn malformed_reason(input: &str) -> &'static str {
        match parse_emv(input) {
            Err(PayloadError::MalformedEmv { reason, .. }) => reason,
            other => panic!("expected MalformedEmv for {input:?}, got {other:?}"),
        }
    }

    fn json_error(value: Value) -> PayloadError {
        QrCodeData::from_json(&value).expect_err("should be refused")
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
        assert_eq!(format!("{:04X}", crc16_ccitt_false(b"123456789")), "29B1");
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
    }

    #[test]
    fn bceao_example_is_reproduced_from_its_fields() {
        assert_eq!(example_fields().build(), BCEAO_EXAMPLE);
    }

    #[test]
    fn bceao_example_parses_back() {
        assert_eq!(PiSpiFields::parse(BCEAO_EXAMPLE).unwrap(), example_fields());

        let emv = parse_emv(BCEAO_EXAMPLE).unwrap();
        assert_eq!(emv.as_str(), BCEAO_EXAMPLE);
        let ids: Vec<u8> = emv.fields().iter().map(EmvField::id).collect();
        assert_eq!(ids, PI_SPI_DYNAMIC_IDS);
        assert_eq!(emv.value(0), Some("01"));
        assert_eq!(emv.sub_value(36, 0), Some("int.bceao.pi"));
        assert_eq!(emv.sub_value(36, 1), Some(ALIAS));
        assert_eq!(emv.value(54), Some("1000"));
        assert_eq!(emv.value(58), Some("CI"));
        assert_eq!(emv.sub_value(62, 5), Some("F2YG7643D5HH2023"));
        assert_eq!(emv.sub_value(62, 11), Some("500"));
        assert_eq!(emv.value(63), Some("9618"));
        // Primitive fields have no sub-fields; templates keep their raw text.
        assert!(emv.field(54).unwrap().subfields().is_none());
        assert_eq!(emv.value(62), Some("0516F2YG7643D5HH20231103500"));
    }

    #[test]
    fn static_and_dynamic_payloads() {
        let static_payload = account().static_fields().build();
        let emv = parse_emv(&static_payload).unwrap();
        assert_eq!(emv.value(54), None);
        assert_eq!(emv.sub_value(62, 11), Some("000"));
        let back = PiSpiFields::parse(&static_payload).unwrap();
        assert_eq!(back.amount, None);
        assert_eq!(back.channel, Channel::STATIC);

        let dynamic_payload = account().dynamic_fields(25_000).build();
        let emv = parse_emv(&dynamic_payload).unwrap();
        assert_eq!(emv.value(54), Some("25000"));
        assert_eq!(emv.sub_value(62, 11), Some("400"));
        let back = PiSpiFields::parse(&dynamic_payload).unwrap();
        assert_eq!(back.amount, Some(25_000));
        assert_eq!(back.channel, Channel::DYNAMIC);
    }

    #[test]
    fn payload_for_a_session() {
        let data = QrCodeData::PiSpi(account());
        assert_eq!(
            data.payload_for(1500, true).unwrap(),
            account().dynamic_fields(1500).build()
        );
        // A static code ignores the amount, even one a dynamic code refuses.
        assert_eq!(
            data.payload_for(0, false).unwrap(),
            account().static_fields().build()
        );
        for amount in [0, MAX_AMOUNT + 1, u64::MAX] {
            let err = data.payload_for(amount, true).unwrap_err();
            assert_eq!(err, PayloadError::AmountOutOfRange { amount });
            assert_eq!(err.field(), "amount_total");
        }
        let largest = data.payload_for(MAX_AMOUNT, true).unwrap();
        assert_eq!(
            parse_emv(&largest).unwrap().value(54),
            Some("9999999999999")
        );

        let ready = QrCodeData::ready(BCEAO_EXAMPLE).unwrap();
        assert_eq!(ready.payload_for(1, true).unwrap(), BCEAO_EXAMPLE);
        let link = QrCodeData::ready("wave://pay?m=42").unwrap();
        assert_eq!(link.payload_for(7, false).unwrap(), "wave://pay?m=42");
    }

    #[test]
    fn wrong_crc_is_rejected() {
        let mut wrong = BCEAO_EXAMPLE.to_owned();
        wrong.replace_range(wrong.len() - 1.., "9");
        assert_eq!(
            parse_emv(&wrong),
            Err(PayloadError::CrcMismatch {
                found: "9619".to_owned(),
                expected: "9618".to_owned()
            })
        );
        // An altered amount with the old CRC.
        let altered = BCEAO_EXAMPLE.replace("54041000", "54049000");
        assert!(matches!(
            parse_emv(&altered),
            Err(PayloadError::CrcMismatch { .. })
        ));
        // Not hexadecimal at all.
        let lower = format!("{}{}", &with_crc("0002015802CI")[..16], "wxyz");
        assert_eq!(
            malformed_reason(&lower),
            "the CRC must be 4 upper-case hexadecimal digits"
        );
    }

    #[test]
    fn lower_case_hex_of_the_right_crc_is_rejected() {
        // Find a body whose CRC has a hex letter, then lower-case it.
        let payload = (0..)
            .map(|i| with_crc(&format!("0002015802CI5903{i:03}")))
            .find(|p| p[p.len() - 4..].bytes().any(|b| b.is_ascii_uppercase()))
            .unwrap();
        let (body, crc) = payload.split_at(payload.len() - 4);
        let lowered = format!("{body}{}", crc.to_ascii_lowercase());
        assert!(parse_emv(&payload).is_ok());
        assert_eq!(
            malformed_reason(&lowered),
            "the CRC must be 4 upper-case hexadecimal digits"
        );
    }

    #[test]
    fn bad_lengths_are_rejected() {
        // 58 claims 3 characters but holds 2, so it swallows the 6 of 6304.
        assert!(parse_emv(&with_crc("0002015803CI")).is_err());
        assert_eq!(
            malformed_reason(&with_crc("0002015800")),
            "a field length must be at least 01"
        );
        assert_eq!(
            malformed_reason(&with_crc("00020158A2CI")),
            "a field length must be 2 digits"
        );
        // A length that runs past the end of the payload.
        assert_eq!(
            malformed_reason(&with_crc("0002015899CI")),
            "the field is longer than what is left of the payload or its template"
        );
        // A sub-field that runs past the end of its template.
        assert_eq!(
            malformed_reason(&with_crc("00020162060509ABC")),
            "the field is longer than what is left of the payload or its template"
        );
        // The CRC field swallowed by the field before it.
        let swallowed = with_crc("0002015908");
        assert_eq!(
            malformed_reason(&swallowed),
            "the CRC field `6304` must be the last field"
        );
    }

    #[test]
    fn truncated_input_is_rejected() {
        for cut in 1..BCEAO_EXAMPLE.len() {
            assert!(
                parse_emv(&BCEAO_EXAMPLE[..cut]).is_err(),
                "prefix of {cut} accepted"
            );
        }
        assert_eq!(
            malformed_reason(&with_crc("0002015907ab")),
            "truncated field: an ID and a length take 4 characters"
        );
        assert!(parse_emv("").is_err());
    }

    #[test]
    fn missing_crc_field_is_rejected() {
        let without = &BCEAO_EXAMPLE[..BCEAO_EXAMPLE.len() - 8];
        assert_eq!(
            malformed_reason(without),
            "it must end with the CRC field: `6304` and 4 hex digits"
        );
        let wrong_len = BCEAO_EXAMPLE.replace("63049618", "63059618");
        assert_eq!(
            malformed_reason(&wrong_len),
            "it must end with the CRC field: `6304` and 4 hex digits"
        );
    }

    #[test]
    fn non_digit_ids_are_rejected() {
        assert_eq!(
            malformed_reason(&with_crc("0002015A02CI")),
            "a field ID must be 2 digits"
        );
        assert_eq!(
            malformed_reason(&with_crc("00020162060A02AB")),
            "a field ID must be 2 digits"
        );
    }

    #[test]
    fn payload_must_start_with_format_indicator() {
        assert_eq!(
            malformed_reason(&with_crc("0002025802CI")),
            "it must start with the payload format indicator `000201`"
        );
        assert_eq!(
            malformed_reason(&with_crc("5802CI000201")),
            "it must start with the payload format indicator `000201`"
        );
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        assert_eq!(
            malformed_reason(&with_crc("0002015802CI5802SN")),
            "the same field ID appears twice"
        );
        assert_eq!(
            malformed_reason(&with_crc("00020162100501A0501B")),
            "the same field ID appears twice"
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        // "Côte €" is 6 characters but 9 bytes.
        let ok = with_crc("0002015906Côte €");
        let emv = parse_emv(&ok).unwrap();
        assert_eq!(emv.value(59), Some("Côte €"));
        assert!(parse_emv(&with_crc("0002015909Côte €")).is_err());

        // Inside a template too: 05 holds "é!" (2 characters, 3 bytes).
        let nested = with_crc("00020162060502é!");
        assert_eq!(parse_emv(&nested).unwrap().sub_value(62, 5), Some("é!"));
        assert!(parse_emv(&with_crc("00020162070503é!")).is_err());

        // Error offsets are in characters as well.
        match parse_emv(&with_crc("0002015902éé58A2CI")) {
            Err(PayloadError::MalformedEmv { offset, .. }) => assert_eq!(offset, 14),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn pi_spi_parse_refuses_other_payloads() {
        // Valid EMVCo, but not PI-SPI.
        let other = with_crc("0002015802CI");
        assert!(parse_emv(&other).is_ok());
        assert!(matches!(
            PiSpiFields::parse(&other),
            Err(PayloadError::NotPiSpi { .. })
        ));

        let canonical = example_fields().build();
        let body = &canonical[..canonical.len() - 8];

        // Leading zeros in the amount.
        let padded = with_crc(&body.replace("54041000", "540501000"));
        let err = PiSpiFields::parse(&padded).unwrap_err();
        assert!(matches!(err, PayloadError::NotPiSpi { .. }), "{err}");

        // Upper-case alias.
        let upper = with_crc(&body.replace(ALIAS, &ALIAS.to_ascii_uppercase()));
        assert_eq!(
            PiSpiFields::parse(&upper).unwrap_err().field(),
            "qr_code_data.alias"
        );

        // A version 1 UUID is not a SHID.
        let v1 = with_crc(&body.replace("49ec", "19ec"));
        assert_eq!(
            PiSpiFields::parse(&v1).unwrap_err().field(),
            "qr_code_data.alias"
        );

        // Another scheme's GUID.
        let guid = with_crc(&body.replace("int.bceao.pi", "int.other.pi"));
        assert!(matches!(
            PiSpiFields::parse(&guid),
            Err(PayloadError::NotPiSpi { .. })
        ));

        // Another currency.
        let eur = with_crc(&body.replace("5303952", "5303978"));
        assert!(matches!(
            PiSpiFields::parse(&eur),
            Err(PayloadError::NotPiSpi { .. })
        ));

        // A country outside UEMOA.
        let fr = with_crc(&body.replace("5802CI", "5802FR"));
        assert_eq!(
            PiSpiFields::parse(&fr).unwrap_err().field(),
            "qr_code_data.country"
        );

        // Fields in another order.
        let swapped = with_crc(&body.replace("5901X6001X", "6001X5901X"));
        assert!(parse_emv(&swapped).is_ok());
        assert!(matches!(
            PiSpiFields::parse(&swapped),
            Err(PayloadError::NotPiSpi { .. })
        ));
    }

    #[test]
    fn every_ascii_substitution_of_the_example_is_rejected() {
        // CRC-16 with a generator that has an x^0 term detects every burst of
        // at most 16 bits; replacing one ASCII character by another flips
        // bits inside one byte, so the CRC must catch all of them. Changes to
        // the CRC digits themselves fail the comparison (or the hex check).
        let bytes = BCEAO_EXAMPLE.as_bytes();
        for i in 0..bytes.len() {
            for b in 0x20..=0x7Eu8 {
                if b == bytes[i] {
                    continue;
                }
                let mut mutated = bytes.to_vec();
                mutated[i] = b;
                let mutated = String::from_utf8(mutated).unwrap();
                assert!(parse_emv(&mutated).is_err(), "accepted {mutated:?}");
                assert!(PiSpiFields::parse(&mutated).is_err());
            }
        }
    }

    #[test]
    fn non_ascii_substitution_can_fool_the_crc_but_not_pi_spi_parse() {
        // Replacing an ASCII character by a multi-byte one changes more than
        // 16 consecutive bits, so the CRC catches it only with probability
        // 1 - 2^-16. Find such a collision in the reference and show that the
        // generic parser accepts it, which is why `PiSpiFields::parse`
        // insists on ASCII.
        let position = BCEAO_EXAMPLE.find("F2YG").unwrap();
        let collision = ('\u{80}'..='\u{10FFFF}')
            .map(|c| {
                let mut s = BCEAO_EXAMPLE.to_owned();
                s.replace_range(position..=position, c.encode_utf8(&mut [0; 4]));
                s
            })
            .find(|s| parse_emv(s).is_ok())
            .expect("a 16-bit CRC must collide among a million characters");
        assert_ne!(collision, BCEAO_EXAMPLE);
        assert!(matches!(
            PiSpiFields::parse(&collision),
            Err(PayloadError::NotPiSpi { .. })
        ));
    }

    #[test]
    fn json_pi_spi_shape() {
        let value =
            json!({"alias": ALIAS.to_ascii_uppercase(), "country": "SN", "reference": "ORDER-42"});
        let data = QrCodeData::from_json(&value).unwrap();
        assert_eq!(data, QrCodeData::PiSpi(account()));
        // The alias is normalised to lower case.
        assert_eq!(
            data.to_json(),
            json!({"alias": ALIAS, "country": "SN", "reference": "ORDER-42"})
        );
        assert_eq!(QrCodeData::try_from(&data.to_json()).unwrap(), data);
        // null counts as absent.
        let with_null =
            json!({"alias": ALIAS, "country": "SN", "reference": "ORDER-42", "payload": null});
        assert_eq!(QrCodeData::from_json(&with_null).unwrap(), data);
    }

    #[test]
    fn json_ready_shape() {
        let emv = QrCodeData::from_json(&json!({"payload": BCEAO_EXAMPLE})).unwrap();
        assert!(matches!(emv, QrCodeData::Emv(ref p) if p.as_str() == BCEAO_EXAMPLE));
        assert_eq!(emv.to_json(), json!({"payload": BCEAO_EXAMPLE}));

        for link in [
            "https://pay.wave.com/c/cos-1b2c3d?a=1000",
            "wave://capture/abc",
            "orangemoney://pay?merchant=42&amount=1000",
            "MTN-MoMo://pay/123",
            "intent://pay/#Intent;scheme=moov;end",
        ] {
            let data = QrCodeData::from_json(&json!({ "payload": link })).unwrap();
            match &data {
                QrCodeData::Link(l) => assert_eq!(l.as_str(), link),
                other => panic!("{other:?}"),
            }
            assert_eq!(QrCodeData::from_json(&data.to_json()).unwrap(), data);
        }
        let wave = Link::parse("wave://capture/abc").unwrap();
        assert_eq!(wave.scheme(), "wave");
    }

    #[test]
    fn dangerous_or_malformed_links_are_rejected() {
        for bad in [
            "javascript:alert(1)",
            "javascript://%0Aalert(1)",
            "JavaScript://%0Aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "data://text/html,x",
            "http://example.com/pay",
            "HTTP://example.com/pay",
            "file:///etc/passwd",
            "vbscript://x",
            "blob://x",
            "mailto:someone@example.com",
            "tel:+2250700000000",
            "https://",
            "https:///path",
            "wave://",
            "java\tscript://x",
            "wave://pay?merchant=Café",
            "wave://pay merchant",
            "//example.com",
            "1wave://x",
            "wa ve://x",
            "not a link",
            "",
            "0002010102",
        ] {
            let err = json_error(json!({ "payload": bad }));
            assert_eq!(err.field(), "qr_code_data.payload", "{bad:?}: {err}");
        }
    }

    #[test]
    fn too_long_payloads_are_rejected() {
        let long = format!("https://pay.example/{}", "a".repeat(2400));
        let err = json_error(json!({ "payload": long }));
        assert_eq!(err, PayloadError::TooLongForQr { bytes: long.len() });
        assert_eq!(err.field(), "qr_code_data.payload");
        // Just under the byte-mode capacity of version 40-M (2331 bytes).
        let fits = format!("https://pay.example/{}", "a".repeat(2331 - 20));
        assert!(QrCodeData::ready(&fits).is_ok());
    }

    #[test]
    fn each_json_error_names_its_field() {
        let cases: Vec<(Value, &str)> = vec![
            (json!("000201"), "qr_code_data"),
            (json!(null), "qr_code_data"),
            (json!({}), "qr_code_data"),
            (json!({"payload": null}), "qr_code_data"),
            (
                json!({"payload": BCEAO_EXAMPLE, "alias": ALIAS}),
                "qr_code_data",
            ),
            (json!({"payload": 42}), "qr_code_data.payload"),
            (
                json!({"payload": "http://x.example"}),
                "qr_code_data.payload",
            ),
            (
                json!({"payload": BCEAO_EXAMPLE.replace("9618", "9619")}),
                "qr_code_data.payload",
            ),
            (
                json!({"payload": &BCEAO_EXAMPLE[..40]}),
                "qr_code_data.payload",
            ),
            (json!({"refrence": "x"}), "qr_code_data.refrence"),
            (
                json!({"alias": ALIAS, "country": "CI", "reference": "R", "amount": 5}),
                "qr_code_data.amount",
            ),
            (
                json!({"country": "CI", "reference": "R"}),
                "qr_code_data.alias",
            ),
            (
                json!({"alias": "not-a-uuid", "country": "CI", "reference": "R"}),
                "qr_code_data.alias",
            ),
            (
                json!({"alias": ALIAS.replace('-', ""), "country": "CI", "reference": "R"}),
                "qr_code_data.alias",
            ),
            (
                json!({"alias": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "country": "CI", "reference": "R"}),
                "qr_code_data.alias",
            ),
            (
                json!({"alias": 7, "country": "CI", "reference": "R"}),
                "qr_code_data.alias",
            ),
            (
                json!({"alias": ALIAS, "reference": "R"}),
                "qr_code_data.country",
            ),
            (
                json!({"alias": ALIAS, "country": "FR", "reference": "R"}),
                "qr_code_data.country",
            ),
            (
                json!({"alias": ALIAS, "country": "ci", "reference": "R"}),
                "qr_code_data.country",
            ),
            (
                json!({"alias": ALIAS, "country": ["CI"], "reference": "R"}),
                "qr_code_data.country",
            ),
            (
                json!({"alias": ALIAS, "country": "CI"}),
                "qr_code_data.reference",
            ),
            (
                json!({"alias": ALIAS, "country": "CI", "reference": ""}),
                "qr_code_data.reference",
            ),
            (
                json!({"alias": ALIAS, "country": "CI", "reference": "A".repeat(26)}),
                "qr_code_data.reference",
            ),
            (
                json!({"alias": ALIAS, "country": "CI", "reference": "Réf-1"}),
                "qr_code_data.reference",
            ),
            (
                json!({"alias": ALIAS, "country": "CI", "reference": "line\nbreak"}),
                "qr_code_data.reference",
            ),
            (
                json!({"alias": ALIAS, "country": "CI", "reference": " ORDER-42"}),
                "qr_code_data.reference",
            ),
        ];
        for (value, field) in cases {
            let err = json_error(value.clone());
            assert_eq!(err.field(), field, "{value}: {err}");
            // The message names the field too, so it reads well on its own.
            let message = err.to_string();
            assert!(message.contains(field), "{message:?} lacks {field}");
        }
    }

    #[test]
    fn reference_character_set() {
        assert!(Reference::new(&"A".repeat(25)).is_ok());
        assert!(Reference::new("Order #42 / 2024-01 (ok)").is_ok());
        assert!(Reference::new("~!\"$%&'*+,-./:;<=>").is_ok());
        assert!(Reference::new("?@[\\]^_`{|}").is_ok());
        for bad in ["", " a", "a ", "tab\there", "é", &"A".repeat(26)] {
            assert_eq!(
                Reference::new(bad).unwrap_err().field(),
                "qr_code_data.reference",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn channel_and_country_parsing() {
        assert_eq!(Channel::new("000").unwrap(), Channel::STATIC);
        assert_eq!(Channel::DYNAMIC.as_str(), "400");
        for bad in ["", "40", "4000", "4a0", "٤٠٠"] {
            let err = Channel::new(bad).unwrap_err();
            assert_eq!(err.field(), "qr_code_data.payload");
        }
        for country in Country::ALL {
            assert_eq!(country.code().parse::<Country>().unwrap(), country);
            assert_eq!(country.to_string(), country.code());
        }
    }

    #[test]
    fn currency_helper() {
        assert!(require_xof("XOF").is_ok());
        assert!(require_xof("xof").is_ok());
        let err = require_xof("EUR").unwrap_err();
        assert_eq!(err.field(), "currency");
        assert!(QrCodeData::PiSpi(account()).check_currency("GHS").is_err());
        let link = QrCodeData::ready("wave://x").unwrap();
        assert!(link.check_currency("GHS").is_ok());
    }

    fn arb_fields() -> impl Strategy<Value = PiSpiFields> {
        (
            any::<[u8; 16]>(),
            proptest::sample::select(Country::ALL.to_vec()),
            "[!-~]([ -~]{0,23}[!-~])?",
            proptest::option::of(any::<u64>()),
            "[0-9]{3}",
        )
            .prop_map(|(bytes, country, reference, amount, channel)| PiSpiFields {
                alias: uuid::Builder::from_random_bytes(bytes).into_uuid(),
                country,
                reference: Reference::new(&reference).unwrap(),
                amount,
                channel: Channel::new(&channel).unwrap(),
            })
    }

    proptest! {
        #[test]
        fn build_then_parse_gives_the_fields_back(fields in arb_fields()) {
            let payload = fields.build();
            prop_assert!(payload.is_ascii());
            prop_assert!(parse_emv(&payload).is_ok());
            prop_assert_eq!(PiSpiFields::parse(&payload).unwrap(), fields);
        }

        /// Exactly what holds for a one-character substitution: with an ASCII
        /// replacement even the generic EMVCo parser refuses it (CRC-16
        /// catches every burst of ≤ 16 bits); with any replacement at all,
        /// the PI-SPI parser refuses it (it insists on ASCII).
        #[test]
        fn any_substitution_is_rejected(
            fields in arb_fields(),
            index in any::<proptest::sample::Index>(),
            // Half printable ASCII, the case the CRC alone must catch.
            replacement in prop_oneof![any::<char>(), (0x20u8..0x7F).prop_map(char::from)],
        ) {
            let payload = fields.build();
            let chars: Vec<char> = payload.chars().collect();
            let i = index.index(chars.len());
            prop_assume!(chars[i] != replacement);
            let mut mutated = chars;
            mutated[i] = replacement;
            let mutated: String = mutated.into_iter().collect();
            prop_assert!(PiSpiFields::parse(&mutated).is_err());
            if replacement.is_ascii() {
                prop_assert!(parse_emv(&mutated).is_err());
            }
        }

        /// Insertions and deletions shift every later field, which the CRC
        /// does not guarantee to catch; what does hold is that no other
        /// string parses to the same fields, because `parse` only accepts
        /// what `build` produces.
        #[test]
        fn insertion_or_deletion_never_gives_the_same_fields(
            fields in arb_fields(),
            index in any::<proptest::sample::Index>(),
            inserted in proptest::option::of(any::<char>()),
        ) {
            let payload = fields.build();
            let mut chars: Vec<char> = payload.chars().collect();
            match inserted {
                Some(c) => chars.insert(index.index(chars.len() + 1), c),
                None => { chars.remove(index.index(chars.len())); }
            }
            let mutated: String = chars.into_iter().collect();
            if let Ok(parsed) = PiSpiFields::parse(&mutated) {
                prop_assert_ne!(&parsed, &fields);
                prop_assert_eq!(parsed.build(), mutated);
            }
        }

        #[test]
        fn json_round_trip(fields in arb_fields()) {
            let data = QrCodeData::PiSpi(PiSpiAccount {
                alias: fields.alias,
                country: fields.country,
                reference: fields.reference.clone(),
            });
            prop_assert_eq!(QrCodeData::from_json(&data.to_json()).unwrap(), data);
        }

        #[test]
        fn emv_parser_never_panics(input in "\\PC{0,80}") {
            let _ = parse_emv(&input);
            let _ = PiSpiFields::parse(&input);
            let _ = QrCodeData::ready(&input);
        }
    }
}
