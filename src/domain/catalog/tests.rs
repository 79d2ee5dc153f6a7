use serde_json::{Value, json};

use super::*;

fn object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn fields_at_fault(r: Result<impl std::fmt::Debug, Vec<FieldError>>) -> Vec<String> {
    r.unwrap_err().into_iter().map(|e| e.field).collect()
}

const PRODUCT: &str = "6c1b1f8e-4a5d-4e8f-9b0a-1c2d3e4f5a6b";

fn price(v: Value) -> Price {
    Price {
        id: Uuid::new_v4(),
        organization_id: Uuid::new_v4(),
        environment: Environment::Test,
        fields: PriceFields::parse(&object(v)).unwrap(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        deleted_at: None,
    }
}

#[test]
fn a_product_needs_a_name_and_checks_its_fields() {
    let p =
        ProductFields::parse(&object(json!({"name": " Pagne wax "})), Environment::Live).unwrap();
    assert_eq!((p.name.as_str(), p.is_active), ("Pagne wax", true));
    assert_eq!(
        fields_at_fault(ProductFields::parse(
            &object(json!({"image_url": "javascript:alert(1)", "metadata": [1]})),
            Environment::Live
        )),
        ["image_url", "metadata", "name"]
    );
}

#[test]
fn a_standard_price_has_one_amount_and_no_bounds() {
    let p = PriceFields::parse(&object(
        json!({"product_id": PRODUCT, "amount": 10000, "currency_code": "xof"}),
    ))
    .unwrap();
    assert_eq!(
        (p.pricing_model, p.amount, p.currency, p.minimum_amount),
        (PricingModel::Standard, Some(10000), Currency::Xof, None)
    );
    assert_eq!(
        fields_at_fault(PriceFields::parse(&object(
            json!({"product_id": PRODUCT, "currency_code": "XOF", "minimum_amount": 5})
        ))),
        ["amount", "minimum_amount"]
    );
    assert_eq!(
        fields_at_fault(PriceFields::parse(&object(json!({"amount": 0})))),
        ["amount", "product_id", "currency_code"]
    );
}

#[test]
fn a_pay_what_you_want_price_has_bounds_its_suggestion_keeps_to() {
    let body = |extra: Value| {
        let mut b = json!({"product_id": PRODUCT, "currency_code": "XOF",
                           "pricing_model": "pay_what_you_want"});
        b.as_object_mut().unwrap().extend(object(extra));
        object(b)
    };
    let p = PriceFields::parse(&body(json!({}))).unwrap();
    assert_eq!(
        (p.minimum_amount, p.maximum_amount),
        (Some(1), Some(MAX_AMOUNT))
    );
    assert_eq!(
        fields_at_fault(PriceFields::parse(&body(
            json!({"minimum_amount": 5000, "maximum_amount": 1000})
        ))),
        ["maximum_amount"]
    );
    assert_eq!(
        fields_at_fault(PriceFields::parse(&body(
            json!({"minimum_amount": 1000, "maximum_amount": 5000, "amount": 500})
        ))),
        ["amount"]
    );
    assert_eq!(
        fields_at_fault(PriceFields::parse(&body(
            json!({"pricing_model": "free", "is_default": true, "is_active": false})
        ))),
        ["pricing_model", "is_default"]
    );
}

#[test]
fn a_price_says_which_amounts_a_session_may_pay() {
    let standard = price(json!({"product_id": PRODUCT, "amount": 10000, "currency_code": "XOF"}));
    assert_eq!(standard.amount_for(None), Ok(10000));
    assert_eq!(standard.amount_for(Some(10000)), Ok(10000));
    assert!(
        standard
            .amount_for(Some(9999))
            .unwrap_err()
            .contains("10000")
    );

    let pwyw = price(json!({"product_id": PRODUCT, "currency_code": "XOF",
        "pricing_model": "pay_what_you_want", "minimum_amount": 1000, "maximum_amount": 50000}));
    assert_eq!(pwyw.amount_for(Some(1000)), Ok(1000));
    assert_eq!(pwyw.amount_for(Some(50000)), Ok(50000));
    assert!(pwyw.amount_for(Some(999)).is_err());
    assert!(pwyw.amount_for(Some(50001)).is_err());
    assert!(pwyw.amount_for(None).unwrap_err().contains("1000 to 50000"));
    let suggested = price(
        json!({"product_id": PRODUCT, "currency_code": "XOF", "amount": 5000,
        "pricing_model": "pay_what_you_want", "minimum_amount": 1000}),
    );
    assert_eq!(suggested.amount_for(None), Ok(5000));
}

#[test]
fn views_show_every_field_and_the_writable_ones_round_trip() {
    let p = price(
        json!({"product_id": PRODUCT, "amount": 10000, "currency_code": "XOF",
                         "is_default": true, "metadata": {"sku": "W-1"}}),
    );
    let again = PriceFields::parse(&p.writable_json()).unwrap();
    assert_eq!(again, p.fields);
    let shown = serde_json::to_value(p.view()).unwrap();
    assert_eq!(shown["pricing_model"], "standard");
    assert_eq!(shown["minimum_amount"], Value::Null);
}
