//! Coupons and payment on the page: applying and removing codes with their limits, choosing a
//! provider, the test sandbox, a free total, and coupon uses counted once under races.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app};
use crate::page::{post_form, submit, visit};

async fn coupon(app: &TestApp, body: Value) -> Value {
    let res = app.post_json("/v1/discount_coupons", &app.key, &body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn coupon_session(app: &TestApp) -> (String, String) {
    let mut body = session_body();
    body["allow_coupon_code"] = json!(true);
    body["allow_quantity"] = json!(true);
    let s = app.session(&body).await;
    let id = id_of(&s);
    (id.clone(), format!("/checkout/{id}"))
}

async fn apply(app: &TestApp, path: &str, code: &str) -> (u16, String) {
    let res = submit(app, path, "/coupon", &[("action", "apply"), ("code", code)]).await;
    let status = res.status().as_u16();
    (
        status,
        res.text()
            .await
            .unwrap()
            .replace(['\u{202f}', '\u{a0}'], " "),
    )
}

async fn valid_and_invalid_codes_and_their_removal(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    coupon(
        &app,
        json!({"code": "NOEL10", "discount_type": "percentage", "discount_percentage": 10}),
    )
    .await;
    coupon(&app, json!({"code": "OLD", "discount_type": "percentage", "discount_percentage": 50, "is_active": false})).await;
    coupon(&app, json!({"code": "EURO5", "discount_type": "fixed", "discount_fixed_amount": 500, "currency_code": "EUR"})).await;
    let (id, path) = coupon_session(&app).await;

    let (status, html) = apply(&app, &path, "NOPE").await;
    assert_eq!(status, 422);
    assert!(html.contains("Ce code promo n’existe pas"), "{html}");
    assert!(html.contains("Payer 10 000 F CFA"), "paying stays possible");
    let (_, html) = apply(&app, &path, "OLD").await;
    assert!(html.contains("plus actif"));
    let (_, html) = apply(&app, &path, "EURO5").await;
    assert!(html.contains("cette devise"));
    assert_eq!(app.api_session(&id).await["amount_total"], 10000);

    let (status, _) = apply(&app, &path, " noel10 ").await;
    assert_eq!(status, 303);
    let s = app.api_session(&id).await;
    assert_eq!(
        (
            s["amount_discount"].as_i64(),
            s["amount_total"].as_i64(),
            s["coupon_code"].as_str()
        ),
        (Some(1000), Some(9000), Some("NOEL10"))
    );
    let page = visit(&app, &path, &[]).await;
    assert!(page.text().contains("−1 000 F CFA") && page.text().contains("9 000 F CFA"));

    let res = post_form(
        &app,
        &format!("{path}/coupon"),
        &page.cookies,
        &[("csrf", &page.csrf()), ("action", "remove")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let s = app.api_session(&id).await;
    assert_eq!(
        (s["amount_total"].as_i64(), s["coupon_code"].clone()),
        (Some(10000), Value::Null)
    );
}

async fn coupon_attempts_are_rate_limited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    coupon(
        &app,
        json!({"code": "GOOD", "discount_type": "percentage", "discount_percentage": 10}),
    )
    .await;
    let (id, path) = coupon_session(&app).await;
    for i in 0..5 {
        let (status, _) = apply(&app, &path, &format!("GUESS{i}")).await;
        assert_eq!(status, 422);
    }
    let (status, html) = apply(&app, &path, "GOOD").await;
    assert_eq!(
        status, 422,
        "even a good code waits once the limit is reached"
    );
    assert!(html.contains("Trop d"), "{html}");
    assert_eq!(app.api_session(&id).await["amount_discount"], 0);
}

/// A code tried from `address` (as the reverse proxy in front of caisse says it), on a page
/// visited from there: whether it was refused as a guess too many.
async fn try_code_from(app: &TestApp, path: &str, code: &str, address: &str) -> (u16, bool) {
    let page = visit(app, path, &[]).await;
    let res = app
        .client
        .post(app.url(&format!("{path}/coupon")))
        .header("Cookie", &page.cookies)
        .header("X-Forwarded-For", format!("198.51.100.1, {address}"))
        .form(&[
            ("csrf", page.csrf().as_str()),
            ("action", "apply"),
            ("code", code),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap().contains("Trop d"))
}

/// Sessions are free, so the limit of a session alone does not stop guessing: an address has
/// a budget of codes across sessions, and an organization whose pages are sent too many
/// unknown codes, from any number of addresses, takes none for a while.
async fn coupon_guessing_is_limited_per_address_and_per_organization(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| {
        s.client_ip_header = Some("X-Forwarded-For".into());
    })
    .await
    else {
        return;
    };
    coupon(
        &app,
        json!({"code": "GOOD", "discount_type": "percentage", "discount_percentage": 10}),
    )
    .await;
    // One address, three sessions: ten codes in all, then none.
    let mut refused = Vec::new();
    for _ in 0..3 {
        let (_, path) = coupon_session(&app).await;
        for i in 0..4 {
            refused.push(
                try_code_from(&app, &path, &format!("GUESS{i}"), "203.0.113.9")
                    .await
                    .1,
            );
        }
    }
    assert_eq!(refused.iter().filter(|r| !**r).count(), 10, "{refused:?}");
    assert!(refused[10..].iter().all(|r| *r), "{refused:?}");
    let (_, path) = coupon_session(&app).await;
    assert_eq!(
        try_code_from(&app, &path, "GOOD", "203.0.113.10").await,
        (303, false),
        "another address is not held back"
    );

    // Many addresses, one code each: past sixty unknown codes the organization's pages take
    // none, a good one included; another organization's are not held back.
    let mut refused_at = None;
    for n in 0..80 {
        let (_, path) = coupon_session(&app).await;
        let address = format!("192.0.2.{n}");
        if try_code_from(&app, &path, &format!("WILD{n}"), &address)
            .await
            .1
        {
            refused_at = Some(n);
            break;
        }
    }
    let refused_at = refused_at.expect("the organization's limit was reached");
    // Sixty in all: ten came from the one address above.
    assert!((48..=53).contains(&refused_at), "{refused_at}");
    let (_, path) = coupon_session(&app).await;
    assert_eq!(
        try_code_from(&app, &path, "GOOD", "192.0.2.200").await,
        (422, true)
    );
    let (_, other_key) = crate::helpers::new_organization(
        &app.ctx,
        "Boutique Fatou",
        caisse::domain::session::Environment::Test,
    )
    .await;
    let res = app
        .post_json(
            "/v1/discount_coupons",
            &other_key,
            &json!({"code": "GOOD", "discount_type": "percentage", "discount_percentage": 10}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let mut body = session_body();
    body["allow_coupon_code"] = json!(true);
    let res = app
        .post_json("/v1/checkout_sessions", &other_key, &body)
        .await;
    let other: Value = res.json().await.unwrap();
    let other_path = format!("/checkout/{}", id_of(&other));
    assert_eq!(
        try_code_from(&app, &other_path, "GOOD", "192.0.2.201").await,
        (303, false)
    );
}

/// Posting "pay" and "use another method" in a loop would ask the merchant's provider for a
/// payment each time: a session starts ten attempts at once, then one every half minute.
async fn payment_attempts_in_a_loop_are_limited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = id_of(&app.session(&session_body()).await);
    let path = format!("/checkout/{id}");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = submit(
            &app,
            &path,
            "/pay",
            &[("provider", "MTN"), ("customer_phone", "+2250501020304")],
        )
        .await;
        let status = res.status().as_u16();
        if status == 429 {
            let html = res.text().await.unwrap();
            assert!(html.contains("Trop de tentatives de paiement"), "{html}");
        }
        statuses.push(status);
        assert_eq!(submit(&app, &path, "/pay/reset", &[]).await.status(), 303);
    }
    assert!(statuses[..10].iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    assert_eq!(app.payments(&id).await.len(), 10);
    // The session's payments come a page at a time.
    let paged: Value = app
        .get(
            &format!("/v1/checkout_sessions/{id}/payments?limit=3&offset=8"),
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paged["data"].as_array().unwrap().len(), 2, "{paged}");
    assert_eq!(
        paged["pagination"],
        json!({"limit": 3, "offset": 8, "total": 10})
    );
    let refused = app
        .get(
            &format!("/v1/checkout_sessions/{id}/payments?limit=0"),
            &app.key,
        )
        .await;
    assert_eq!(refused.status(), 422);
    // Another session is not held back.
    let other = id_of(&app.session(&session_body()).await);
    let res = submit(
        &app,
        &format!("/checkout/{other}"),
        "/pay",
        &[("provider", "MTN"), ("customer_phone", "+2250501020304")],
    )
    .await;
    assert_eq!(res.status(), 303);
}

async fn a_new_quantity_drops_a_coupon_that_no_longer_applies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    coupon(&app, json!({"code": "DUO", "discount_type": "percentage", "discount_percentage": 20, "max_quantity_per_use": 2})).await;
    let (id, path) = coupon_session(&app).await;
    assert_eq!(apply(&app, &path, "DUO").await.0, 303);
    let page = visit(&app, &path, &[]).await;
    let res = post_form(
        &app,
        &format!("{path}/quantity"),
        &page.cookies,
        &[("csrf", &page.csrf()), ("quantity", "2")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.api_session(&id).await["amount_total"],
        16000,
        "20 % off 2 × 10 000"
    );
    let res = post_form(
        &app,
        &format!("{path}/quantity"),
        &page.cookies,
        &[("csrf", &page.csrf()), ("quantity", "3")],
    )
    .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Le code promo a été retiré"), "{html}");
    let s = app.api_session(&id).await;
    assert_eq!(
        (s["amount_total"].as_i64(), s["coupon_code"].clone()),
        (Some(30000), Value::Null)
    );
    // Through the API as well.
    assert_eq!(
        apply(&app, &path, "DUO").await.0,
        422,
        "3 is above the coupon's limit"
    );
}

async fn choosing_a_provider_and_paying_in_the_sandbox(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allowed_providers"] = json!("WAVE,CARD");
    let s = app.session(&body).await;
    let id = id_of(&s);
    let path = format!("/checkout/{id}");
    let page = visit(&app, &path, &[]).await;
    assert!(page.html.contains("value=\"WAVE\"") && page.html.contains("value=\"CARD\""));
    assert!(
        !page.html.contains("value=\"ORANGE\""),
        "only allowed providers"
    );

    let pay = |fields: Vec<(&'static str, String)>| {
        let (app, path, cookies) = (&app, path.clone(), page.cookies.clone());
        let mut form = vec![("csrf", page.csrf())];
        form.extend(fields);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(app, &format!("{path}/pay"), &cookies, &form).await
        }
    };
    let res = pay(vec![("provider", "WAVE".into())]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text().await.unwrap().contains("demande votre numéro"),
        "mobile money needs a phone"
    );
    let res = pay(vec![
        ("provider", "ORANGE".into()),
        ("customer_phone", "+2250700000000".into()),
    ])
    .await;
    assert_eq!(res.status(), 422, "a provider that is not offered");
    let res = pay(vec![
        ("provider", "WAVE".into()),
        ("customer_phone", "+225 07 00 00 00 00".into()),
        ("customer_email", "pas-un-email".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    let res = pay(vec![
        ("provider", "WAVE".into()),
        ("customer_phone", "+225 07 00 00 00 00".into()),
        ("customer_name", "Awa".into()),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let s = app.api_session(&id).await;
    assert_eq!(
        (
            s["payment_provider"].as_str(),
            s["customer_phone"].as_str(),
            s["status"].as_str()
        ),
        (Some("WAVE"), Some("+2250700000000"), Some("open"))
    );

    let waiting = visit(&app, &path, &[]).await;
    assert!(
        waiting.html.contains("data-poll=") && waiting.html.contains("data-sandbox=\"success\"")
    );
    let res = post_form(
        &app,
        &format!("{path}/sandbox"),
        &waiting.cookies,
        &[("csrf", &waiting.csrf()), ("outcome", "failure")],
    )
    .await;
    assert_eq!(res.status(), 402);
    let refused = res.text().await.unwrap();
    assert!(refused.contains("paiement a été refusé"));
    assert!(
        refused.contains("value=\"WAVE\""),
        "the customer may choose again"
    );
    let s = app.api_session(&id).await;
    assert_eq!(s["status"], "open");
    // The declined attempt is a record, and the order can change again.
    assert_eq!(
        (
            s["payment"]["status"].as_str(),
            s["payment"]["failure_code"].as_str()
        ),
        (Some("failed"), Some("sandbox_declined"))
    );
    // Trying again is a new attempt.
    let res = pay(vec![
        ("provider", "WAVE".into()),
        ("customer_phone", "+2250700000000".into()),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let waiting = visit(&app, &path, &[]).await;
    let res = post_form(
        &app,
        &format!("{path}/sandbox"),
        &waiting.cookies,
        &[("csrf", &waiting.csrf()), ("outcome", "success")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let s = app.api_session(&id).await;
    assert_eq!(
        (s["status"].as_str(), s["payment_provider"].as_str()),
        (Some("completed"), Some("WAVE"))
    );
    // The sandbox's money is a payment like any other, frozen at the total it paid.
    let payment = &s["payment"];
    assert_eq!(
        (payment["status"].as_str(), payment["provider"].as_str()),
        (Some("succeeded"), Some("WAVE"))
    );
    assert_eq!(payment["amount"], s["amount_total"]);
    assert!(
        payment["provider_reference"]
            .as_str()
            .unwrap()
            .starts_with("sandbox_")
    );
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("https://shop.example/merci?cs={id}")
    );
}

async fn live_sessions_offer_only_what_can_be_paid(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, live) = crate::helpers::new_organization(
        &app.ctx,
        "Live",
        caisse::domain::session::Environment::Live,
    )
    .await;
    let mut body = session_body();
    body["allowed_providers"] = json!("WAVE,ORANGE");
    let s: Value = app
        .post_json("/v1/checkout_sessions", &live, &body)
        .await
        .json()
        .await
        .unwrap();
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    assert!(
        page.html.contains("data-no-provider"),
        "the page says nothing can take the payment"
    );
    assert!(!page.html.contains("MODE TEST") && !page.html.contains("data-sandbox"));
    let res = post_form(
        &app,
        &format!("/checkout/{}/sandbox", id_of(&s)),
        &page.cookies,
        &[("outcome", "success")],
    )
    .await;
    // Refused either way: the live page has no form to take a token from.
    assert!(
        matches!(res.status().as_u16(), 303 | 403),
        "{}",
        res.status()
    );
    let read: Value = app
        .get(&format!("/v1/checkout_sessions/{}", id_of(&s)), &live)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "open", "no sandbox in live");
}

async fn a_total_of_zero_completes_without_a_provider(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    coupon(&app, json!({"code": "FREE", "discount_type": "percentage", "discount_percentage": 100, "max_uses": 1})).await;
    let (id, path) = coupon_session(&app).await;
    assert_eq!(apply(&app, &path, "FREE").await.0, 303);
    assert!(
        visit(&app, &path, &[])
            .await
            .html
            .contains("Valider la commande")
    );
    let res = submit(&app, &path, "/pay", &[]).await;
    assert_eq!(res.status(), 303);
    let s = app.api_session(&id).await;
    assert_eq!(
        (
            s["status"].as_str(),
            s["amount_total"].as_i64(),
            s["payment_provider"].clone()
        ),
        (Some("completed"), Some(0), Value::Null)
    );
    let c: Value = app
        .get("/v1/discount_coupons?limit=10", &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["data"][0]["current_uses"], 1, "counted at completion");
}

async fn the_last_use_of_a_coupon_goes_to_one_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = Arc::new(app);
    let c = coupon(&app, json!({"code": "LAST", "discount_type": "fixed", "discount_fixed_amount": 1000, "currency_code": "XOF", "max_uses": 1})).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        let (id, path) = coupon_session(&app).await;
        assert_eq!(apply(&app, &path, "LAST").await.0, 303);
        ids.push(id);
    }
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                let report = json!({"provider": "WAVE", "provider_reference": format!("r-{id}"), "amount_paid": 9000});
                app.post_json(&format!("/v1/checkout_sessions/{id}/complete"), &app.key, &report).await.status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let read: Value = app
        .get(
            &format!("/v1/discount_coupons/{}", c["coupon_id"].as_str().unwrap()),
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["current_uses"], 1);
}

async fn twenty_concurrent_completions_count_the_coupon_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = Arc::new(app);
    let c = coupon(
        &app,
        json!({"code": "ONCE", "discount_type": "percentage", "discount_percentage": 10}),
    )
    .await;
    let (id, path) = coupon_session(&app).await;
    assert_eq!(apply(&app, &path, "ONCE").await.0, 303);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                let report = json!({"provider": "WAVE", "provider_reference": format!("race-{i}"), "amount_paid": 9000});
                app.post_json(&format!("/v1/checkout_sessions/{id}/complete"), &app.key, &report).await.status().as_u16()
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    let read: Value = app
        .get(
            &format!("/v1/discount_coupons/{}", c["coupon_id"].as_str().unwrap()),
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["current_uses"], 1);
}

crate::on_both_backends!(
    valid_and_invalid_codes_and_their_removal,
    coupon_attempts_are_rate_limited,
    coupon_guessing_is_limited_per_address_and_per_organization,
    payment_attempts_in_a_loop_are_limited,
    a_new_quantity_drops_a_coupon_that_no_longer_applies,
    choosing_a_provider_and_paying_in_the_sandbox,
    live_sessions_offer_only_what_can_be_paid,
    a_total_of_zero_completes_without_a_provider,
    the_last_use_of_a_coupon_goes_to_one_session,
    twenty_concurrent_completions_count_the_coupon_once,
);
