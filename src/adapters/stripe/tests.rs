//! The Stripe adapter's signatures, amounts, requests and readings of sessions.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::*;
use crate::domain::money::Currency;
use crate::domain::session::Environment;
use uuid::Uuid;

fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

const SECRET: &str = "whsec_test_9fK2mQ";

#[test]
fn a_signature_of_the_timestamp_a_dot_and_the_body_verifies() {
    let body = r#"{"id":"evt_1","type":"checkout.session.completed"}"#;
    let now = 1_700_000_000;
    let header = format!("t={now},v1={}", sign(SECRET, now, body));
    assert_eq!(
        signature_verifies(SECRET, &header, body.as_bytes(), now + 299),
        Ok(())
    );
    // Several v1 (a secret being rolled), and other schemes beside them, which are ignored.
    let rolled = format!(
        "t={now},v1={},v0={},v1={}",
        sign("whsec_old", now, body),
        sign(SECRET, now, body),
        sign(SECRET, now, body)
    );
    assert_eq!(
        signature_verifies(SECRET, &rolled, body.as_bytes(), now),
        Ok(())
    );
}

#[test]
fn forged_stale_and_malformed_signatures_are_refused() {
    let body = r#"{"id":"evt_1"}"#;
    let now = 1_700_000_000;
    let good = sign(SECRET, now, body);
    for header in [
        format!("t={now},v1={}", sign("whsec_other", now, body)),
        format!("t={now},v1={}", sign(SECRET, now, "{}")),
        format!("t={},v1={good}", now + 1),
        format!("v1={good}"),
        format!("t={now}"),
        format!("t={now},v1=zz"),
        format!("t={now},v0={good}"),
        String::new(),
        // Wave's scheme (no dot) is not Stripe's.
        {
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(format!("{now}{body}").as_bytes());
            format!("t={now},v1={}", hex::encode(mac.finalize().into_bytes()))
        },
    ] {
        assert!(
            signature_verifies(SECRET, &header, body.as_bytes(), now).is_err(),
            "{header}"
        );
    }
    let header = format!("t={now},v1={good}");
    assert_eq!(
        signature_verifies(SECRET, &header, body.as_bytes(), now + TOLERANCE_SECS + 1),
        Err(Forged("Stripe-Signature is too old"))
    );
    assert_eq!(
        signature_verifies(SECRET, &header, body.as_bytes(), now - TOLERANCE_SECS - 1),
        Err(Forged("Stripe-Signature is too old"))
    );
    for t in [i64::MIN, i64::MAX] {
        let header = format!("t={t},v1={good}");
        assert!(signature_verifies(SECRET, &header, body.as_bytes(), now).is_err());
    }
}

#[test]
fn cfa_francs_are_zero_decimal_at_stripe_and_dollars_count_cents() {
    // 1 000 F CFA is 1000 at Stripe; $12.50 is 1250, as caisse keeps them.
    assert_eq!(to_stripe(1000, Currency::Xof), Some(1000));
    assert_eq!(to_stripe(1000, Currency::Xaf), Some(1000));
    assert_eq!(to_stripe(1250, Currency::Usd), Some(1250));
    assert_eq!(to_stripe(1250, Currency::Eur), Some(1250));
    for c in Currency::ALL {
        assert_eq!(stripe_exponent(c), c.exponent(), "{c:?}");
        assert_eq!(
            from_stripe(to_stripe(123_456, c).unwrap(), c),
            Some(123_456)
        );
    }
    assert_eq!(stripe_exponent(Currency::Xof), 0);
    assert_eq!(stripe_exponent(Currency::Usd), 2);
}

fn session(body: Value) -> Session {
    serde_json::from_value(body).unwrap()
}

#[test]
fn sessions_read_as_stripe_documents_them() {
    let paid = session(
        json!({"id": "cs_1", "status": "complete", "payment_status": "paid",
        "amount_total": 10000, "currency": "xof"}),
    );
    assert_eq!(
        paid.reading(),
        Reading::Succeeded {
            reference: "cs_1".into(),
            amount: 10000,
            currency: Currency::Xof
        }
    );
    let open = session(json!({"id": "cs_1", "status": "open", "payment_status": "unpaid"}));
    assert_eq!(open.reading(), Reading::Pending);
    let expired = session(json!({"id": "cs_1", "status": "expired", "payment_status": "unpaid"}));
    assert_eq!(expired.reading(), Reading::Expired);
    // An asynchronous payment: complete and unpaid while its intent is processing.
    let on_its_way = session(
        json!({"id": "cs_1", "status": "complete", "payment_status": "unpaid",
        "payment_intent": {"id": "pi_1", "status": "processing"}}),
    );
    assert_eq!(on_its_way.reading(), Reading::Pending);
    let failed = session(
        json!({"id": "cs_1", "status": "complete", "payment_status": "unpaid",
        "payment_intent": {"id": "pi_1", "status": "requires_payment_method"}}),
    );
    assert!(matches!(failed.reading(), Reading::Failed { .. }));
    let unexpanded = session(
        json!({"id": "cs_1", "status": "complete", "payment_status": "unpaid",
        "payment_intent": "pi_1"}),
    );
    assert_eq!(unexpanded.reading(), Reading::Pending);
}

