//! BCEAO PI-SPI payloads: the fields of one (country, reference, channel, amount), read from
//! an EMVCo payload or built into one, and the account a session's `qr_code_data` names.

use super::*;

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

crate::api_string_enum!(Country, Country::ALL, |c| c.code());

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
pub(super) fn parse_alias(text: &str) -> Result<Uuid, PayloadError> {
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
