//! The test environment's sandbox: it stands in for any provider the merchant has no account
//! with, so a whole checkout can be tried without money. It calls nothing: the page shows
//! "succeed" and "fail" buttons (only for test sessions) and the customer's press is its
//! outcome. A live session never reaches it.

use super::{
    Attempt, Credentials, Forged, Next, Notice, Notification, PaymentProvider, ProviderError,
    Started,
};
use crate::domain::payment::{Payment, Reading};

pub struct Sandbox;

#[async_trait::async_trait]
impl PaymentProvider for Sandbox {
    async fn start(&self, _: &Credentials, _: &Attempt<'_>) -> Result<Started, ProviderError> {
        Ok(Started {
            reference: None,
            next: Next::Wait,
            expires_at: None,
            provider_data: None,
        })
    }

    /// The sandbox sends no notifications: its outcome is the customer's button.
    fn verify(&self, _: &Credentials, _: &Notification<'_>) -> Result<Option<Notice>, Forged> {
        Err(Forged("the sandbox sends no notifications"))
    }

    /// Pending until the customer presses a button.
    async fn read(&self, _: &Credentials, _: &Payment) -> Result<Reading, ProviderError> {
        Ok(Reading::Pending)
    }

    /// Nothing was asked of anyone: ended as soon as caisse ends it.
    async fn cancel(&self, _: &Credentials, _: &Payment) -> Result<Reading, ProviderError> {
        Ok(Reading::Expired)
    }
}
