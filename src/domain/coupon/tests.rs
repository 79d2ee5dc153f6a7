//! The coupon's rules: its fields as the API takes them, and when and how much it discounts.

use super::*;
use chrono::Duration;
use serde_json::json;

fn parse(v: Value) -> Result<CouponFields, Vec<FieldError>> {
    CouponFields::parse(v.as_object().unwrap(), Some(time::now()))
}

fn fields_of(v: Value) -> Vec<String> {
    parse(v).unwrap_err().into_iter().map(|e| e.field).collect()
}

fn percent() -> Value {
    json!({"code": "noel10", "discount_type": "percentage", "discount_percentage": 10})
}

fn fixed() -> Value {
    json!({"code": "MOINS1000", "discount_type": "fixed", "discount_fixed_amount": 1000,
           "currency_code": "XOF"})
}

fn with(mut base: Value, k: &str, v: Value) -> Value {
    base[k] = v;
    base
}

fn at(offset: Duration) -> String {
    time::rfc3339(&(time::now() + offset))
}

#[test]
fn a_minimal_coupon_gets_its_defaults() {
    let f = parse(percent()).unwrap();
    assert_eq!(f.code.as_str(), "NOEL10", "stored upper case");
    assert!(f.is_active);
    assert_eq!(f.max_uses, None);
    assert_eq!(f.valid_from, None);
    assert_eq!(
        f.discount,
        Discount::Percentage {
            percentage: Percentage(1000),
            currency: None
        }
    );
}

#[test]
fn missing_required_fields_are_each_named() {
    assert_eq!(fields_of(json!({})), ["code", "discount_type"]);
    assert_eq!(
        fields_of(json!({"code": "A", "discount_type": "percentage"})),
        ["discount_percentage"]
    );
    assert_eq!(
        fields_of(json!({"code": "A", "discount_type": "fixed"})),
        ["discount_fixed_amount", "currency_code"]
    );
}

