//! Webhook delivery: due deliveries are claimed from the outbox, POSTed signed to their
//! endpoints, and their outcome recorded. Any number of nodes run this; a claim holds a
//! delivery for one attempt (the request timeout and a margin), so each attempt is made by one
//! node, and a node that dies mid-attempt lets the claim lapse for another to retry.
//!
//! One merchant's endpoints never hold up another's: an endpoint has at most
//! [`PER_ENDPOINT`] attempts under way at once (on all nodes), a node at most [`IN_FLIGHT`],
//! and the worker claims more as soon as it has room, without waiting for slow attempts to
//! end. An endpoint that has failed every attempt for a day ([`RETRY_FOR`]) is disabled.

use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::ExposeSecret;

use super::Stopping;
use crate::core::Context;
use crate::domain::time;
use crate::domain::{address, event};
use crate::store::{Attempt, AttemptOutcome, DueDelivery, StoreError};

/// Attempts one node makes at once, at most.
const IN_FLIGHT: usize = 64;
/// Attempts one endpoint may have under way at once, on all nodes together.
const PER_ENDPOINT: i64 = 2;
/// How long deliveries are retried, and how long an endpoint may fail before it is disabled.
pub const RETRY_FOR: chrono::Duration = chrono::Duration::hours(24);
/// The longest wait between two retries.
const MAX_BACKOFF: chrono::Duration = chrono::Duration::hours(1);
/// How often an idle worker looks for due deliveries.
const POLL: Duration = Duration::from_millis(500);

/// What the next step is after an attempt that got `status` (or no answer).
pub fn outcome(
    status: Option<u16>,
    attempts: i64,
    created_at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
    retry_base: chrono::Duration,
) -> AttemptOutcome {
    match status {
        Some(s) if (200..300).contains(&s) => return AttemptOutcome::Succeeded,
        // The endpoint refused this event: sending it again would not change its mind. 429 is
        // a request to slow down, not a refusal.
        Some(s) if (400..500).contains(&s) && s != 429 => return AttemptOutcome::Failed,
        _ => {}
    }
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    let backoff = retry_base
        .checked_mul(2_i32.saturating_pow(exponent))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    let at = now + backoff;
    if at > created_at + RETRY_FOR {
        AttemptOutcome::Failed
    } else {
        AttemptOutcome::Retry { at }
    }
}

/// What a refused address is recorded as: nothing about what, if anything, listens there.
const REFUSED: &str = "refused: the endpoint's address is not a public one";

/// Resolves a webhook's host name to its public addresses only; a name with none is refused,
/// so caisse never connects to a private or loopback address a merchant's URL leads to.
struct PublicOnly;

#[derive(Debug, thiserror::Error)]
#[error("{REFUSED}")]
struct NotPublic;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| address::is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(NotPublic) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a URL names an address caisse may not connect to by itself (an IP written in the
/// URL is not resolved, so the resolver never sees it).
fn literal_not_public(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return true;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !address::is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !address::is_public(ip.into()),
        Some(url::Host::Domain(_)) => false,
        None => true,
    }
}

/// The client deliveries are made with: a deadline, no redirects (a redirect is an endpoint's
/// answer, not an address to follow), no proxy from the environment, and unless the operator
/// allows private addresses, connections to public addresses only.
pub fn client(ctx: &Context) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(ctx.settings.webhook_timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    let builder = if ctx.settings.webhook_allow_private {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(PublicOnly))
    };
    builder.build().expect("an HTTP client with rustls")
}

async fn attempt(
    client: &reqwest::Client,
    ctx: &Context,
    d: &DueDelivery,
) -> Result<(), StoreError> {
    let started = Instant::now();
    let retry_base = chrono::Duration::milliseconds(ctx.settings.webhook_retry_base_ms as i64);
    let (status, error) = if d.endpoint_deleted {
        (None, Some("the endpoint was deleted".to_string()))
    } else if !ctx.settings.webhook_allow_private && literal_not_public(&d.url) {
        (None, Some(REFUSED.to_string()))
    } else {
        let signature =
            event::signature(d.secret.expose_secret(), Utc::now().timestamp(), &d.payload);
        let sent = client
            .post(&d.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("caisse/", env!("CARGO_PKG_VERSION")))
            .header("X-Caisse-Signature", signature)
            .header("X-Caisse-Event-Id", d.event_id.to_string())
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(res) => (Some(res.status().as_u16()), None),
            Err(e) => (None, Some(describe(&e))),
        }
    };
    let next = if d.endpoint_deleted {
        AttemptOutcome::Failed
    } else {
        outcome(status, d.attempts, d.created_at, d.attempted_at, retry_base)
    };
    let record = Attempt {
        id: d.attempt_id,
        delivery_id: d.id,
        attempted_at: d.attempted_at,
        status_code: status.map(i32::from),
        error,
        duration_ms: started.elapsed().as_millis() as i64,
        finished_at: Some(time::now()),
    };
    tracing::info!(delivery = %d.id, event = %d.event_id, status = ?status, outcome = ?next, "webhook attempt");
    let disable_failing_since = d.attempted_at - RETRY_FOR;
    if ctx
        .store
        .record_attempt(&record, next, disable_failing_since)
        .await?
    {
        tracing::warn!(delivery = %d.id, "a webhook endpoint failed every attempt for a day; disabled");
    }
    Ok(())
}

