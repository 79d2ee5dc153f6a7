//! Every resource at both spellings, with and without `/v1`: lomi's newer SDK says
//! `/v1/checkout-sessions`, lomi's own server documents `/checkout-sessions`.

use serde_json::{Value, json};

use crate::helpers::{Backend, id_of, session_body, spawn_app};

async fn every_resource_answers_at_its_hyphen_and_unversioned_paths(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .post_json("/checkout-sessions", &app.key, &session_body())
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    let id = id_of(&s);
    for path in [
        format!("/v1/checkout_sessions/{id}"),
        format!("/v1/checkout-sessions/{id}"),
        format!("/checkout-sessions/{id}"),
        format!("/checkout_sessions/{id}"),
    ] {
        let res = app.get(&path, &app.key).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["checkout_session_id"],
            id
        );
    }
    let res = app
        .patch(
            &format!("/v1/checkout-sessions/{id}"),
            &app.key,
            &json!({"title": "Pagne wax, bleu"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .get("/checkout-sessions?limit=1&sort=created_at:asc", &app.key)
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert_eq!(
        (
            page["pagination"]["limit"].as_i64(),
            page["data"][0]["title"].as_str()
        ),
        (Some(1), Some("Pagne wax, bleu")),
        "the query string goes along"
    );

    let res = app
        .post_json(
            "/discount-coupons",
            &app.key,
            &json!({"code": "NOEL10", "discount_type": "percentage", "discount_percentage": 10}),
        )
        .await;
    assert_eq!(res.status(), 201);
    for path in [
        "/v1/discount-coupons",
        "/discount_coupons",
        "/webhooks",
        "/v1/webhooks",
    ] {
        assert_eq!(app.get(path, &app.key).await.status(), 200, "{path}");
    }
    // Errors keep the API's shape at every spelling.
    let res = app.get("/checkout-sessions/nope", &app.key).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    assert_eq!(
        app.get("/checkout-sessions", "sk_test_wrong")
            .await
            .status(),
        401
    );
    // The page and provider notifications keep their one spelling.
    assert_eq!(
        app.client
            .get(app.url(&format!("/checkout/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

crate::on_both_backends!(every_resource_answers_at_its_hyphen_and_unversioned_paths);
