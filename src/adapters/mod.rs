//! Payment providers behind one seam: start a payment, verify a notification, read a
//! payment's status, cancel it. Each provider is one module implementing [`PaymentProvider`]
//! from its published API (its module doc says which documented behaviour it relies on), and
//! a fake of that API in `tests/support/` that follows the documentation.
//!
//! Adapters do I/O and nothing else: they never touch the database. `core::attempts` calls
//! them outside any transaction, with timeouts, and records what they answer. The test
//! environment's sandbox, which stands in for a provider the merchant has no account with, is
//! one more implementation ([`sandbox::Sandbox`]).
//!
//! Two kinds of rails fit the seam:
//! - A provider that signs its notifications and names the payment in them (Wave): `verify`
//!   checks the signature and says what the notification tells ([`Says::Reading`]), which is
//!   settled as it is.
//! - A provider whose notifications are unsigned and carry only a per-payment token (Orange):
//!   the start's answer keeps what the adapter needs on the payment record
//!   ([`Started::provider_data`], back as `Payment::provider_data`), each payment gets a
//!   notification URL naming it ([`Attempt::notify_url`]), `verify` compares the token with
//!   the one kept for that payment, and a notification that matches is only a hint
//!   ([`Says::Hint`]): core then reads the payment's status, and only that read settles it.
//!   MTN's callbacks carry no token at all: taken only at the payment's own URL, they are
//!   hints too.
//!
//! A provider that honours an idempotency key (Stripe) finds a start whose answer was lost by
//! sending the same request again: [`PaymentProvider::prepare`] makes that request before the
//! start, and core keeps it with the payment in the same write that records the attempt.

pub mod mtn;
pub mod orange;
pub mod sandbox;
pub mod stripe;
pub mod wave;

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::domain::payment::{Payment, Reading};
use crate::domain::session::CheckoutSession;

/// The providers caisse can call, built from the operator's settings (their base URLs).
pub struct Registry {
    wave: wave::Wave,
    orange: orange::Orange,
    mtn: mtn::Mtn,
    stripe: stripe::Stripe,
}

impl Registry {
    pub fn new(settings: &crate::config::Settings) -> Registry {
        Registry {
            wave: wave::Wave::new(&settings.wave_api_url),
            orange: orange::Orange::new(&settings.orange_api_url),
            mtn: mtn::Mtn::new(&settings.mtn_api_url),
            stripe: stripe::Stripe::new(&settings.stripe_api_url),
        }
    }

    /// The origin a provider sends customers to, for the page's `form-action`.
    pub fn launch_origin(&self, provider: crate::domain::provider::Provider) -> Option<&str> {
        match provider {
            crate::domain::provider::Provider::Wave => Some(&self.wave.api.pages),
            crate::domain::provider::Provider::Orange => Some(&self.orange.api.pages),
            crate::domain::provider::Provider::Card => Some(&self.stripe.api.pages),
            _ => None,
        }
    }

    /// What a provider answered to a start, as caisse will use it: a URL it sends the customer
    /// to must be on that provider's payment pages (see [`launch_url`]); any other is the
    /// provider's refusal, never written into a page or a `Location`.
    pub fn checked(
        &self,
        provider: crate::domain::provider::Provider,
        mut started: Started,
    ) -> Result<Started, ProviderError> {
        if let Next::Redirect(url) = &started.next {
            let checked = self
                .launch_origin(provider)
                .and_then(|origin| launch_url(url, origin))
                .ok_or_else(|| {
                    ProviderError::Refused(
                        "the provider sent the customer to an address off its payment pages".into(),
                    )
                })?;
            started.next = Next::Redirect(checked);
        }
        Ok(started)
    }

    /// The adapter of `provider`, if caisse has one; any other is paid through the test
    /// sandbox (in test) or a scanned code (PI-SPI).
    pub fn adapter(
        &self,
        provider: crate::domain::provider::Provider,
    ) -> Option<&dyn PaymentProvider> {
        match provider {
            crate::domain::provider::Provider::Wave => Some(&self.wave),
            crate::domain::provider::Provider::Orange => Some(&self.orange),
            crate::domain::provider::Provider::Mtn => Some(&self.mtn),
            crate::domain::provider::Provider::Card => Some(&self.stripe),
            _ => None,
        }
    }
}