/// A transport error in words, without the URL (it may carry a token of the merchant's).
fn describe(e: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<NotPublic>() {
            return REFUSED.into();
        }
        cause = c.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

type Attempts = tokio::task::JoinSet<Result<(), StoreError>>;

/// Claims what is due, as much as `room` allows, and starts each attempt in `under_way`.
async fn claim_and_start(
    ctx: &Context,
    client: &reqwest::Client,
    under_way: &mut Attempts,
    room: usize,
) -> Result<(), StoreError> {
    let now = time::now();
    let hold = chrono::Duration::seconds(ctx.settings.webhook_timeout_secs as i64 + 5);
    let room = i64::try_from(room).unwrap_or(i64::MAX);
    let due = ctx
        .store
        .claim_deliveries(now, now + hold, room, PER_ENDPOINT)
        .await?;
    for d in due {
        let (client, ctx) = (client.clone(), ctx.clone());
        under_way.spawn(async move { attempt(&client, &ctx, &d).await });
    }
    Ok(())
}

fn finished(done: Result<Result<(), StoreError>, tokio::task::JoinError>) {
    if let Ok(Err(e)) = done {
        tracing::warn!(error = %e, "recording a webhook attempt failed; it will be retried");
    }
}

pub async fn run(ctx: Context, mut stopping: Stopping) {
    let client = client(&ctx);
    let mut under_way = Attempts::new();
    loop {
        while let Some(done) = under_way.try_join_next() {
            finished(done);
        }
        let room = IN_FLIGHT.saturating_sub(under_way.len());
        if room > 0
            && let Err(e) = claim_and_start(&ctx, &client, &mut under_way, room).await
        {
            tracing::warn!(error = %e, "claiming webhook deliveries failed; will retry");
        }
        // Fewer were due than there was room for, or no room is left: until an attempt ends
        // (its endpoint may have more due) or the next look.
        tokio::select! {
            Some(done) = under_way.join_next(), if !under_way.is_empty() => finished(done),
            stop = stopping.sleep(POLL) => if stop { break },
        }
        if stopping.stopped() {
            break;
        }
    }
    // Attempts under way end (each within the request timeout) before the node stops.
    while let Some(done) = under_way.join_next().await {
        finished(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> chrono::DateTime<Utc> {
        chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn success_stops_and_refusals_stop_but_429_and_5xx_retry_with_backoff() {
        let base = chrono::Duration::seconds(30);
        assert_eq!(
            outcome(Some(204), 1, at(0), at(0), base),
            AttemptOutcome::Succeeded
        );
        assert_eq!(
            outcome(Some(410), 1, at(0), at(0), base),
            AttemptOutcome::Failed
        );
        assert_eq!(
            outcome(Some(429), 1, at(0), at(0), base),
            AttemptOutcome::Retry { at: at(30) }
        );
        assert_eq!(
            outcome(Some(503), 2, at(0), at(100), base),
            AttemptOutcome::Retry { at: at(160) }
        );
        assert_eq!(
            outcome(None, 3, at(0), at(100), base),
            AttemptOutcome::Retry { at: at(220) }
        );
        assert_eq!(
            outcome(None, 30, at(0), at(100), base),
            AttemptOutcome::Retry { at: at(3700) },
            "capped at an hour"
        );
    }

    #[test]
    fn retries_end_after_a_day() {
        let base = chrono::Duration::seconds(30);
        let day = 24 * 3600;
        assert_eq!(
            outcome(Some(500), 40, at(0), at(day - 10), base),
            AttemptOutcome::Failed
        );
    }
}
