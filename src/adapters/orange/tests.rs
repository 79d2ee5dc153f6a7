//! The Orange adapter's reading of statuses, tokens and lifetimes.

use super::*;

fn payment() -> Payment {
    Payment::reported(
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        Environment::Test,
        crate::domain::provider::Provider::Orange,
        10_000,
        Currency::Xof,
        "x".into(),
        Utc::now(),
    )
}

fn status(body: Value) -> Status {
    serde_json::from_value(body).unwrap()
}

#[test]
fn statuses_read_as_orange_documents_them() {
    let p = payment();
    let order = p.short_id();
    for (s, pending) in [("INITIATED", true), ("PENDING", true), ("EXPIRED", false)] {
        let r = reading(&status(json!({"status": s, "order_id": order})), &p).unwrap();
        assert_eq!(r == Reading::Pending, pending, "{s}");
    }
    assert_eq!(
        reading(&status(json!({"status": "EXPIRED"})), &p).unwrap(),
        Reading::Expired
    );
    assert!(matches!(
        reading(&status(json!({"status": "FAILED"})), &p).unwrap(),
        Reading::Failed { .. }
    ));
    assert_eq!(
        reading(
            &status(json!({"status": "SUCCESS", "order_id": order, "txnid": "MP1.2"})),
            &p
        )
        .unwrap(),
        Reading::Succeeded {
            reference: "MP1.2".into(),
            amount: 10_000,
            currency: Currency::Xof
        }
    );
    // The sandbox's currency reads as XOF; an amount in the answer is the amount paid.
    assert_eq!(
        reading(
            &status(
                json!({"status": "SUCCESS", "txnid": "MP1", "amount": "500", "currency": "OUV"})
            ),
            &p
        )
        .unwrap(),
        Reading::Succeeded {
            reference: "MP1".into(),
            amount: 500,
            currency: Currency::Xof
        }
    );
    assert!(
        reading(
            &status(json!({"status": "SUCCESS", "order_id": "other"})),
            &p
        )
        .is_err()
    );
    assert!(reading(&status(json!({"status": "PAID"})), &p).is_err());
}

#[test]
fn notification_tokens_compare_whole() {
    let kept = hex::encode(notif_mac("dd497bda3b250e53").finalize().into_bytes());
    assert!(notif_token_matches(&kept, "dd497bda3b250e53"));
    assert!(!notif_token_matches(&kept, "dd497bda3b250e5"));
    assert!(!notif_token_matches(&kept, ""));
    assert!(!notif_token_matches("zz", "dd497bda3b250e53"));
}

#[test]
fn lifetimes_are_numbers_or_strings() {
    assert_eq!(whole_number(Some(&json!(3600))), Some(3600));
    assert_eq!(whole_number(Some(&json!("7776000"))), Some(7_776_000));
    assert_eq!(whole_number(Some(&json!("soon"))), None);
    assert_eq!(whole_number(None), None);
}
