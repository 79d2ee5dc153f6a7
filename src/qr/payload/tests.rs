//! The payload's rules, BCEAO's published example, and properties of the parser and builder.
//!
//! Longer than the code it tests, on purpose: every rule of the EMVCo and PI-SPI formats has
//! its accepted and refused cases here, beside the properties that hold for any payload.

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
fn a_length_that_swallows_the_crc_field_is_rejected() {
    // 58 claims 3 characters but holds 2, so it swallows the 6 of 6304.
    assert!(parse_emv(&with_crc("0002015803CI")).is_err());
}

#[test]
fn truncated_input_is_rejected() {
    for cut in 1..BCEAO_EXAMPLE.len() {
        assert!(
            parse_emv(&BCEAO_EXAMPLE[..cut]).is_err(),
            "prefix of {cut} accepted"
        );
    }
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

/// Each way a payload's structure can be wrong, and bodies (given their right CRC, which would
/// otherwise mask it) that are wrong that way.
const MALFORMED: &[(&str, &[&str])] = &[
    (
        "truncated field: an ID and a length take 4 characters",
        &["0002015907ab"],
    ),
    (
        "a field ID must be 2 digits",
        &["0002015A02CI", "00020162060A02AB"],
    ),
    (
        "it must start with the payload format indicator `000201`",
        &["0002025802CI", "5802CI000201"],
    ),
    (
        "the same field ID appears twice",
        &["0002015802CI5802SN", "00020162100501A0501B"],
    ),
    ("a field length must be at least 01", &["0002015800"]),
    ("a field length must be 2 digits", &["00020158A2CI"]),
    (
        "the field is longer than what is left of the payload or its template",
        // Past the end of the payload; a sub-field past the end of its template.
        &["0002015899CI", "00020162060509ABC"],
    ),
    (
        "the CRC field `6304` must be the last field",
        // Swallowed by the field before it.
        &["0002015908"],
    ),
];

#[test]
fn each_malformation_is_rejected_with_its_reason() {
    for &(reason, bodies) in MALFORMED {
        for body in bodies {
            assert_eq!(malformed_reason(&with_crc(body)), reason, "{body}");
        }
    }
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
