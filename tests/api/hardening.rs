//! Attacks that once got through, each over HTTP as its author made it: control characters and
//! unnormalized URLs stored for redirects, control characters from the page's forms, and a
//! quantity that took a total past the amount cap, payment reports read leniently, webhooks
//! sent to this machine's own addresses, one key's flood of requests, wrong keys by the
//! thousand, and a planted CSRF cookie.

use serde_json::{Value, json};

use crate::helpers::{
    Backend, error_field, error_of, id_of, session_body, spawn_app, spawn_app_with,
};
use crate::page::submit;
use crate::receiver::Receiver;

/// Reports the payment of a 10 000 F CFA session, which must complete it.
async fn pay(app: &crate::helpers::TestApp, id: &str) {
    // One reference per session: one payment at a provider pays one session only.
    let report =
        json!({"provider": "WAVE", "provider_reference": format!("r-{id}"), "amount_paid": 10000});
    let paid = app
        .post_json(
            &format!("/v1/checkout_sessions/{id}/complete"),
            &app.key,
            &report,
        )
        .await;
    assert_eq!(paid.status(), 200);
}

async fn redirect_urls_with_control_characters_whitespace_or_userinfo_are_refused(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for bad in [
        "https://shop.example/merci\r\nSet-Cookie: a=b",
        "https://shop.example/\u{1}",
        "https://shop.example/\u{7f}",
        "https://shop.example/a\u{0}b",
        "https://shop.example/a b",
        "https://shop.example/\tmerci",
        "https://client@shop.example/merci",
        "https://shop.example:secret@evil.example/",
    ] {
        for field in ["success_url", "cancel_url"] {
            let mut body = session_body();
            body[field] = json!(bad);
            let res = app.create_session(&body).await;
            assert_eq!(res.status(), 422, "{field} = {bad:?}");
            assert_eq!(error_field(&error_of(res).await), field, "{bad:?}");
        }
    }
}

