//! Payments: a confirmed payment completes a session, once. Reports come from the payment
//! backend through the API, from the test environment's sandbox on the page, or need none at
//! all when the total is zero.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::attempts;
use super::input::unknown_fields;
use super::{Caller, Context, Error, Result, sessions};
use crate::domain::fields::{Field, FieldError};
use crate::domain::payment::{Payment, Reading};
use crate::domain::provider::Provider;
use crate::domain::session::{CheckoutSession, Status};
use crate::domain::time;
use crate::store::{Completion, Settled, Settlement, StoreError};

/// A payment the backend reports as confirmed by its provider.
#[derive(Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = PaymentReport)]
pub struct Report {
    /// The provider that took the payment, read case-insensitively; it becomes the session's
    /// `payment_provider`.
    #[schema(inline)]
    pub provider: Provider,
    /// The provider's id of the payment. Trimmed; 1 to 200 characters. With `provider` it
    /// identifies the payment: the same pair again is the same report.
    #[schema(min_length = 1, max_length = 200, example = "T_4PZ3YQ2N7A")]
    pub provider_reference: String,
    /// What was paid, in the currency's smallest unit; must equal the session's `amount_total`
    /// (else 422). An integral float such as `10000.0` is read as 10000.
    #[schema(minimum = 0, example = 10000)]
    pub amount_paid: i64,
}

impl Report {
    pub fn parse(body: &Map<String, Value>) -> Result<Report> {
        let fields = ["provider", "provider_reference", "amount_paid"];
        let mut errors = unknown_fields(body, &[&fields], "a payment report");
        let field = |name: &'static str| {
            body.get(name)
                .filter(|v| !v.is_null())
                .map(|v| Field::new(name, v))
                .ok_or_else(|| FieldError::new(name, "is required"))
        };
        let provider = field("provider")
            .and_then(|f| f.str()?.parse::<Provider>().map_err(|e| f.error(e)))
            .map_err(|e| errors.push(e))
            .ok();
        let provider_reference = field("provider_reference")
            .and_then(|f| f.text(200))
            .map_err(|e| errors.push(e))
            .ok();
        // Exactly an integer: money reported as `9999.99999999999999999` reads as 10000.0 and
        // would pass for 10 000 F CFA.
        let amount_paid = field("amount_paid")
            .and_then(|f| {
                f.value.as_i64().ok_or_else(|| {
                    f.error("must be an integer in the smallest unit, without a decimal point")
                })
            })
            .map_err(|e| errors.push(e))
            .ok();
        match (provider, provider_reference, amount_paid) {
            (Some(provider), Some(provider_reference), Some(amount_paid)) if errors.is_empty() => {
                Ok(Report {
                    provider,
                    provider_reference,
                    amount_paid,
                })
            }
            _ => Err(Error::Invalid(errors)),
        }
    }
}

fn reference_used() -> Error {
    conflict(
        "payment_reference_used",
        "this provider_reference already paid another checkout session",
    )
}

fn conflict(code: &'static str, message: &str) -> Error {
    Error::Conflict {
        code,
        message: message.into(),
    }
}

/// `POST /v1/checkout_sessions/{id}/complete`. The same report twice completes once and
/// answers the same both times; a different payment on a completed session, or any payment on
/// an expired one, is a conflict; an amount that is not the total changes nothing.
pub async fn complete(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    report: &Report,
) -> Result<CheckoutSession> {
    let session = sessions::retrieve(ctx, caller, id).await?;
    if let Some(done) = already(&session, report)? {
        return Ok(done);
    }
    if let Some(allowed) = &session.fields.allowed_providers
        && !allowed.contains(report.provider)
    {
        return Err(Error::invalid(
            "provider",
            format!("must be one of the session's allowed_providers, {allowed}"),
        ));
    }
    let total = session.totals().total;
    if report.amount_paid != total {
        return Err(Error::invalid(
            "amount_paid",
            format!("must equal the session's amount_total, {total}"),
        ));
    }
    // The attempt under way with this provider is the one reported: it is settled, not
    // joined by a second record of the same money.
    if let Some(pending) = session.pending_payment_id
        && let Some(attempt) = ctx.store.payment(pending).await?
        && attempt.provider == report.provider
    {
        let reading = Reading::Succeeded {
            reference: report.provider_reference.clone(),
            amount: report.amount_paid,
            currency: session.fields.currency,
        };
        return match attempts::settle(ctx, attempt.id, &reading).await {
            Ok(Settled::Completed) => sessions::retrieve(ctx, caller, id).await,
            Ok(Settled::Unmatched) => Err(conflict(
                "coupon_used_up",
                "the session's coupon no longer applies; the payment is recorded and the \
                 session was not completed",
            )),
            Ok(_) => {
                let latest = sessions::retrieve(ctx, caller, id).await?;
                already(&latest, report)?.ok_or_else(|| {
                    conflict("payment_pending", "the session's payment is being settled")
                })
            }
            Err(StoreError::Conflict("payment")) => Err(reference_used()),
            Err(e) => Err(e.into()),
        };
    }
    let at = time::now();
    let record = Payment::reported(
        id,
        session.organization_id,
        session.environment,
        report.provider,
        total,
        session.fields.currency,
        report.provider_reference.clone(),
        at,
    );
    let settlement = Settlement {
        session_id: id,
        amount_total: total,
        provider: Some(report.provider.code()),
        provider_reference: Some(&report.provider_reference),
        at,
        payment: Some(&record),
    };
    let completion = match ctx
        .store
        .complete_session(&settlement, &ctx.public_url)
        .await
    {
        Err(StoreError::Conflict("payment")) => return Err(reference_used()),
        other => other?,
    };
    match completion {
        Completion::Completed => sessions::retrieve(ctx, caller, id).await,
        Completion::CouponUsedUp => Err(conflict(
            "coupon_used_up",
            "the session's coupon has no use left; the session was not completed",
        )),
        Completion::Unchanged => {
            // Something changed meanwhile: a concurrent completion, the expiry, or the total.
            let latest = sessions::retrieve(ctx, caller, id).await?;
            match already(&latest, report)? {
                Some(done) => Ok(done),
                None => Err(Error::invalid(
                    "amount_paid",
                    format!(
                        "must equal the session's amount_total, {}",
                        latest.totals().total
                    ),
                )),
            }
        }
    }
}

/// The answer for a session that is no longer open: the same completion again (same provider,
/// reference and amount) is fine; anything else is another payment, which it cannot take.
fn already(session: &CheckoutSession, report: &Report) -> Result<Option<CheckoutSession>> {
    match session.status {
        Status::Open => Ok(None),
        Status::Expired => Err(conflict(
            "checkout_session_expired",
            "the checkout session has expired",
        )),
        Status::Completed => {
            let same = session.provider_reference.as_deref()
                == Some(report.provider_reference.as_str())
                && session.payment_provider.as_deref() == Some(report.provider.code())
                && report.amount_paid == session.totals().total;
            if same {
                Ok(Some(session.clone()))
            } else {
                Err(conflict(
                    "checkout_session_completed",
                    "the checkout session was already completed by another payment",
                ))
            }
        }
    }
}

/// A total of zero is confirmed by the customer, with no provider.
pub async fn complete_free(
    ctx: &Context,
    id: Uuid,
) -> std::result::Result<Completion, crate::store::StoreError> {
    ctx.store
        .complete_session(
            &Settlement {
                session_id: id,
                amount_total: 0,
                provider: None,
                provider_reference: None,
                at: time::now(),
                payment: None,
            },
            &ctx.public_url,
        )
        .await
}
