//! EMVCo merchant-presented payloads: their TLV fields, read and checked (lengths in
//! characters, templates, the CRC of tag `63`).

use super::*;

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
