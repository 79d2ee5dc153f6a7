//! Reading MTN's answers: a request's status, its amounts and reasons, token lifetimes, error
//! messages, and the payer's number as MTN takes it.

use serde::Deserialize;
use serde_json::Value;

use crate::adapters::ProviderError;
use crate::domain::payment::{Payment, Reading};
use crate::domain::session::Environment;

/// A request-to-pay as MTN's status read answers it.
#[derive(Deserialize)]
pub(super) struct Status {
    status: String,
    #[serde(default, rename = "financialTransactionId")]
    financial_transaction_id: Option<String>,
    #[serde(default, rename = "externalId")]
    external_id: Option<String>,
    #[serde(default)]
    amount: Option<Value>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    reason: Option<Value>,
}

/// A number as MTN writes one: a string (`"10000"`, `"10000.00"`) or a JSON number; only a
/// whole number of the currency's unit is read.
pub(super) fn whole_amount(value: Option<&Value>) -> Option<i64> {
    let text = match value? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (units, cents) = text.split_once('.').unwrap_or((&text, ""));
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !cents.bytes().all(|b| b == b'0')
    {
        return None;
    }
    units.parse().ok()
}

/// A whole number of seconds: a JSON number or a string of digits.
pub(super) fn seconds(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// MTN's `reason`: a code, or `{code, message}`.
pub(super) fn reason_of(value: Option<&Value>) -> (String, String) {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => (s.trim().into(), s.trim().into()),
        Some(Value::Object(o)) => {
            let code = o.get("code").and_then(Value::as_str).unwrap_or("FAILED");
            let message = o.get("message").and_then(Value::as_str).unwrap_or(code);
            (code.into(), message.into())
        }
        _ => (
            "FAILED".into(),
            "MTN MoMo reports the payment failed".into(),
        ),
    }
}

/// The MSISDN MTN takes: the E.164 number's digits, without its `+`.
pub(super) fn msisdn(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(|c| !matches!(c, ' ' | '+')).collect();
    ((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// What a status read says of `payment`.
pub(super) fn reading(answer: &Status, payment: &Payment) -> Result<Reading, ProviderError> {
    if answer
        .external_id
        .as_deref()
        .is_some_and(|e| e != payment.id.to_string())
    {
        return Err(ProviderError::Unavailable(
            "MTN answered about another request".into(),
        ));
    }
    Ok(match answer.status.as_str() {
        "PENDING" => Reading::Pending,
        "SUCCESSFUL" => {
            let amount = whole_amount(answer.amount.as_ref()).unwrap_or(-1);
            // The sandbox's EUR is the payment's own currency; a currency caisse cannot read
            // matches no payment (the amount -1): recorded as unmatched, never completing.
            let (amount, currency) = match answer.currency.as_deref() {
                Some("EUR") if payment.environment == Environment::Test => {
                    (amount, payment.currency)
                }
                Some(code) => code
                    .parse()
                    .map_or((-1, payment.currency), |currency| (amount, currency)),
                None => (-1, payment.currency),
            };
            Reading::Succeeded {
                reference: answer
                    .financial_transaction_id
                    .clone()
                    .filter(|r| !r.trim().is_empty())
                    .unwrap_or_else(|| payment.id.to_string()),
                amount,
                currency,
            }
        }
        "FAILED" => {
            let (code, message) = reason_of(answer.reason.as_ref());
            Reading::Failed { code, message }
        }
        other => {
            return Err(ProviderError::Unavailable(format!(
                "MTN answered an unknown status {other:?}"
            )));
        }
    })
}

/// MTN's words in an error answer (`{"code", "message"}`).
pub(super) fn message_of(bytes: &[u8]) -> String {
    let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    match (v["code"].as_str(), v["message"].as_str()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(s), None) | (None, Some(s)) => s.to_string(),
        (None, None) => String::new(),
    }
}