async fn redirect_urls_are_stored_as_the_parser_reads_them(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for (given, stored) in [
        ("https:shop.example/merci", "https://shop.example/merci"),
        ("https:\\\\shop.example/merci", "https://shop.example/merci"),
        (
            "https://BÜCHER.example/merci",
            "https://xn--bcher-kva.example/merci",
        ),
        (
            "HTTPS://Shop.Example/merci?cs={CHECKOUT_SESSION_ID}",
            "https://shop.example/merci?cs={CHECKOUT_SESSION_ID}",
        ),
    ] {
        let mut body = session_body();
        body["success_url"] = json!(given);
        let s = app.session(&body).await;
        assert_eq!(s["success_url"], stored, "{given:?}");
        // Paid, the page sends the customer to exactly that URL.
        let id = id_of(&s);
        pay(&app, &id).await;
        let page = app
            .client
            .get(app.url(&format!("/checkout/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303, "{given:?}");
        let location = page.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(location, stored.replace("{CHECKOUT_SESSION_ID}", &id));
    }
}

async fn control_characters_from_the_page_are_refused_and_change_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let path = format!("/checkout/{}", id_of(&s));
    for name in ["Awa\u{0}Traoré", "Awa\u{1b}[31m", "Awa\u{7f}"] {
        let res = submit(
            &app,
            &path,
            "/pay",
            &[
                ("provider", "WAVE"),
                ("customer_name", name),
                ("customer_phone", "+2250707070707"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422, "{name:?}");
        let session = app.api_session(&id_of(&s)).await;
        assert_eq!(
            session["customer_name"],
            Value::Null,
            "{name:?} is not stored"
        );
    }
    // The API refuses the same text by the same rule.
    for field in ["title", "customer_name", "public_description"] {
        let mut body = session_body();
        body[field] = json!("Pagne\u{0}wax");
        let res = app.create_session(&body).await;
        assert_eq!(res.status(), 422, "{field}");
        assert_eq!(error_field(&error_of(res).await), field);
    }
    // A description may still run over several lines.
    let mut body = session_body();
    body["public_description"] = json!("Tissu wax.\nTaille unique.\r\n\tLavable.");
    assert_eq!(app.create_session(&body).await.status(), 201);
}

async fn the_quantity_form_cannot_take_the_total_past_the_amount_cap(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["amount"] = json!(100_000_000_000_i64);
    body["allow_quantity"] = json!(true);
    let s = app.session(&body).await;
    let id = id_of(&s);
    let path = format!("/checkout/{id}");
    let res = submit(&app, &path, "/quantity", &[("quantity", "99")]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.api_session(&id).await["quantity"], 1, "nothing changed");
    let res = submit(&app, &path, "/quantity", &[("quantity", "10")]).await;
    assert_eq!(res.status(), 303, "10 × 10¹¹ is the cap itself");
    // The session stays one the API can change.
    let res = app
        .patch(
            &format!("/v1/checkout_sessions/{id}"),
            &app.key,
            &json!({"title": "Kente"}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn report(app: &crate::helpers::TestApp, id: &str, body: &str) -> (u16, Value) {
    let res = app
        .post_raw(
            &format!("/v1/checkout_sessions/{id}/complete"),
            body.to_string(),
        )
        .await;
    let status = res.status().as_u16();
    (status, error_of_or_body(res).await)
}

async fn error_of_or_body(res: reqwest::Response) -> Value {
    if res.status().is_success() {
        res.json().await.unwrap()
    } else {
        error_of(res).await
    }
}

async fn a_payment_report_is_read_exactly_and_a_replay_must_be_the_same_payment(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allowed_providers"] = json!("WAVE,ORANGE");
    let id = id_of(&app.session(&body).await);
    let report_of = |provider: &str, amount: &str| {
        format!(
            r#"{{"provider": "{provider}", "provider_reference": "wave-42", "amount_paid": {amount}}}"#
        )
    };
    // A number that only rounds to the total, or is written as a float, is not the total.
    for amount in ["9999.99999999999999999", "10000.0", "1e4"] {
        let (status, err) = report(&app, &id, &report_of("WAVE", amount)).await;
        assert_eq!(
            (status, error_field(&err)),
            (422, "amount_paid"),
            "{amount}: {err}"
        );
    }
    // A provider the session does not allow.
    let (status, err) = report(&app, &id, &report_of("MTN", "10000")).await;
    assert_eq!((status, error_field(&err)), (422, "provider"), "{err}");
    // A field given twice: which one counts would be a guess.
    let twice = r#"{"provider": "WAVE", "provider_reference": "wave-42", "amount_paid": 1, "amount_paid": 10000}"#;
    let (status, err) = report(&app, &id, twice).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (400, &json!("malformed_json")),
        "{err}"
    );
    assert_eq!(
        app.api_session(&id).await["status"],
        "open",
        "nothing completed it"
    );

    let (status, _) = report(&app, &id, &report_of("WAVE", "10000")).await;
    assert_eq!(status, 200);
    let (status, _) = report(&app, &id, &report_of("WAVE", "10000")).await;
    assert_eq!(status, 200, "the same report again");
    for amount in ["1", "-5", "20000"] {
        let (status, err) = report(&app, &id, &report_of("WAVE", amount)).await;
        assert_eq!(
            (status, &err["error"]["code"]),
            (409, &json!("checkout_session_completed")),
            "a replay for {amount} is another payment: {err}"
        );
    }
    // The rest of the API refuses a field given twice the same way.
    let res = app
        .post_raw(
            "/v1/checkout_sessions",
            r#"{"amount": 10000, "amount": 1, "currency_code": "XOF", "title": "Pagne"}"#,
        )
        .await;
    assert_eq!(res.status(), 400);
}

async fn webhooks_never_reach_a_private_address_however_it_is_written(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.webhook_allow_private = false).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let port = receiver
        .url
        .rsplit_once(':')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut hooks = Vec::new();
    for url in [
        format!("http://127.1:{port}/hooks"),
        format!("http://2130706433:{port}/hooks"),
        format!("http://0x7f000001:{port}/hooks"),
        format!("http://localhost:{port}/hooks"),
        format!("https://127.0.0.1:{port}/hooks"),
        format!("https://[::ffff:127.0.0.1]:{port}/hooks"),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        "https://10.0.0.1/hooks".to_string(),
        "https://0.0.0.0/hooks".to_string(),
    ] {
        let res = app
            .post_json("/v1/webhooks", &app.key, &json!({"url": url}))
            .await;
        assert_eq!(res.status(), 201, "{url}");
        let hook: Value = res.json().await.unwrap();
        hooks.push((url, hook["webhook_id"].as_str().unwrap().to_string()));
    }
    let id = id_of(&app.session(&session_body()).await);
    pay(&app, &id).await;

    for (url, hook) in &hooks {
        let mut attempt = Value::Null;
        for _ in 0..100 {
            let log: Value = app
                .get(&format!("/v1/webhooks/{hook}/deliveries"), &app.key)
                .await
                .json()
                .await
                .unwrap();
            attempt = log["data"][0]["attempt_log"][0].clone();
            if !attempt["finished_at"].is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(attempt["status_code"], Value::Null, "{url}: {attempt}");
        assert_eq!(
            attempt["error"], "refused: the endpoint's address is not a public one",
            "{url}: {attempt}"
        );
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached this machine"
    );
    receiver.stop().await;
}

/// Sends `head` (a request announcing a 60,000-byte body), then a byte a second, reading what
/// comes back until the server closes the connection or 15 s have passed: the answer, and how
/// long it took.
async fn trickle(app: &crate::helpers::TestApp, head: String) -> (String, std::time::Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    for _ in 0..15 {
        let _ = stream.write_all(b" ").await;
        match tokio::time::timeout(
            std::time::Duration::from_secs(1),
            stream.read_buf(&mut answer),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

async fn a_body_that_trickles_in_is_cut_off(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let head = |path: &str, key: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: caisse\r\nX-API-KEY: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
        )
    };
    // The tests' deadline for a whole body is 2 s.
    let (answer, took) = trickle(&app, head("/v1/checkout_sessions", &app.key)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        took < std::time::Duration::from_secs(8),
        "cut off after {took:?}"
    );
    // A form for no session is answered before its body is read.
    let (answer, took) = trickle(&app, head("/checkout/not-a-session/pay", "")).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        took < std::time::Duration::from_secs(2),
        "answered after {took:?}"
    );
}

/// One key's burst past its rate limit is answered 429 with `Retry-After`, in the API's error
/// shape; another organization's key is not held back.
async fn an_api_key_past_its_rate_limit_is_answered_429(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.api_rate_limit = 5).await else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(
            app.get("/v1/checkout_sessions", &app.key).await.status(),
            200
        );
    }
    let res = app.get("/v1/checkout_sessions", &app.key).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let body = error_of(res).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(body["request_id"].is_string());
    let (_, other) = crate::helpers::new_organization(
        &app.ctx,
        "Boutique Fatou",
        caisse::domain::session::Environment::Test,
    )
    .await;
    assert_eq!(app.get("/v1/checkout_sessions", &other).await.status(), 200);
    // The bucket refills: five a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        app.get("/v1/checkout_sessions", &app.key).await.status(),
        200
    );
}

/// An address that keeps sending keys that are not valid is refused lookups for a while (429),
/// where it used to get any number of plain 401s; another address is not.
async fn wrong_keys_from_one_address_are_refused_lookups(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.client_ip_header = Some("X-Forwarded-For".into());
    })
    .await
    else {
        return;
    };
    let from = |address: &str, key: &str| {
        app.client
            .get(app.url("/v1/checkout_sessions"))
            .header("X-API-KEY", key)
            .header("X-Forwarded-For", address)
            .send()
    };
    let wrong = format!("sk_test_{}", "0".repeat(64));
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(from("203.0.113.5", &wrong).await.unwrap().status().as_u16());
    }
    assert_eq!(&statuses[..20], &[401; 20]);
    assert_eq!(&statuses[21..], &[429; 4], "{statuses:?}");
    let refused = from("203.0.113.5", &app.key).await.unwrap();
    assert_eq!(refused.status(), 429, "no lookup at all while refused");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(from("203.0.113.6", &app.key).await.unwrap().status(), 200);
    assert_eq!(from("203.0.113.6", &wrong).await.unwrap().status(), 401);
}

