//! Payment links over HTTP: CRUD per organization and environment, the link's page (chat
//! previews make nothing, "continue" makes each customer a session of their own), closed links,
//! pay-what-you-want amounts, and the poster, whose QR code decodes back to the link.

use std::sync::Arc;

use caisse::domain::session::Environment;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, age_rows, error_field, error_of, new_organization, spawn_app,
};
use crate::page::{post_form, visit};

fn instant() -> Value {
    json!({"title": "Pagne wax", "amount": 10000, "currency_code": "XOF",
           "success_url": "https://shop.example/merci", "allow_quantity": true,
           "metadata": {"canal": "whatsapp"}, "private_description": "stock du marché"})
}

async fn link(app: &TestApp, body: &Value) -> Value {
    let res = app.post_json("/v1/payment_links", &app.key, body).await;
    assert_eq!(res.status(), 201, "{body}");
    res.json().await.unwrap()
}

async fn sessions_total(app: &TestApp) -> i64 {
    let page: Value = app
        .get("/v1/checkout_sessions?limit=1", &app.key)
        .await
        .json()
        .await
        .unwrap();
    page["pagination"]["total"].as_i64().unwrap()
}

/// Presses "continue" on the link's page, as a browser does: 303 to the session's page.
async fn continue_on(app: &TestApp, path: &str, amount: Option<&str>) -> reqwest::Response {
    let page = visit(app, path, &[]).await;
    let csrf = page.csrf();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(amount.map(|a| ("amount", a)));
    post_form(app, path, &page.cookies, &form).await
}

