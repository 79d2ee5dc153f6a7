//! Products and prices: CRUD per organization and environment, one default price per product
//! under concurrent writes, and sessions made from a price taking its amount, currency and title.

use std::sync::Arc;

use caisse::domain::session::Environment;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_field, error_of, new_organization, spawn_app};

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let res = app.post_json(path, &app.key, &body).await;
    assert_eq!(res.status(), 201, "{path} {body}");
    res.json().await.unwrap()
}

async fn product(app: &TestApp) -> String {
    let p = created(
        app,
        "/v1/products",
        json!({"name": "Pagne wax", "metadata": {"sku": "W-1"}}),
    )
    .await;
    p["product_id"].as_str().unwrap().to_string()
}

async fn standard_price(app: &TestApp, product_id: &str, amount: i64, default: bool) -> String {
    let p = created(
        app,
        "/v1/prices",
        json!({"product_id": product_id, "amount": amount, "currency_code": "XOF",
               "is_default": default}),
    )
    .await;
    p["price_id"].as_str().unwrap().to_string()
}

async fn status_and_field(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    (status, error_field(&error_of(res).await).to_string())
}

async fn products_and_prices_belong_to_their_organization_and_environment(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = product(&app).await;
    let read: Value = app
        .get(&format!("/v1/products/{id}"), &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            read["name"].as_str(),
            read["is_active"].as_bool(),
            read["environment"].as_str()
        ),
        (Some("Pagne wax"), Some(true), Some("test"))
    );
    let res = app
        .patch(
            &format!("/v1/products/{id}"),
            &app.key,
            &json!({"description": "Coton, 6 yards"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["description"].as_str()),
        (Some("Pagne wax"), Some("Coton, 6 yards")),
        "merged, then checked whole"
    );
    let price = standard_price(&app, &id, 10000, true).await;
    let page: Value = app.get("/v1/prices", &app.key).await.json().await.unwrap();
    assert_eq!(page["pagination"]["total"], 1);
    assert_eq!(page["data"][0]["price_id"], price.as_str());

    // Another organization, and the live environment, see none of it.
    let (_, other) = new_organization(&app.ctx, "Autre boutique", Environment::Test).await;
    let (_, live) =
        caisse::core::organizations::create_key(&app.ctx, app.organization_id, Environment::Live)
            .await
            .unwrap();
    let live = secrecy::ExposeSecret::expose_secret(&live).to_string();
    for key in [&other, &live] {
        assert_eq!(
            app.get(&format!("/v1/products/{id}"), key).await.status(),
            404
        );
        assert_eq!(
            app.get(&format!("/v1/prices/{price}"), key).await.status(),
            404
        );
        let listed: Value = app.get("/v1/products", key).await.json().await.unwrap();
        assert_eq!(listed["pagination"]["total"], 0);
        // Nor can it price another's product.
        let res = app
            .post_json(
                "/v1/prices",
                key,
                &json!({"product_id": id, "amount": 5, "currency_code": "XOF"}),
            )
            .await;
        assert_eq!(status_and_field(res).await, (422, "product_id".into()));
    }

    // Bad input names its field and loses nothing.
    let res = app
        .post_json("/v1/products", &app.key, &json!({"nom": "x"}))
        .await;
    assert_eq!(res.status(), 422);
    let body = error_of(res).await;
    let fields: Vec<&str> = body["error"]["details"]["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        body.to_string().contains("nom") && body.to_string().contains("name"),
        "{body} {fields:?}"
    );
    let res = app
        .patch(
            &format!("/v1/prices/{price}"),
            &app.key,
            &json!({"product_id": product(&app).await}),
        )
        .await;
    assert_eq!(status_and_field(res).await, (422, "product_id".into()));

    // Deleting the product deletes its prices.
    assert_eq!(
        app.delete(&format!("/v1/products/{id}"), &app.key)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get(&format!("/v1/products/{id}"), &app.key)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/v1/prices/{price}"), &app.key)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.delete(&format!("/v1/products/{id}"), &app.key)
            .await
            .status(),
        404
    );
}

