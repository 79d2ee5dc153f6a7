//! The shop of the MTN MoMo tests: a merchant with an MTN account at caisse (a sandbox API user
//! of the local fake, `tests/support/mtn.rs`), a receiver of its events, and the customer's
//! steps on the page.

use std::time::{Duration, Instant};

use caisse::domain::payment::short_id;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app_with};
use crate::mtn::FakeMtn;
use crate::page::submit;
use crate::receiver::Receiver;

pub const SUBSCRIPTION_KEY: &str = "f1db798c98df4bcf83b538175893bbf0";
pub const API_USER: &str = "c72025f5-5cd1-4630-99e4-8ba4722fad56";
pub const API_KEY: &str = "6f3a9a1e2b5c4d7e8f9a0b1c2d3e4f5a";
pub const PHONE: &str = "+2250501020304";

/// A merchant with an MTN MoMo account (a sandbox API user) registered at caisse, and a
/// receiver of the merchant's own events.
pub struct Shop {
    pub app: TestApp,
    pub mtn: FakeMtn,
    pub webhook_url: String,
    pub events: Receiver,
}

pub async fn shop(backend: Backend) -> Option<Shop> {
    shop_reading_every(backend, 1).await
}

/// A shop whose reconciler first reads a pending payment after `secs` seconds: an hour keeps
/// its reads out of a test that counts the calls made to MTN.
pub async fn shop_reading_every(backend: Backend, secs: u64) -> Option<Shop> {
    let mtn = FakeMtn::start().await;
    mtn.add_user(
        SUBSCRIPTION_KEY,
        API_USER,
        API_KEY,
        &["sandbox", "mtnivorycoast", "mtncameroon"],
    );
    let base = mtn.base_url.clone();
    let app = spawn_app_with(backend, move |s| {
        s.mtn_api_url = base;
        s.reconcile_interval_secs = secs;
    })
    .await?;
    let webhook_url = set_account(&app, &app.key, "sandbox").await;
    let events = Receiver::start().await;
    let res = app
        .post_json("/v1/webhooks", &app.key, &json!({"url": events.url}))
        .await;
    assert_eq!(res.status(), 201);
    Some(Shop {
        app,
        mtn,
        webhook_url,
        events,
    })
}

/// Sets the key's organization's MTN account; returns its `webhook_url`.
pub async fn set_account(app: &TestApp, key: &str, target: &str) -> String {
    let res = app
        .put(
            "/v1/providers/mtn",
            key,
            &json!({"subscription_key": SUBSCRIPTION_KEY, "api_user": API_USER,
                    "api_key": API_KEY, "target_environment": target}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    account["webhook_url"].as_str().unwrap().to_string()
}

impl Shop {
    /// A 10 000 F CFA session paid with MTN MoMo on the page: the pay form answers 303 back
    /// to the page, which waits. Returns the session id and the request's reference id.
    pub async fn choose_mtn(&self) -> (String, String) {
        let id = id_of(&self.app.session(&session_body()).await);
        let status = self.choose_again(&id).await;
        assert_eq!(status, 303);
        let reference = self.pending_reference(&id).await;
        (id, reference)
    }

    /// The pay form posted for `id` with MTN; the answer's status.
    pub async fn choose_again(&self, id: &str) -> u16 {
        let res = submit(
            &self.app,
            &format!("/checkout/{id}"),
            "/pay",
            &[("provider", "MTN"), ("customer_phone", PHONE)],
        )
        .await;
        res.status().as_u16()
    }

    /// The id of the session's latest payment: its `X-Reference-Id` at MTN.
    pub async fn pending_reference(&self, id: &str) -> String {
        let payments = self.app.payments(id).await;
        payments.last().unwrap()["payment_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The payment's own callback URL.
    pub fn callback_url(&self, reference: &str) -> String {
        format!(
            "{}/{}",
            self.webhook_url,
            short_id(reference.parse().unwrap())
        )
    }

    pub fn status_reads(&self) -> usize {
        self.mtn.calls_to("status").len()
    }

    /// Waits, for `secs` seconds at most, for the session to complete; the session as last read.
    pub async fn wait_completed(&self, id: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut s = self.app.api_session(id).await;
        while s["status"] != "completed" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            s = self.app.api_session(id).await;
        }
        s
    }

    /// Waits (boundedly) for MTN to have been read more than `reads` times.
    pub async fn wait_reads(&self, reads: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.status_reads() <= reads && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