/// A CSRF secret planted in the victim's browser (a cookie set from a sibling subdomain, say)
/// whose author reads its tokens from their own view of the page: caisse takes only secrets it
/// could have made, and replaces any other, so the author's tokens are worthless.
async fn a_planted_csrf_cookie_is_replaced_not_trusted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    let id = id_of(&app.session(&body).await);
    let path = format!("/checkout/{id}");
    let planted = format!("caisse_csrf={}", "A".repeat(64));
    // The attacker's own view of the page, with the planted cookie.
    let seen = crate::page::visit(&app, &path, &[("cookie", &planted)]).await;
    assert!(
        seen.cookies.starts_with("caisse_csrf=") && !seen.cookies.contains(&"A".repeat(64)),
        "a fresh secret replaces the planted one: {}",
        seen.cookies
    );
    // The victim's browser posts the attacker's form: planted cookie, attacker's token.
    let res = crate::page::post_form(
        &app,
        &format!("{path}/quantity"),
        &planted,
        &[("csrf", &seen.csrf()), ("quantity", "7")],
    )
    .await;
    let status = res.status().as_u16();
    let html = res.text().await.unwrap();
    assert!(html.contains("Ce formulaire a expiré"), "{status} {html}");
    assert_eq!(app.api_session(&id).await["quantity"], 1, "nothing changed");
}

crate::on_both_backends!(
    a_planted_csrf_cookie_is_replaced_not_trusted,
    an_api_key_past_its_rate_limit_is_answered_429,
    wrong_keys_from_one_address_are_refused_lookups,
    a_body_that_trickles_in_is_cut_off,
    webhooks_never_reach_a_private_address_however_it_is_written,
    a_payment_report_is_read_exactly_and_a_replay_must_be_the_same_payment,
    redirect_urls_with_control_characters_whitespace_or_userinfo_are_refused,
    redirect_urls_are_stored_as_the_parser_reads_them,
    control_characters_from_the_page_are_refused_and_change_nothing,
    the_quantity_form_cannot_take_the_total_past_the_amount_cap,
);