async fn a_product_has_one_default_price_even_under_concurrent_writes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = product(&app).await;
    let first = standard_price(&app, &id, 10000, true).await;
    let second = standard_price(&app, &id, 12000, true).await;
    let read = |price: String| {
        let app = &app;
        async move {
            let p: Value = app
                .get(&format!("/v1/prices/{price}"), &app.key)
                .await
                .json()
                .await
                .unwrap();
            p["is_default"].as_bool().unwrap()
        }
    };
    assert!(
        !read(first.clone()).await && read(second.clone()).await,
        "the mark moved"
    );

    let app = Arc::new(app);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                app.post_json(
                    "/v1/prices",
                    &app.key,
                    &json!({"product_id": id, "amount": 1000 + i, "currency_code": "XOF",
                            "is_default": true}),
                )
                .await
                .status()
                .as_u16()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let page: Value = app
        .get("/v1/prices?limit=100", &app.key)
        .await
        .json()
        .await
        .unwrap();
    let defaults = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["is_default"] == true)
        .count();
    assert_eq!(
        (page["pagination"]["total"].as_i64(), defaults),
        (Some(12), 1)
    );
}

async fn a_session_made_from_a_price_takes_its_amount_currency_and_title(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = product(&app).await;
    let price = standard_price(&app, &id, 10000, true).await;
    let s = created(&app, "/v1/checkout_sessions", json!({"price_id": price})).await;
    assert_eq!(
        (
            s["amount"].as_i64(),
            s["currency_code"].as_str(),
            s["title"].as_str(),
            s["product_id"].as_str()
        ),
        (
            Some(10000),
            Some("XOF"),
            Some("Pagne wax"),
            Some(id.as_str())
        )
    );
    // The product alone means its default price; a title given is kept.
    let s = created(
        &app,
        "/v1/checkout-sessions",
        json!({"product_id": id, "title": "Pagne wax, bleu", "quantity": 2}),
    )
    .await;
    assert_eq!(
        (
            s["price_id"].as_str(),
            s["amount_total"].as_i64(),
            s["title"].as_str()
        ),
        (Some(price.as_str()), Some(20000), Some("Pagne wax, bleu"))
    );
    // An explicit amount or currency must be the price's.
    for (body, field) in [
        (json!({"price_id": price, "amount": 9000}), "amount"),
        (
            json!({"price_id": price, "currency_code": "EUR"}),
            "currency_code",
        ),
        (
            json!({"price_id": "6c1b1f8e-4a5d-4e8f-9b0a-1c2d3e4f5a6b"}),
            "price_id",
        ),
        (json!({"price_id": "not-a-uuid"}), "price_id"),
    ] {
        let res = app
            .post_json("/v1/checkout_sessions", &app.key, &body)
            .await;
        assert_eq!(
            status_and_field(res).await,
            (422, field.to_string()),
            "{body}"
        );
    }
    let s = created(
        &app,
        "/v1/checkout_sessions",
        json!({"price_id": price, "amount": 10000, "currency_code": "xof"}),
    )
    .await;
    assert_eq!(s["amount"], 10000);

    // Pay what you want: the amount is the customer's, within the bounds.
    let pwyw = created(
        &app,
        "/v1/prices",
        json!({"product_id": id, "currency_code": "XOF",
        "pricing_model": "pay_what_you_want", "minimum_amount": 1000, "maximum_amount": 50000}),
    )
    .await["price_id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = created(
        &app,
        "/v1/checkout_sessions",
        json!({"price_id": pwyw, "amount": 2500}),
    )
    .await;
    assert_eq!(s["amount"], 2500);
    for amount in [Value::Null, json!(999), json!(50001)] {
        let res = app
            .post_json(
                "/v1/checkout_sessions",
                &app.key,
                &json!({"price_id": pwyw, "amount": amount}),
            )
            .await;
        assert_eq!(
            status_and_field(res).await,
            (422, "amount".into()),
            "{amount}"
        );
    }

    // A PATCH to another price takes its amount; an inactive price sells nothing.
    let sid = s["checkout_session_id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/v1/checkout_sessions/{sid}"),
            &app.key,
            &json!({"price_id": price}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["amount"], 10000);
    let res = app
        .patch(
            &format!("/v1/prices/{price}"),
            &app.key,
            &json!({"is_active": false, "is_default": false}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_json(
            "/v1/checkout_sessions",
            &app.key,
            &json!({"price_id": price}),
        )
        .await;
    assert_eq!(status_and_field(res).await, (422, "price_id".into()));
    let res = app
        .post_json(
            "/v1/checkout_sessions",
            &app.key,
            &json!({"product_id": id}),
        )
        .await;
    assert_eq!(
        status_and_field(res).await,
        (422, "product_id".into()),
        "no default price left"
    );
}

crate::on_both_backends!(
    products_and_prices_belong_to_their_organization_and_environment,
    a_product_has_one_default_price_even_under_concurrent_writes,
    a_session_made_from_a_price_takes_its_amount_currency_and_title,
);