/// How long a call to a provider may take before it is given up as unanswered.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A provider's API as an adapter reaches it: its base URL (without a trailing slash), the
/// origin of its payment pages (for the page's `form-action`), and the HTTP client, with
/// caisse's timeout and no redirects (an answer is the provider's word, not an address to
/// follow).
pub struct Service {
    pub url: String,
    pub pages: String,
    pub http: reqwest::Client,
}

impl Service {
    /// `base` as configured; `pages` is where the real service at `real_api` sends customers,
    /// and a test double serves its pages beside its API.
    fn new(base: &str, real_api: &str, pages: &str) -> Service {
        let url = base.trim_end_matches('/').to_string();
        let pages = if url == real_api {
            pages.to_string()
        } else {
            url::Url::parse(&url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default()
        };
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls builds");
        Service { url, pages, http }
    }
}

/// A URL a provider gave to send the customer to, as caisse writes it: parsed and written
/// back normalized (so it holds no quote, angle bracket, space or line break), http or https,
/// on the provider's page `origin` (`https://*.example.com`: any subdomain of it). `None` for
/// anything else.
pub fn launch_url(raw: &str, origin: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "https" | "http") || !url.username().is_empty() {
        return None;
    }
    let on_origin = match origin.split_once("://*.") {
        Some((scheme, domain)) => {
            url.scheme() == scheme
                && url.port().is_none()
                && url
                    .host_str()
                    .is_some_and(|h| h.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.')))
        }
        None => url.origin().ascii_serialization() == origin,
    };
    on_origin.then(|| url.to_string())
}

/// A call that got no usable answer: the provider is read again later.
fn unavailable(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(e.to_string())
}

/// A merchant's credentials at a provider, opened from their sealed form for one call.
#[derive(Default, Clone)]
pub struct Credentials(BTreeMap<String, SecretString>);

impl Credentials {
    pub fn new(fields: impl IntoIterator<Item = (String, SecretString)>) -> Credentials {
        Credentials(fields.into_iter().collect())
    }

    /// A credential field's value; an empty string when it was not given.
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map_or("", |s| s.expose_secret())
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// What an attempt needs to start at a provider.
pub struct Attempt<'a> {
    pub payment: &'a Payment,
    pub session: &'a CheckoutSession,
    /// Where the provider sends the customer back on success, and on failure: caisse's own
    /// return routes for this payment, which read its status before showing the page.
    pub success_url: String,
    pub error_url: String,
    /// Where this payment's notifications go, for providers that take one per payment
    /// (Orange's `notif_url`): the account's `webhook_url` followed by the payment's
    /// [`Payment::short_id`]. Providers whose webhooks are registered in their portal (Wave)
    /// ignore it.
    pub notify_url: String,
    /// The page's language (`fr`, `en`), for a provider's page that takes one.
    pub lang: &'a str,
}

/// Where the customer goes once the attempt has started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// To the provider's page (303): Wave's launch URL, a card form.
    Redirect(String),
    /// The page shows how to finish (scan the code, approve on the phone, or the sandbox's
    /// buttons) and waits.
    Wait,
}

/// What a provider answered to a start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The provider's id of the attempt (Wave's `cos-…`), when it gives one.
    pub reference: Option<String>,
    pub next: Next,
    /// The provider's own deadline for the attempt.
    pub expires_at: Option<DateTime<Utc>>,
    /// What the adapter needs later to read the payment or check its notifications, kept on
    /// the payment record in the adapter's own format (Orange: its `pay_token`, and a digest of
    /// its `notif_token`); `None` when the id and reference are enough.
    pub provider_data: Option<String>,
}

/// Why a call to a provider did not give an answer to act on. Either way nothing is charged
/// that caisse does not learn of: a pending payment is read again until it settles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// No answer in time, a connection that failed, or a 5xx: try again later.
    #[error("the provider did not answer: {0}")]
    Unavailable(String),
    /// The provider refused the request (credentials, a field); trying again will not help.
    #[error("the provider refused the request: {0}")]
    Refused(String),
}

