//! Create, retrieve, list, update and delete over `/v1/checkout_sessions`.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, error_field, error_of, session_body, spawn_app};

/// Every field of lomi's CheckoutSessions model.
const RESOURCE_FIELDS: &[&str] = &[
    "allow_coupon_code",
    "allow_quantity",
    "allowed_providers",
    "amount",
    "cancel_url",
    "checkout_session_id",
    "created_at",
    "created_by",
    "currency_code",
    "customer_email",
    "customer_id",
    "customer_name",
    "customer_phone",
    "environment",
    "expires_at",
    "installment_plan_id",
    "is_pos",
    "is_spi",
    "metadata",
    "organization_id",
    "payment",
    "payment_link_id",
    "payment_request_id",
    "price_id",
    "product_id",
    "public_description",
    "qr_code_data",
    "qr_code_type",
    "quantity",
    "spi_account_number",
    "spi_qr_code_id",
    "status",
    "subscription_id",
    "success_url",
    "title",
    "updated_at",
];

async fn create_returns_every_field_with_its_exact_name(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // A product of the catalog, with a default price of the session's amount.
    let product: Value = app
        .post_json("/v1/products", &app.key, &json!({"name": "Pagne wax"}))
        .await
        .json()
        .await
        .unwrap();
    let product = product["product_id"].as_str().unwrap().to_string();
    let price = app
        .post_json(
            "/v1/prices",
            &app.key,
            &json!({"product_id": product, "amount": 10000, "currency_code": "XOF",
                    "is_default": true}),
        )
        .await;
    assert_eq!(price.status(), 201);
    let customer = Uuid::new_v4().to_string();
    let body = json!({
        "amount": 10000.0, "currency_code": "xof", "quantity": 2, "title": "Pagne wax",
        "public_description": "Coton", "allow_quantity": true, "allow_coupon_code": true,
        "is_pos": false, "is_spi": false, "allowed_providers": "wave, orange",
        "customer_name": "Awa Traoré", "customer_email": "awa@example.com",
        "customer_phone": "+2250700000000", "customer_id": customer,
        "metadata": {"order_id": "A-42", "gift": true},
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/ko",
        "qr_code_type": "static", "spi_account_number": "CIC2344256727788288822",
        "product_id": product,
    });
    let res = app.create_session(&body).await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    for field in RESOURCE_FIELDS {
        assert!(s.get(*field).is_some(), "missing {field}: {s}");
    }
    assert_eq!(s["amount"], 10000);
    assert!(s["amount"].is_i64(), "money is an integer");
    assert_eq!(s["currency_code"], "XOF");
    assert_eq!(s["quantity"], 2);
    assert_eq!(s["amount_subtotal"], 20000);
    assert_eq!(s["amount_total"], 20000);
    assert_eq!(s["allowed_providers"], "WAVE,ORANGE");
    assert_eq!(s["status"], "open");
    assert_eq!(s["environment"], "test");
    assert_eq!(s["organization_id"], app.organization_id.to_string());
    assert_eq!(s["customer_id"], customer);
    assert_eq!(s["product_id"], product);
    assert_eq!(s["metadata"], json!({"order_id": "A-42", "gift": true}));
    assert_eq!(s["qr_code_type"], "static");
    let id = s["checkout_session_id"].as_str().unwrap();
    assert_eq!(Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(s["url"], app.url(&format!("/checkout/{id}")));
    let created = chrono::DateTime::parse_from_rfc3339(s["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(s["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires - created,
        chrono::Duration::minutes(60),
        "default lifetime"
    );

    // What was stored is what is read back.
    let read: Value = app
        .get(&format!("/v1/checkout_sessions/{id}"), &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, s);
}

/// The id is the page's only credential: a client cannot choose it, neither an unused one nor
/// one of another organization's (whose 409 used to confirm that it existed).
async fn a_client_cannot_choose_a_sessions_id(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let theirs = app.session(&session_body()).await;
    let (_, other_key) = crate::helpers::new_organization(
        &app.ctx,
        "Boutique Fatou",
        caisse::domain::session::Environment::Test,
    )
    .await;
    for proposed in [
        json!(Uuid::new_v4().to_string()),
        json!("00000000-0000-4000-8000-000000000001"),
        theirs["checkout_session_id"].clone(),
        json!("not-a-uuid"),
    ] {
        let mut body = session_body();
        body["checkout_session_id"] = proposed.clone();
        let res = app
            .post_json("/v1/checkout_sessions", &other_key, &body)
            .await;
        assert_eq!(res.status(), 422, "{proposed}");
        let error = error_of(res).await;
        assert_eq!(error_field(&error), "checkout_session_id");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("read-only")
        );
    }
    // Null is no value: the server draws the id.
    let mut body = session_body();
    body["checkout_session_id"] = Value::Null;
    let s = app.session(&body).await;
    let drawn = Uuid::parse_str(s["checkout_session_id"].as_str().unwrap()).unwrap();
    assert_eq!(drawn.get_version_num(), 4);
}

async fn list_pages_sorts_and_filters(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = session_body();
        body["title"] = json!(format!("Article {i}"));
        ids.push(
            app.session(&body).await["checkout_session_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        // Creation times are kept to the millisecond; keep them distinct for the sort.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let list: Value = app
        .get(
            "/v1/checkout_sessions?limit=2&offset=1&sort=created_at:desc",
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["pagination"],
        json!({"limit": 2, "offset": 1, "total": 5})
    );
    let got: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["checkout_session_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[3].as_str(), ids[2].as_str()]);

    let asc: Value = app
        .get(
            "/v1/checkout_sessions?sort=created_at%3Aasc&limit=1",
            &app.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asc["data"][0]["checkout_session_id"], ids[0].as_str());

    app.delete(&format!("/v1/checkout_sessions/{}", ids[1]), &app.key)
        .await;
    let expired: Value = app
        .get("/v1/checkout_sessions?status=expired", &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(expired["pagination"]["total"], 1);
    assert_eq!(expired["data"][0]["checkout_session_id"], ids[1].as_str());
    let open: Value = app
        .get("/v1/checkout_sessions?status=open", &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["pagination"]["total"], 4);

    for bad in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "offset=-1",
        "sort=amount",
        "status=paid",
    ] {
        let res = app
            .get(&format!("/v1/checkout_sessions?{bad}"), &app.key)
            .await;
        assert_eq!(res.status(), 422, "{bad}");
        let field = bad.split('=').next().unwrap();
        assert_eq!(error_field(&error_of(res).await), field);
    }
}

async fn update_changes_an_open_session_and_refuses_read_only_fields(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let path = format!(
        "/v1/checkout_sessions/{}",
        s["checkout_session_id"].as_str().unwrap()
    );

    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"title": "Pagne bogolan", "quantity": 3, "customer_name": "Awa"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let u: Value = res.json().await.unwrap();
    assert_eq!(u["title"], "Pagne bogolan");
    assert_eq!(u["amount_total"], 30000);
    assert_eq!(u["customer_name"], "Awa");
    assert_eq!(u["metadata"], s["metadata"], "untouched fields stay");
    assert_eq!(u["created_at"], s["created_at"]);

    // null clears an optional field; a required one cannot be cleared.
    let u: Value = app
        .patch(&path, &app.key, &json!({"customer_name": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["customer_name"], Value::Null);
    let res = app.patch(&path, &app.key, &json!({"amount": null})).await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_field(&error_of(res).await), "amount");

    for (field, value) in [
        ("created_at", json!("2026-01-01T00:00:00Z")),
        ("environment", json!("live")),
        ("organization_id", json!(Uuid::new_v4().to_string())),
        ("spi_qr_code_id", json!(Uuid::new_v4().to_string())),
        ("status", json!("completed")),
        ("checkout_session_id", json!(Uuid::new_v4().to_string())),
    ] {
        let res = app.patch(&path, &app.key, &json!({field: value})).await;
        assert_eq!(res.status(), 422, "{field}");
        assert_eq!(error_field(&error_of(res).await), field);
    }
    let after: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(
        after["title"], "Pagne bogolan",
        "refused patches changed nothing"
    );

    // status may be set to expired, and then nothing changes any more.
    let res = app
        .patch(&path, &app.key, &json!({"status": "expired"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "expired");
    let res = app
        .patch(&path, &app.key, &json!({"title": "Trop tard"}))
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        error_of(res).await["error"]["code"],
        "checkout_session_not_open"
    );
}

async fn delete_expires_the_session_and_keeps_its_record(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let path = format!(
        "/v1/checkout_sessions/{}",
        s["checkout_session_id"].as_str().unwrap()
    );
    let res = app.delete(&path, &app.key).await;
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(read["status"], "expired");
    assert_eq!(
        app.delete(&path, &app.key).await.status(),
        204,
        "expiring again is a no-op"
    );
    let unknown = format!("/v1/checkout_sessions/{}", Uuid::new_v4());
    assert_eq!(app.delete(&unknown, &app.key).await.status(), 404);
}

async fn openapi_document_describes_the_api(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .client
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/checkout_sessions",
        "/checkout_sessions/{session_id}",
        "/checkout_sessions/{session_id}/complete",
        "/webhooks",
        "/webhooks/{webhook_id}",
        "/webhooks/{webhook_id}/deliveries",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    let schema = &doc["components"]["schemas"]["CheckoutSessions"]["properties"];
    for field in RESOURCE_FIELDS {
        assert!(schema.get(*field).is_some(), "{field} documented");
    }
}

crate::on_both_backends!(
    create_returns_every_field_with_its_exact_name,
    a_client_cannot_choose_a_sessions_id,
    list_pages_sorts_and_filters,
    update_changes_an_open_session_and_refuses_read_only_fields,
    delete_expires_the_session_and_keeps_its_record,
    openapi_document_describes_the_api,
);
