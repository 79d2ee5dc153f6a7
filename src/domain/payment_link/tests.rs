use serde_json::{Value, json};

use super::*;

fn rules() -> LinkRules {
    LinkRules {
        environment: Environment::Test,
        max_quantity: 99,
        expires_after: Some(Utc::now()),
    }
}

fn parse(v: Value) -> Result<LinkFields, Vec<FieldError>> {
    LinkFields::parse(v.as_object().unwrap(), &rules())
}

fn at_fault(v: Value) -> Vec<String> {
    parse(v).unwrap_err().into_iter().map(|e| e.field).collect()
}

#[test]
fn an_instant_link_names_its_title_amount_and_currency() {
    let f = parse(json!({"title": "Pagne wax", "amount": 10000, "currency_code": "XOF"})).unwrap();
    assert_eq!(
        (f.link_type, f.quantity, f.is_active),
        (LinkType::Instant, 1, true)
    );
    assert_eq!(at_fault(json!({})), ["title", "amount", "currency_code"]);
    assert_eq!(
        at_fault(json!({"title": "t", "amount": 1, "currency_code": "XOF",
                        "price_id": "6c1b1f8e-4a5d-4e8f-9b0a-1c2d3e4f5a6b"})),
        ["price_id"]
    );
}

#[test]
fn a_product_link_names_a_price_or_a_product() {
    let id = "6c1b1f8e-4a5d-4e8f-9b0a-1c2d3e4f5a6b";
    assert!(parse(json!({"link_type": "product", "product_id": id})).is_ok());
    assert!(parse(json!({"link_type": "product", "price_id": id})).is_ok());
    assert_eq!(at_fault(json!({"link_type": "product"})), ["price_id"]);
    assert_eq!(
        at_fault(json!({"link_type": "subscription"})),
        ["link_type"]
    );
}

#[test]
fn fields_are_checked_as_a_sessions_are() {
    assert_eq!(
        at_fault(
            json!({"title": "t", "amount": 1, "currency_code": "XOF", "quantity": 100,
            "allowed_providers": "PAYPAL", "success_url": "javascript:x",
            "expires_at": "2000-01-01T00:00:00Z"})
        ),
        ["quantity", "allowed_providers", "success_url", "expires_at"]
    );
}

#[test]
fn a_session_opened_from_a_link_carries_its_settings() {
    let f = parse(
        json!({"title": "Pagne wax", "amount": 10000, "currency_code": "XOF",
        "allow_quantity": true, "allowed_providers": "wave, orange", "metadata": {"canal": "wa"},
        "private_description": "stock du marché"}),
    )
    .unwrap();
    let id = Uuid::new_v4();
    let body = f.session_body(id, None);
    assert_eq!(body["payment_link_id"], id.to_string());
    assert_eq!(body["allowed_providers"], "WAVE,ORANGE");
    assert_eq!(body["amount"], 10000);
    assert!(
        !body.contains_key("private_description"),
        "never shown to customers"
    );
    assert_eq!(f.session_body(id, Some(2500))["amount"], 2500);
}

#[test]
fn the_whatsapp_link_carries_the_text() {
    assert_eq!(
        view::whatsapp_url("Pagne wax https://pay.example/l/1?a=b&c"),
        "https://wa.me/?text=Pagne%20wax%20https%3A%2F%2Fpay.example%2Fl%2F1%3Fa%3Db%26c"
    );
}