#[test]
fn codes_are_letters_digits_dashes_and_underscores() {
    assert_eq!(
        CouponCode::parse(" noel-2026_a ").unwrap().as_str(),
        "NOEL-2026_A"
    );
    assert!(CouponCode::parse(&"A".repeat(40)).is_ok());
    for bad in ["", "  ", "NOËL", "NOEL 10", "NOEL!", "a.b", &"A".repeat(41)] {
        assert!(CouponCode::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(fields_of(with(percent(), "code", json!(10))), ["code"]);
}

#[test]
fn percentages_are_above_zero_at_most_one_hundred_with_two_decimals() {
    let bp = |v: Value| match parse(with(percent(), "discount_percentage", v))
        .unwrap()
        .discount
    {
        Discount::Percentage { percentage, .. } => percentage.basis_points(),
        other => panic!("{other:?}"),
    };
    assert_eq!(bp(json!(10)), 1000);
    assert_eq!(bp(json!(12.5)), 1250);
    assert_eq!(bp(json!(12.34)), 1234);
    assert_eq!(bp(json!(0.01)), 1);
    assert_eq!(bp(json!(100)), 10_000);
    assert_eq!(bp(json!(33.33)), 3333);
    for bad in [
        json!(0),
        json!(-5),
        json!(100.01),
        json!(101),
        json!(12.345),
        json!(0.001),
        json!("10"),
        json!(true),
    ] {
        assert_eq!(
            fields_of(with(percent(), "discount_percentage", bad.clone())),
            ["discount_percentage"],
            "{bad}"
        );
    }
}

#[test]
fn percentages_print_as_they_were_given() {
    assert_eq!(Percentage(1000).to_json(), json!(10));
    assert_eq!(Percentage(1250).to_json(), json!(12.5));
    assert_eq!(Percentage(1234).to_json().to_string(), "12.34");
    assert_eq!(Percentage(1).to_json().to_string(), "0.01");
}

#[test]
fn a_kind_takes_its_own_amount_and_not_the_other() {
    let mut both = percent();
    both["discount_fixed_amount"] = json!(500);
    assert_eq!(fields_of(both), ["discount_fixed_amount"]);
    let mut both = fixed();
    both["discount_percentage"] = json!(5);
    assert_eq!(fields_of(both), ["discount_percentage"]);
    assert_eq!(
        fields_of(with(percent(), "discount_type", json!("bogo"))),
        ["discount_type"]
    );
    for bad in [json!(0), json!(10.5), json!(-1), json!("1000")] {
        assert_eq!(
            fields_of(with(fixed(), "discount_fixed_amount", bad)),
            ["discount_fixed_amount"]
        );
    }
    assert_eq!(
        fields_of(with(fixed(), "currency_code", json!("GBP"))),
        ["currency_code"]
    );
}

#[test]
fn a_percentage_coupon_may_be_limited_to_a_currency() {
    let f = parse(with(percent(), "currency_code", json!("eur"))).unwrap();
    assert_eq!(f.discount.currency(), Some(Currency::Eur));
}

#[test]
fn limits_and_text_are_checked() {
    for (k, bad) in [
        ("max_uses", json!(0)),
        ("max_uses", json!(1.5)),
        ("max_uses", json!(MAX_LIMIT + 1)),
        ("max_quantity_per_use", json!(0)),
        ("is_active", json!("yes")),
        ("description", json!("x".repeat(501))),
        ("valid_from", json!("tomorrow")),
    ] {
        assert_eq!(
            fields_of(with(percent(), k, bad.clone())),
            [k],
            "{k} = {bad}"
        );
    }
    let f = parse(with(percent(), "description", json!("x".repeat(500)))).unwrap();
    assert_eq!(f.description.unwrap().len(), 500);
}

#[test]
fn expiry_comes_after_the_start_and_in_the_future() {
    let mut b = percent();
    b["valid_from"] = json!(at(Duration::days(10)));
    b["expires_at"] = json!(at(Duration::days(5)));
    assert_eq!(fields_of(b.clone()), ["expires_at"]);
    b["expires_at"] = b["valid_from"].clone();
    assert_eq!(fields_of(b.clone()), ["expires_at"]);
    b["expires_at"] = json!(at(Duration::days(11)));
    assert!(parse(b).is_ok());

    let past = with(percent(), "expires_at", json!(at(-Duration::days(1))));
    assert_eq!(fields_of(past.clone()), ["expires_at"]);
    assert!(
        CouponFields::parse(past.as_object().unwrap(), None).is_ok(),
        "an update that leaves expires_at alone may keep a past one"
    );
}

#[test]
fn fields_survive_a_round_trip_through_json() {
    for b in [
        json!({"code": "x", "discount_type": "percentage", "discount_percentage": 12.5,
               "currency_code": "USD", "max_uses": 3, "max_quantity_per_use": 2,
               "valid_from": at(Duration::zero()), "expires_at": at(Duration::days(2)),
               "is_active": false, "description": "Noël"}),
        fixed(),
    ] {
        let coupon = Coupon::sample(b);
        let again = CouponFields::parse(&coupon.writable_json(), None).unwrap();
        assert_eq!(again, coupon.fields);
    }
}

#[test]
fn percentage_discounts_round_to_the_nearest_unit_halves_up() {
    let ten = Coupon::sample(percent());
    assert_eq!(ten.discount(10_000), 1_000);
    assert_eq!(ten.discount(995), 100, "99.5 rounds up");
    assert_eq!(ten.discount(994), 99, "99.4 rounds down");
    assert_eq!(ten.discount(4), 0, "0.4 rounds down");
    assert_eq!(ten.discount(5), 1, "0.5 rounds up");
    let odd = Coupon::sample(with(percent(), "discount_percentage", json!(12.5)));
    assert_eq!(odd.discount(1_999), 250, "249.875");
    assert_eq!(odd.discount(1_000_000_000_000), 125_000_000_000);
    let all = Coupon::sample(with(percent(), "discount_percentage", json!(100)));
    assert_eq!(all.discount(7_777), 7_777);
    assert_eq!(all.discount(i64::MAX), i64::MAX, "no overflow");
}

#[test]
fn fixed_discounts_are_capped_at_the_subtotal() {
    let c = Coupon::sample(fixed());
    assert_eq!(c.discount(5_000), 1_000);
    assert_eq!(c.discount(1_000), 1_000);
    assert_eq!(c.discount(600), 600);
    assert_eq!(c.discount(0), 0);
    assert_eq!(c.discount(-50), 0, "never negative");
}

#[test]
fn a_valid_coupon_passes_its_check() {
    let mut b = fixed();
    b["max_uses"] = json!(2);
    b["max_quantity_per_use"] = json!(3);
    b["valid_from"] = json!(at(-Duration::hours(1)));
    b["expires_at"] = json!(at(Duration::hours(1)));
    let mut c = Coupon::sample(b);
    c.current_uses = 1;
    assert_eq!(c.check(Currency::Xof, 3, time::now()), Ok(()));
}

#[test]
fn every_rejection_has_its_reason() {
    let now = time::now();
    let inactive = Coupon::sample(with(percent(), "is_active", json!(false)));
    assert_eq!(
        inactive.check(Currency::Xof, 1, now),
        Err(Rejection::Inactive)
    );
    let mut deleted = Coupon::sample(percent());
    deleted.deleted_at = Some(now);
    assert_eq!(
        deleted.check(Currency::Xof, 1, now),
        Err(Rejection::Inactive)
    );

    let later = Coupon::sample(with(percent(), "valid_from", json!(at(Duration::hours(1)))));
    assert_eq!(
        later.check(Currency::Xof, 1, now),
        Err(Rejection::NotYetValid)
    );
    let starts = later.fields.valid_from.unwrap();
    assert_eq!(
        later.check(Currency::Xof, 1, starts),
        Ok(()),
        "valid from its first instant"
    );

    let ends = Coupon::sample(with(percent(), "expires_at", json!(at(Duration::hours(1)))));
    let until = ends.fields.expires_at.unwrap();
    assert_eq!(
        ends.check(Currency::Xof, 1, until - Duration::milliseconds(1)),
        Ok(())
    );
    assert_eq!(ends.check(Currency::Xof, 1, until), Err(Rejection::Expired));

    let mut used = Coupon::sample(with(percent(), "max_uses", json!(5)));
    used.current_uses = 4;
    assert_eq!(used.check(Currency::Xof, 1, now), Ok(()));
    used.current_uses = 5;
    assert_eq!(used.check(Currency::Xof, 1, now), Err(Rejection::UsedUp));

    let few = Coupon::sample(with(percent(), "max_quantity_per_use", json!(2)));
    assert_eq!(few.check(Currency::Xof, 2, now), Ok(()));
    assert_eq!(
        few.check(Currency::Xof, 3, now),
        Err(Rejection::QuantityTooHigh { max: 2 })
    );

    let xof = Coupon::sample(fixed());
    assert_eq!(
        xof.check(Currency::Eur, 1, now),
        Err(Rejection::WrongCurrency)
    );
    let eur = Coupon::sample(with(percent(), "currency_code", json!("EUR")));
    assert_eq!(
        eur.check(Currency::Xof, 1, now),
        Err(Rejection::WrongCurrency)
    );
    assert_eq!(
        Coupon::sample(percent()).check(Currency::Usd, 1, now),
        Ok(()),
        "any currency"
    );
}

#[test]
fn rejection_codes_are_stable_and_distinct() {
    let all = [
        Rejection::NotFound,
        Rejection::Inactive,
        Rejection::NotYetValid,
        Rejection::Expired,
        Rejection::UsedUp,
        Rejection::QuantityTooHigh { max: 0 },
        Rejection::WrongCurrency,
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), all.len());
    assert_eq!(Rejection::UsedUp.code(), "coupon_used_up");
    assert!(all.iter().all(|r| r.code().starts_with("coupon_")));
    assert_eq!(
        Rejection::QuantityTooHigh { max: 4 }.to_string(),
        "this coupon applies to a quantity of at most 4"
    );
}