/// A notification whose signature or token verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The provider's id of the event, for logs; duplicates are harmless anyway, since
    /// settling a payment twice changes nothing the second time.
    pub event_id: Option<String>,
    /// The payment it is about (the reference caisse gave the provider).
    pub payment_id: Uuid,
    pub says: Says,
}

/// What a verified notification is worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Says {
    /// What became of the payment, from a source that proves itself (a signature over the
    /// body): settled as it is.
    Reading(Reading),
    /// Only that the payment may have changed: its token matched, but nothing proves the rest
    /// of the body. The payment's status is read from the provider ([`PaymentProvider::read`])
    /// and that read alone settles it.
    Hint,
}

/// Why a notification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forged(pub &'static str);

/// A notification as it reached caisse.
pub struct Notification<'a> {
    pub headers: &'a HeaderMap,
    /// The raw body: a signature is over these exact bytes.
    pub body: &'a [u8],
    pub now: DateTime<Utc>,
    /// The payment its URL names, if it names one of this account's.
    pub payment: Option<&'a Payment>,
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// What the adapter keeps on the payment before its start is sent, in its own format
    /// (back as `Payment::provider_data` in [`Self::start`], [`Self::read`] and
    /// [`Self::cancel`]): Stripe's creation request, sent again under the same idempotency key
    /// to find a start whose answer was lost. `None` (the default) keeps nothing.
    fn prepare(&self, _attempt: &Attempt<'_>) -> Option<String> {
        None
    }

    /// Asks the provider to collect `attempt.payment.amount`; the payment's id is its
    /// reference there, so an answer that is lost can be found again by [`Self::read`].
    async fn start(
        &self,
        credentials: &Credentials,
        attempt: &Attempt<'_>,
    ) -> Result<Started, ProviderError>;

    /// Checks a notification's signature or token against the raw body, and reads what it
    /// says. `payment` is the one its URL names (the account's `webhook_url` followed by a
    /// payment's short id, as [`Attempt::notify_url`] gives it), checked to be of this account;
    /// `None` when the URL names none. `Ok(None)`: authentic, but about nothing caisse acts on.
    fn verify(
        &self,
        credentials: &Credentials,
        notification: &Notification<'_>,
    ) -> Result<Option<Notice>, Forged>;

    /// The payment's status as the provider has it: the authoritative answer.
    async fn read(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError>;

    /// Stops the attempt at the provider so it can no longer be paid, and says how it ended
    /// there: `Expired` (or `Failed`) when it ended unpaid, `Succeeded` when its money came
    /// first, `Pending` when the provider cannot stop it and it is still payable.
    async fn cancel(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError>;
}

#[cfg(test)]
mod tests {
    use super::launch_url;

    #[test]
    fn a_launch_url_must_be_on_the_providers_pages_and_is_written_normalized() {
        let wave = "https://pay.wave.com";
        assert_eq!(
            launch_url("https://pay.wave.com/c/cos-1?a=b", wave).as_deref(),
            Some("https://pay.wave.com/c/cos-1?a=b")
        );
        let quoted = launch_url("https://pay.wave.com/c/1?a=\"><b>x</b>", wave).unwrap();
        assert!(!quoted.contains(['"', '<', '>']), "{quoted}");
        let broken = launch_url("https://pay.wave.com/c/1\nSet-Cookie: x=1", wave).unwrap();
        assert!(!broken.contains(['\n', ' ']), "{broken}");
        for off in [
            "javascript:alert(1)",
            "https://evil.example/c/1",
            "https://pay.wave.com.evil.example/c/1",
            "https://user@pay.wave.com/c/1",
            "http://pay.wave.com/c/1",
            "/c/1",
        ] {
            assert_eq!(launch_url(off, wave), None, "{off}");
        }
        let orange = "https://*.orange-money.com";
        assert!(launch_url("https://webpayment.orange-money.com/p/1", orange).is_some());
        assert_eq!(launch_url("https://orange-money.com/p/1", orange), None);
        assert_eq!(launch_url("https://evilorange-money.com/p/1", orange), None);
        assert_eq!(
            launch_url("https://x.orange-money.com:8443/p/1", orange),
            None
        );
    }
}
