//! The fake's sessions as the API shows them, and its events: made, kept, signed and sent.

use std::sync::MutexGuard;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Delivery, Inner, Session, State, Webhook, now, random};

/// `t=<t>,v1=<hex>[,v1=…]`: one `v1` per secret, over `"<t>.<body>"`.
pub fn signature(secrets: &[String], t: i64, body: &str) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        header.push_str(&format!(",v1={}", hex::encode(mac.finalize().into_bytes())));
    }
    header
}

impl Session {
    /// The session object; `expand` gives its payment intent as an object.
    pub(crate) fn json(&self, base_url: &str, expand: bool) -> Value {
        let metadata: serde_json::Map<String, Value> = self
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let intent = match (&self.intent, expand) {
            (None, _) => Value::Null,
            (Some((id, _)), false) => json!(id),
            (Some((id, status)), true) => json!({"id": id, "object": "payment_intent",
                "status": status, "amount": self.amount_total, "currency": self.currency}),
        };
        json!({
            "id": self.id, "object": "checkout.session", "mode": "payment",
            "amount_subtotal": self.amount_total, "amount_total": self.amount_total,
            "currency": self.currency, "client_reference_id": self.client_reference_id,
            "metadata": metadata, "status": self.status, "payment_status": self.payment_status,
            "payment_intent": intent, "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "url": (self.status == "open").then(|| format!("{base_url}/c/pay/{}", self.id)),
            "expires_at": self.expires_at, "created": self.created, "livemode": false,
            "locale": self.locale,
        })
    }
}

impl Inner {
    pub(crate) fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    /// Makes an event of `kind` about `session`, keeps it, and returns its id, or `None` when
    /// events are held (it is then sent by `release_events`).
    pub(crate) fn event(&mut self, kind: &str, session: &Session, base: &str) -> Option<String> {
        let id = random("evt_test_");
        let event = json!({
            "id": id, "object": "event", "api_version": "2025-03-31.basil", "created": now(),
            "livemode": false, "pending_webhooks": 1, "type": kind,
            "request": {"id": null, "idempotency_key": null},
            "data": {"object": session.json(base, false)},
            "account_of": session.account,
        });
        self.events.push((id.clone(), event));
        if self.holding {
            self.held.push_back(id);
            return None;
        }
        Some(id)
    }
}

impl State {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Sends a just-made event (none when held).
    pub(crate) async fn dispatch(&self, event: Option<String>) {
        if let Some(id) = event {
            self.send(&id).await;
        }
    }

    /// Sends event `id` to every endpoint of its account, with retries; the attempts made.
    pub(super) async fn send(&self, id: &str) -> Vec<Delivery> {
        let (body, hooks, tries, wait) = {
            let inner = self.lock();
            let Some((_, event)) = inner.events.iter().find(|(e, _)| e == id) else {
                return Vec::new();
            };
            let mut event = event.clone();
            let account = event["account_of"].as_str().unwrap_or_default().to_string();
            event.as_object_mut().unwrap().remove("account_of");
            let hooks: Vec<Webhook> = inner
                .webhooks
                .iter()
                .filter(|w| w.account == account)
                .cloned()
                .collect();
            (
                event.to_string(),
                hooks,
                inner.retry_tries,
                inner.retry_wait,
            )
        };
        let mut sent = Vec::new();
        for hook in hooks {
            for attempt in 1..=tries {
                let signature = Some(signature(&hook.secrets, now(), &body));
                let d = self.post(&hook.url, id, attempt, signature, &body).await;
                let done = d.delivered();
                sent.push(d);
                if done {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
        }
        sent
    }

    /// One POST of an event body, recorded.
    pub(super) async fn post(
        &self,
        url: &str,
        event_id: &str,
        attempt: u32,
        signature: Option<String>,
        body: &str,
    ) -> Delivery {
        let mut request = self
            .client
            .post(url)
            .timeout(Duration::from_secs(10))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string());
        if let Some(s) = &signature {
            request = request.header("Stripe-Signature", s);
        }
        let outcome = match request.send().await {
            Ok(res) => Ok(res.status().as_u16()),
            Err(e) => Err(e.to_string()),
        };
        let d = Delivery {
            url: url.to_string(),
            event_id: event_id.to_string(),
            attempt,
            signature,
            body: body.to_string(),
            outcome,
        };
        self.lock().deliveries.push(d.clone());
        d
    }
}