async fn links_belong_to_their_organization_and_check_their_fields(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let l = link(&app, &instant()).await;
    let id = l["link_id"].as_str().unwrap();
    assert_eq!(l["url"], app.url(&format!("/l/{id}")));
    assert_eq!(l["link_type"], "instant");
    assert!(
        l["whatsapp_url"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/?text=Pagne%20wax%20http"),
        "{}",
        l["whatsapp_url"]
    );
    for path in [
        format!("/v1/payment_links/{id}"),
        format!("/payment-links/{id}"),
    ] {
        let res = app.get(&path, &app.key).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = app
        .patch(
            &format!("/v1/payment_links/{id}"),
            &app.key,
            &json!({"amount": 12000}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["amount"], 12000);
    let listed: Value = app
        .get("/v1/payment-links", &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["pagination"]["total"], 1);

    // Another organization, and the live environment, see none of it.
    let (_, other) = new_organization(&app.ctx, "Autre boutique", Environment::Test).await;
    let (_, live) =
        caisse::core::organizations::create_key(&app.ctx, app.organization_id, Environment::Live)
            .await
            .unwrap();
    let live = secrecy::ExposeSecret::expose_secret(&live).to_string();
    for key in [&other, &live] {
        let one = format!("/v1/payment_links/{id}");
        assert_eq!(app.get(&one, key).await.status(), 404);
        let res = app.patch(&one, key, &json!({"amount": 1})).await;
        assert_eq!(res.status(), 404);
        assert_eq!(app.delete(&one, key).await.status(), 404);
        let listed: Value = app
            .get("/v1/payment_links", key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["pagination"]["total"], 0);
    }

    for (body, field) in [
        (json!({"title": "t"}), "amount"),
        (json!({"link_type": "product"}), "price_id"),
        (
            json!({"title": "t", "amount": 5, "currency_code": "XOF", "url": "https://x"}),
            "url",
        ),
        (
            json!({"link_type": "product", "price_id": "6c1b1f8e-4a5d-4e8f-9b0a-1c2d3e4f5a6b"}),
            "price_id",
        ),
    ] {
        let res = app.post_json("/v1/payment_links", &app.key, &body).await;
        assert_eq!(res.status(), 422, "{body}");
        assert_eq!(error_field(&error_of(res).await), field, "{body}");
    }
    // A product link's amount is one its price allows.
    let product: Value = app
        .post_json("/v1/products", &app.key, &json!({"name": "Bissap"}))
        .await
        .json()
        .await
        .unwrap();
    let price: Value = app
        .post_json(
            "/v1/prices",
            &app.key,
            &json!({"product_id": product["product_id"],
            "amount": 1500, "currency_code": "XOF", "is_default": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post_json(
            "/v1/payment_links",
            &app.key,
            &json!({"link_type": "product", "price_id": price["price_id"], "amount": 1000}),
        )
        .await;
    assert_eq!(error_field(&error_of(res).await), "amount");

    assert_eq!(
        app.delete(&format!("/v1/payment_links/{id}"), &app.key)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get(&format!("/v1/payment_links/{id}"), &app.key)
            .await
            .status(),
        404
    );
    assert_eq!(visit(&app, &format!("/l/{id}"), &[]).await.status, 410);
}

async fn a_link_preview_makes_nothing_and_each_customer_gets_a_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let l = link(&app, &instant()).await;
    let path = format!("/l/{}", l["link_id"].as_str().unwrap());
    // Chat apps' preview robots fetch the page, and its poster.
    for agent in [
        "WhatsApp/2.23.20.0",
        "facebookexternalhit/1.1",
        "TelegramBot (like TwitterBot)",
    ] {
        let page = visit(&app, &path, &[("User-Agent", agent)]).await;
        assert_eq!(page.status, 200);
        let text = page.text();
        for expected in [
            "<meta property=\"og:title\" content=\"Pagne wax\">",
            "<meta property=\"og:description\" content=\"10 000 F CFA · Boutique Awa\">",
            "og:image\" content=\"http",
            "https://wa.me/?text=",
            "10 000 F CFA",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        assert!(
            !text.contains("stock du marché"),
            "the private note stays private"
        );
    }
    let poster = app
        .client
        .get(app.url(&format!("{path}/poster.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(poster.status(), 200);
    assert_eq!(sessions_total(&app).await, 0, "no session from a preview");

    // Twenty customers press "continue" at once: twenty sessions, each their own.
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, path) = (app.clone(), path.clone());
            tokio::spawn(async move {
                let res = continue_on(&app, &path, None).await;
                assert_eq!(res.status(), 303);
                res.headers()["location"].to_str().unwrap().to_string()
            })
        })
        .collect();
    let mut pages = std::collections::BTreeSet::new();
    for t in tasks {
        pages.insert(t.await.unwrap());
    }
    assert_eq!(pages.len(), 20);
    assert_eq!(sessions_total(&app).await, 20);
    let session_id = pages.first().unwrap().trim_start_matches("/checkout/");
    let s = app.api_session(session_id).await;
    assert_eq!(
        (
            s["payment_link_id"].as_str(),
            s["amount"].as_i64(),
            s["allow_quantity"].as_bool(),
            s["metadata"]["canal"].as_str()
        ),
        (
            l["link_id"].as_str(),
            Some(10000),
            Some(true),
            Some("whatsapp")
        )
    );
    // Without the page's token, nothing is made.
    let res = post_form(&app, &path, "", &[("csrf", "0")]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(sessions_total(&app).await, 20);
}

async fn an_inactive_or_expired_link_says_so(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let l = link(&app, &instant()).await;
    let id = l["link_id"].as_str().unwrap();
    let path = format!("/l/{id}");
    let page = visit(&app, &path, &[]).await;
    let res = app
        .patch(
            &format!("/v1/payment_links/{id}"),
            &app.key,
            &json!({"is_active": false}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let closed = visit(&app, &path, &[]).await;
    assert_eq!(closed.status, 410);
    assert!(
        closed.text().contains("n’est plus disponible"),
        "{}",
        closed.html
    );
    // A page opened before it closed cannot make a session either.
    let res = post_form(&app, &path, &page.cookies, &[("csrf", &page.csrf())]).await;
    assert_eq!(res.status(), 410);
    assert_eq!(sessions_total(&app).await, 0);
    assert_eq!(
        app.client
            .get(app.url(&format!("{path}/poster.svg")))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );

    app.patch(
        &format!("/v1/payment_links/{id}"),
        &app.key,
        &json!({"is_active": true}),
    )
    .await;
    assert_eq!(visit(&app, &path, &[]).await.status, 200);
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    assert_eq!(
        age_rows(&app, "UPDATE payment_links SET expires_at = $1", past).await,
        1
    );
    assert_eq!(visit(&app, &path, &[]).await.status, 410, "expired");
    assert_eq!(
        visit(&app, "/l/6c1b1f8e-4a5d-4e8f-9b0a-1c2d3e4f5a6b", &[])
            .await
            .status,
        404
    );
    assert_eq!(visit(&app, "/l/nope", &[]).await.status, 404);
}

async fn a_pay_what_you_want_link_takes_the_customers_amount(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let product: Value = app
        .post_json(
            "/v1/products",
            &app.key,
            &json!({"name": "Don pour l’école"}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.post_json(
        "/v1/prices",
        &app.key,
        &json!({"product_id": product["product_id"],
        "currency_code": "XOF", "pricing_model": "pay_what_you_want",
        "minimum_amount": 1000, "maximum_amount": 100000, "is_default": true}),
    )
    .await;
    let l = link(
        &app,
        &json!({"link_type": "product", "product_id": product["product_id"]}),
    )
    .await;
    let path = format!("/l/{}", l["link_id"].as_str().unwrap());
    let page = visit(&app, &path, &[]).await;
    assert!(
        page.text().contains("De 1 000 F CFA à 100 000 F CFA"),
        "{}",
        page.html
    );
    assert!(page.html.contains("name=\"amount\""));

    for refused in ["500", "cinq mille", "200 000"] {
        let res = continue_on(&app, &path, Some(refused)).await;
        assert_eq!(res.status(), 422, "{refused}");
        let html = res
            .text()
            .await
            .unwrap()
            .replace(['\u{202f}', '\u{a0}'], " ");
        assert!(
            html.contains("Indiquez un montant de 1 000 F CFA à 100 000 F CFA."),
            "{html}"
        );
        assert!(
            html.contains(&format!("value=\"{refused}\"")),
            "kept as typed"
        );
    }
    assert_eq!(sessions_total(&app).await, 0);
    let res = continue_on(&app, &path, Some("5 000")).await;
    assert_eq!(res.status(), 303);
    let id = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/checkout/")
        .to_string();
    let s = app.api_session(&id).await;
    assert_eq!(
        (s["amount"].as_i64(), s["title"].as_str()),
        (Some(5000), Some("Don pour l’école"))
    );
}

async fn the_poster_carries_the_link_and_its_qr_code_decodes_to_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let l = link(&app, &instant()).await;
    let url = l["url"].as_str().unwrap();
    let svg = app
        .client
        .get(format!("{url}/poster.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    for expected in [
        "Pagne wax",
        url,
        "Boutique Awa",
        "Scannez pour payer",
        "<svg x=",
    ] {
        assert!(svg.contains(expected), "{expected} in the SVG");
    }
    let png = app
        .client
        .get(format!("{url}/poster.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let image = image::load_from_memory(&png.bytes().await.unwrap())
        .unwrap()
        .to_luma8();
    assert_eq!((image.width(), image.height()), (1200, 1700));
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the poster");
    assert_eq!(grids[0].decode().expect("the code decodes").1, url);
}

crate::on_both_backends!(
    links_belong_to_their_organization_and_check_their_fields,
    a_link_preview_makes_nothing_and_each_customer_gets_a_session,
    an_inactive_or_expired_link_says_so,
    a_pay_what_you_want_link_takes_the_customers_amount,
    the_poster_carries_the_link_and_its_qr_code_decodes_to_it,
);
