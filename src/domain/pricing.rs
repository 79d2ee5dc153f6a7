//! Pricing a session: its discount from the applied coupon, its total, and the amount its QR
//! code carries. Pure, so every rule of it is unit-tested; the operations that change a
//! session load the coupon and call [`CheckoutSession::reprice`].

use chrono::{DateTime, Utc};

use super::coupon::{Coupon, Rejection};
use super::session::CheckoutSession;

impl CheckoutSession {
    /// Prices the session again for its quantity and currency as they are now, with `coupon`
    /// the applied coupon as it stands (`None` when it no longer exists): the discount, the
    /// total, and the QR code built for that total. A coupon that no longer applies (switched
    /// off, out of its dates, used up, over its quantity, another currency) is taken off, and
    /// why is returned so the customer can be told.
    pub fn reprice(&mut self, coupon: Option<&Coupon>, now: DateTime<Utc>) -> Option<Rejection> {
        self.amount_discount = 0;
        let mut dropped = None;
        if self.coupon_id.is_some() {
            let checked = match coupon {
                Some(c) => c
                    .check(self.fields.currency, self.fields.quantity, now)
                    .map(|()| c),
                None => Err(Rejection::NotFound),
            };
            match checked {
                Ok(c) => self.amount_discount = c.discount(self.totals().subtotal),
                Err(r) => {
                    self.coupon_id = None;
                    self.coupon_code = None;
                    dropped = Some(r);
                }
            }
        }
        self.refresh_qr();
        dropped
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;
    use crate::domain::session::{Environment, Rules, SessionFields};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn session(fields: Value) -> CheckoutSession {
        let rules = Rules {
            environment: Environment::Test,
            now: now(),
            max_quantity: 99,
            created_at: now(),
            country: None,
        };
        let fields = SessionFields::parse(fields.as_object().unwrap(), &rules).unwrap();
        CheckoutSession::open(
            Uuid::new_v4(),
            Uuid::new_v4(),
            "cli".into(),
            Environment::Test,
            fields,
            now(),
        )
    }

    fn applied(s: &mut CheckoutSession, c: &Coupon) {
        s.coupon_id = Some(c.id);
        s.coupon_code = Some(c.fields.code.as_str().to_string());
    }

    fn pagne(quantity: i64) -> CheckoutSession {
        session(json!({
            "amount": 5000, "currency_code": "XOF", "title": "Pagne wax", "quantity": quantity,
            "qr_code_data": {"alias": "111c3e1b-4312-49ec-b75e-4c8c74c10fd7", "country": "CI",
                             "reference": "ORDER-42"},
        }))
    }

    #[test]
    fn a_coupon_discounts_the_subtotal_and_the_qr_code_carries_the_total() {
        let ten = Coupon::sample(json!({"code": "NOEL10", "discount_type": "percentage",
                                "discount_percentage": 10}));
        let mut s = pagne(3);
        applied(&mut s, &ten);
        assert_eq!(s.reprice(Some(&ten), now()), None);
        let totals = s.totals();
        assert_eq!(
            (totals.subtotal, totals.discount, totals.total),
            (15000, 1500, 13500)
        );
        let payload = s.qr_payload.clone().unwrap();
        assert!(payload.contains("540513500"), "{payload}");
    }

    #[test]
    fn a_coupon_that_no_longer_applies_is_taken_off_and_says_why() {
        let small = Coupon::sample(json!({"code": "PETIT", "discount_type": "fixed",
                                  "discount_fixed_amount": 1000, "currency_code": "XOF",
                                  "max_quantity_per_use": 2}));
        let mut s = pagne(2);
        applied(&mut s, &small);
        assert_eq!(s.reprice(Some(&small), now()), None);
        assert_eq!(s.totals().total, 9000);
        s.fields.quantity = 3;
        assert_eq!(
            s.reprice(Some(&small), now()),
            Some(Rejection::QuantityTooHigh { max: 2 })
        );
        assert_eq!(
            (s.coupon_id, s.amount_discount, s.totals().total),
            (None, 0, 15000)
        );

        let mut s = pagne(1);
        applied(&mut s, &small);
        assert_eq!(
            s.reprice(None, now()),
            Some(Rejection::NotFound),
            "a deleted coupon"
        );
        assert_eq!(s.coupon_code, None);
    }

    #[test]
    fn a_discount_never_takes_the_total_below_zero_and_a_free_session_has_no_qr_code() {
        let all = Coupon::sample(json!({"code": "OFFERT", "discount_type": "fixed",
                                "discount_fixed_amount": 999999, "currency_code": "XOF"}));
        let mut s = pagne(1);
        applied(&mut s, &all);
        s.reprice(Some(&all), now());
        assert_eq!((s.totals().discount, s.totals().total), (5000, 0));
        assert_eq!(s.qr_payload, None);
    }
}
