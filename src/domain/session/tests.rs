//! The session's rules: every field as the API takes it, with its defaults and bounds.

use super::*;
use serde_json::json;

fn rules() -> Rules {
    let now = crate::domain::time::now();
    Rules {
        environment: Environment::Test,
        now,
        max_quantity: 99,
        created_at: now,
        country: None,
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
    // One set of rules for the parse and the check: two reads of the clock can differ by a
    // millisecond.
    let rules = rules();
    let f = SessionFields::parse(base().as_object().unwrap(), &rules).unwrap();
    assert_eq!(f.quantity, 1);
    assert_eq!(f.qr_code_type, QrCodeType::Dynamic);
    assert!(!f.allow_quantity && !f.is_spi);
    assert_eq!(f.expires_at, rules.created_at + DEFAULT_LIFETIME);
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
fn urls_are_stored_normalized_and_never_hold_controls_spaces_or_credentials() {
    for (given, stored) in [
        ("https:shop.example/ok", "https://shop.example/ok"),
        ("https://Shop.Example", "https://shop.example/"),
        (
            "https://bücher.example/ok",
            "https://xn--bcher-kva.example/ok",
        ),
    ] {
        let f = parse(with("success_url", json!(given))).unwrap();
        assert_eq!(f.success_url.unwrap(), stored, "{given}");
    }
    for bad in [
        "https://shop.example/a\nb",
        "https://shop.example/a b",
        "https://shop.example/\u{7f}",
        "https://me@shop.example/",
    ] {
        assert_eq!(
            fields_of(with("success_url", json!(bad))),
            ["success_url"],
            "{bad:?}"
        );
    }
}

#[test]
fn a_placeholder_in_a_path_is_replaced_though_the_parser_encoded_it() {
    let f = parse(with(
        "success_url",
        json!("https://shop.example/done/{CHECKOUT_SESSION_ID}"),
    ))
    .unwrap();
    let id = Uuid::new_v4();
    assert_eq!(
        redirect_url(f.success_url.as_deref().unwrap(), id),
        format!("https://shop.example/done/{id}")
    );
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
fn a_customer_phone_is_read_in_the_organizations_country_else_the_qr_codes() {
    let body = with("customer_phone", json!("07 07 07 07 07"));
    let in_ci = Rules {
        country: crate::domain::phone::Country::from_code("CI"),
        ..rules()
    };
    let fields = SessionFields::parse(body.as_object().unwrap(), &in_ci).unwrap();
    assert_eq!(fields.customer_phone.as_deref(), Some("+2250707070707"));

    let mut body = with("customer_phone", json!("77 123 45 67"));
    body["qr_code_data"] = json!({
        "alias": "3f1c2a9e-8b7d-4c5e-9a1b-2c3d4e5f6a7b", "country": "SN", "reference": "R1"
    });
    let fields = SessionFields::parse(body.as_object().unwrap(), &rules()).unwrap();
    assert_eq!(fields.customer_phone.as_deref(), Some("+221771234567"));
    // The organization's country comes first.
    assert_eq!(
        SessionFields::parse(body.as_object().unwrap(), &in_ci)
            .unwrap_err()
            .iter()
            .map(|e| e.field.as_str())
            .collect::<Vec<_>>(),
        ["customer_phone"]
    );
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
    let session = CheckoutSession::open(
        Uuid::new_v4(),
        Uuid::new_v4(),
        "key".into(),
        Environment::Test,
        f.clone(),
        crate::domain::time::now(),
    );
    let again = SessionFields::parse(&session.writable_json(), &rules()).unwrap();
    assert_eq!(again, f);
}

#[test]
fn redirect_urls_get_the_session_id() {
    let id = Uuid::new_v4();
    assert_eq!(
        redirect_url("https://s.example/ok?cs={CHECKOUT_SESSION_ID}", id),
        format!("https://s.example/ok?cs={id}")
    );
}
