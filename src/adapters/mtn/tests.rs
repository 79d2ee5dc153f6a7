//! The MTN adapter's reading of statuses, amounts, reasons, numbers and target environments.

use super::status::*;
use super::*;

fn payment(environment: Environment, currency: Currency) -> Payment {
    Payment::reported(
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        environment,
        crate::domain::provider::Provider::Mtn,
        10_000,
        currency,
        "x".into(),
        Utc::now(),
    )
}

fn status(body: Value) -> Status {
    serde_json::from_value(body).unwrap()
}

#[test]
fn statuses_read_as_mtn_documents_them() {
    let p = payment(Environment::Live, Currency::Xof);
    let id = p.id.to_string();
    assert_eq!(
        reading(&status(json!({"status": "PENDING", "externalId": id})), &p).unwrap(),
        Reading::Pending
    );
    assert_eq!(
        reading(
            &status(
                json!({"status": "SUCCESSFUL", "externalId": id, "amount": "10000",
                           "currency": "XOF", "financialTransactionId": "1234567"})
            ),
            &p
        )
        .unwrap(),
        Reading::Succeeded {
            reference: "1234567".into(),
            amount: 10_000,
            currency: Currency::Xof
        }
    );
    assert_eq!(
        reading(
            &status(json!({"status": "FAILED", "reason": "APPROVAL_REJECTED"})),
            &p
        )
        .unwrap(),
        Reading::Failed {
            code: "APPROVAL_REJECTED".into(),
            message: "APPROVAL_REJECTED".into()
        }
    );
    assert_eq!(
        reading(
            &status(json!({"status": "FAILED",
                           "reason": {"code": "NOT_ENOUGH_FUNDS", "message": "Solde insuffisant"}})),
            &p
        )
        .unwrap(),
        Reading::Failed {
            code: "NOT_ENOUGH_FUNDS".into(),
            message: "Solde insuffisant".into()
        }
    );
    assert!(matches!(
        reading(&status(json!({"status": "FAILED"})), &p).unwrap(),
        Reading::Failed { code, .. } if code == "FAILED"
    ));
    assert!(
        reading(
            &status(json!({"status": "PENDING", "externalId": "other"})),
            &p
        )
        .is_err()
    );
    assert!(reading(&status(json!({"status": "CREATED"})), &p).is_err());
}

#[test]
fn amounts_and_currencies_that_are_not_the_payments_match_nothing() {
    let live = payment(Environment::Live, Currency::Xaf);
    let success = |amount: Value, currency: Value| {
        let Reading::Succeeded {
            amount, currency, ..
        } = reading(
            &status(json!({"status": "SUCCESSFUL", "amount": amount, "currency": currency})),
            &live,
        )
        .unwrap()
        else {
            panic!("a success")
        };
        (amount, currency)
    };
    assert_eq!(
        success(json!("10000"), json!("XAF")),
        (10_000, Currency::Xaf)
    );
    assert_eq!(
        success(json!("10000.00"), json!("XAF")),
        (10_000, Currency::Xaf)
    );
    assert_eq!(success(json!(9000), json!("XAF")), (9_000, Currency::Xaf));
    assert_eq!(success(json!("10000.50"), json!("XAF")).0, -1);
    assert_eq!(success(json!("-5"), json!("XAF")).0, -1);
    assert_eq!(success(json!("10000"), json!("GHS")).0, -1);
    assert_eq!(success(json!("10000"), Value::Null).0, -1);
    // EUR is the sandbox's currency for a test payment, and only for one.
    assert_eq!(
        success(json!("10000"), json!("EUR")),
        (10_000, Currency::Eur)
    );
    let test = payment(Environment::Test, Currency::Xof);
    assert_eq!(
        reading(
            &status(json!({"status": "SUCCESSFUL", "amount": "10000", "currency": "EUR"})),
            &test
        )
        .unwrap(),
        Reading::Succeeded {
            reference: test.id.to_string(),
            amount: 10_000,
            currency: Currency::Xof
        }
    );
}

#[test]
fn the_payer_is_the_e164_numbers_digits() {
    assert_eq!(msisdn("+2250501020304").as_deref(), Some("2250501020304"));
    assert_eq!(msisdn("+229 97 00 00 00").as_deref(), Some("22997000000"));
    assert_eq!(msisdn("+22505x1020304"), None);
    assert_eq!(msisdn("+12"), None);
}

#[test]
fn test_accounts_use_the_sandbox_and_live_ones_never_do() {
    let creds = |target: &str| {
        Credentials::new([(
            "target_environment".to_string(),
            SecretString::from(target.to_string()),
        )])
    };
    assert_eq!(
        Mtn::target_for(&creds("sandbox"), Environment::Test).unwrap(),
        "sandbox"
    );
    assert!(Mtn::target_for(&creds("mtnivorycoast"), Environment::Test).is_err());
    assert!(Mtn::target_for(&creds("sandbox"), Environment::Live).is_err());
    assert!(Mtn::target_for(&creds(""), Environment::Live).is_err());
    assert_eq!(
        Mtn::target_for(&creds("mtnbenin"), Environment::Live).unwrap(),
        "mtnbenin"
    );
    let live = Mtn::new(DEFAULT_API_URL);
    assert_eq!(live.base("sandbox"), SANDBOX_API_URL);
    assert_eq!(live.base("mtnivorycoast"), DEFAULT_API_URL);
    let double = Mtn::new("http://127.0.0.1:9/");
    assert_eq!(double.base("sandbox"), "http://127.0.0.1:9");
}

#[test]
fn token_lifetimes_are_numbers_or_strings() {
    assert_eq!(seconds(Some(&json!(3600))), 3600);
    assert_eq!(seconds(Some(&json!("3600"))), 3600);
    assert_eq!(seconds(Some(&json!("soon"))), 0);
    assert_eq!(seconds(None), 0);
}
