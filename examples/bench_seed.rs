//! Seeds a running caisse with checkout sessions for `bench/run`, through the API as a merchant
//! would: `count` sessions of varied prices, currencies and options, of which `qr` are PI-SPI
//! point-of-sale sessions (so their QR code exists). Prints `<id> <qr|plain>` a line.
//!
//! ```sh
//! bench_seed http://127.0.0.1:8080 sk_test_… 5000 200 > sessions.txt
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

/// Requests in flight at once: enough to keep both of the server's workers busy.
const CONCURRENCY: usize = 16;

fn body(n: usize, qr: bool, expires_at: &str) -> Value {
    let titles = [
        "Pagne wax — 6 yards",
        "Abonnement fibre, 1 mois",
        "Sac de riz parfumé 25 kg",
        "Billet Abidjan → Dakar",
        "Cours de couture (4 séances)",
    ];
    let title = titles[n % titles.len()];
    if qr {
        // A different amount each, so each session has its own payload and its own code.
        return json!({
            "amount": 1000 + n as i64 * 25,
            "currency_code": "XOF",
            "title": title,
            "is_pos": true,
            "qr_code_data": {
                "alias": "111c3e1b-4312-49ec-b75e-4c8c74c10fd7",
                "country": "CI",
                "reference": "ORDER-42",
            },
            "expires_at": expires_at,
        });
    }
    let currency = ["XOF", "XOF", "XAF", "EUR", "USD"][n % 5];
    json!({
        "amount": 500 + (n as i64 * 37) % 100_000,
        "currency_code": currency,
        "title": title,
        "public_description": "Livraison sous 48 h à Abidjan, Dakar et Lomé.",
        "quantity": 1 + (n as i64 % 3),
        "allow_quantity": n.is_multiple_of(2),
        "allow_coupon_code": n.is_multiple_of(3),
        "customer_email": format!("client{n}@example.com"),
        "success_url": "https://shop.example/merci?cs={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/panier",
        "metadata": {"order": format!("ORD-{n:06}"), "channel": "web"},
        "expires_at": expires_at,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, key, count, qr] = &args[..] else {
        return Err("usage: bench_seed <base-url> <api-key> <count> <qr-count>".into());
    };
    let count: usize = count.parse()?;
    let qr: usize = qr.parse()?;
    let url = format!("{}/v1/checkout_sessions", base.trim_end_matches('/'));
    // A day ahead, so no session expires during a long run.
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, key, next, expires_at) = (
            client.clone(),
            url.clone(),
            key.clone(),
            next.clone(),
            expires_at.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, String>(made);
                }
                let is_qr = n < qr;
                let res = client
                    .post(&url)
                    .header("X-API-KEY", &key)
                    .json(&body(n, is_qr, &expires_at))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = res.status();
                let text = res.text().await.map_err(|e| e.to_string())?;
                if status.as_u16() != 201 {
                    return Err(format!("session {n}: {status}: {text}"));
                }
                let created: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                let id = created["checkout_session_id"]
                    .as_str()
                    .ok_or_else(|| format!("session {n}: no checkout_session_id in {text}"))?
                    .to_string();
                made.push((n, id, is_qr));
            }
        }));
    }
    let mut all = Vec::with_capacity(count);
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_by_key(|(n, _, _)| *n);
    for (_, id, is_qr) in all {
        println!("{id} {}", if is_qr { "qr" } else { "plain" });
    }
    Ok(())
}
