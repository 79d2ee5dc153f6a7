//! A webhook receiver on 127.0.0.1 for the tests: it records every request and answers with the
//! statuses it is told to, in order (then 200).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Received {
    pub signature: String,
    /// Every header, names in lower case (a provider's fake signs with its own headers).
    #[allow(dead_code)] // read by the Wave fake's tests, not by every test binary
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub json: Value,
}

impl Received {
    /// The value of a header (any case), if it came.
    #[allow(dead_code)] // read by the Wave fake's tests, not by every test binary
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    answers: Mutex<VecDeque<u16>>,
    delay: Mutex<Duration>,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let body = String::from_utf8_lossy(&body).to_string();
    let signature = req
        .headers()
        .get("x-caisse-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(Received {
        signature,
        headers,
        body,
        json,
    });
    let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
    // Recorded as it arrives; the answer may wait (see `delay`).
    let delay = *state.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(State::default());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state,
            handle,
        }
    }

    /// The statuses to answer with, in order, before answering 200.
    #[allow(dead_code)] // not every test binary that includes the receiver uses it
    pub fn answer(&self, statuses: &[u16]) {
        self.state
            .answers
            .lock()
            .unwrap()
            .extend(statuses.iter().copied());
    }

    /// Forgets the statuses still to answer with: 200 from now on.
    #[allow(dead_code)] // not every test binary that includes the receiver uses it
    pub fn answer_ok(&self) {
        self.state.answers.lock().unwrap().clear();
    }

    /// Makes every answer wait, so a sender can be caught in the middle of a delivery.
    #[allow(dead_code)] // used by the multi-process tests, not by every test binary
    pub fn delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = d;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The sessions the events received so far are about.
    #[allow(dead_code)] // used by the multi-process tests, not by every test binary
    pub fn sessions(&self) -> std::collections::HashSet<String> {
        self.received()
            .iter()
            .filter_map(|r| r.json["data"]["checkout_session_id"].as_str())
            .map(str::to_string)
            .collect()
    }

    /// Waits (up to ~10 s) until `n` requests have arrived, and returns them.
    #[allow(dead_code)] // not every test binary that includes the receiver uses it
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }

    /// The bodies received, once `expected` have arrived and a pause long enough for a
    /// duplicate to arrive too has passed.
    #[allow(dead_code)] // not every test binary that includes the receiver uses it
    pub async fn settled(&self, expected: usize) -> Vec<serde_json::Value> {
        self.wait_for(expected).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        self.received().into_iter().map(|r| r.json).collect()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// The events' types, sorted: deliveries may arrive in any order.
#[allow(dead_code)] // not every test binary that includes the receiver uses it
pub fn kinds(events: &[serde_json::Value]) -> Vec<&str> {
    let mut kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    kinds
}