#[test]
fn money_in_a_currency_caisse_cannot_read_matches_no_payment() {
    for body in [
        json!({"id": "cs_1", "status": "complete", "payment_status": "paid",
            "amount_total": 10000, "currency": "gbp"}),
        json!({"id": "cs_1", "status": "complete", "payment_status": "paid", "currency": "xof"}),
    ] {
        let Reading::Succeeded { amount, .. } = session(body).reading() else {
            panic!("money is money");
        };
        assert_eq!(
            amount, -1,
            "no frozen amount is -1: it is recorded as unmatched"
        );
    }
}

#[test]
fn the_payment_is_named_by_client_reference_id_or_metadata() {
    let id = Uuid::new_v4();
    let by_ref = session(json!({"id": "cs_1", "client_reference_id": id.to_string()}));
    assert_eq!(by_ref.payment_id(), Some(id));
    let by_meta = session(json!({"id": "cs_1", "metadata": {"payment_id": id.to_string()}}));
    assert_eq!(by_meta.payment_id(), Some(id));
    let neither = session(json!({"id": "cs_1", "client_reference_id": "order-7"}));
    assert_eq!(neither.payment_id(), None);
}

fn payment(amount: i64, currency: Currency) -> Payment {
    let mut p = Payment::reported(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Environment::Test,
        crate::domain::provider::Provider::Card,
        amount,
        currency,
        "x".into(),
        Utc::now(),
    );
    p.provider_reference = None;
    p
}

fn checkout_session() -> crate::domain::session::CheckoutSession {
    use crate::domain::session::{CheckoutSession, Rules, SessionFields};
    let rules = Rules {
        environment: Environment::Test,
        now: Utc::now(),
        max_quantity: 99,
        country: None,
        created_at: Utc::now(),
    };
    let fields = json!({"amount": 1250, "currency_code": "USD", "title": "Pagne wax"});
    let fields = SessionFields::parse(fields.as_object().unwrap(), &rules).unwrap();
    CheckoutSession::open(
        Uuid::new_v4(),
        Uuid::new_v4(),
        "cli".into(),
        Environment::Test,
        fields,
        Utc::now(),
    )
}

#[test]
fn the_creation_request_is_the_same_each_time_it_is_made() {
    let p = payment(1250, Currency::Usd);
    let session = checkout_session();
    let attempt = |lang| Attempt {
        payment: &p,
        session: &session,
        success_url: "https://pay.example/checkout/1/return".into(),
        error_url: "https://pay.example/checkout/1/return".into(),
        notify_url: String::new(),
        lang,
    };
    let form = create_form(&attempt("en")).unwrap();
    assert_eq!(form, create_form(&attempt("en")).unwrap(), "deterministic");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{k} in {form}"))
    };
    assert_eq!(get("mode"), "payment");
    assert_eq!(
        get("line_items[0][price_data][product_data][name]"),
        "Pagne wax"
    );
    assert_eq!(get("line_items[0][price_data][currency]"), "usd");
    assert_eq!(get("line_items[0][price_data][unit_amount]"), "1250");
    assert_eq!(get("line_items[0][quantity]"), "1");
    assert_eq!(get("client_reference_id"), p.id.to_string());
    assert_eq!(get("metadata[payment_id]"), p.id.to_string());
    assert_eq!(get("locale"), "en");
    let expires: i64 = get("expires_at").parse().unwrap();
    let lifetime = expires - p.created_at.timestamp();
    assert!((30 * 60..=24 * 3600).contains(&lifetime), "{lifetime}");
    assert_eq!(
        url::form_urlencoded::parse(create_form(&attempt("wo")).unwrap().as_bytes())
            .find(|(k, _)| k == "locale")
            .unwrap()
            .1,
        "auto"
    );
    let free = payment(0, Currency::Xof);
    let zero = Attempt {
        payment: &free,
        ..attempt("fr")
    };
    assert!(matches!(create_form(&zero), Err(ProviderError::Refused(_))));
}
