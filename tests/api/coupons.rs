//! `/v1/discount_coupons`: create, list, retrieve, update and delete; every rule refused by
//! name; codes unique per organization and environment, whatever their case; other
//! organizations and the other environment see nothing; and the store's lookup by code that the
//! checkout page uses.

use caisse::domain::coupon::Rejection;
use caisse::domain::money::Currency;
use caisse::domain::session::Environment;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, error_field, error_of, new_organization, spawn_app};

const PATH: &str = "/v1/discount_coupons";

/// The fields of lomi's DiscountCoupons model a checkout needs, and `currency_code`.
const RESOURCE_FIELDS: &[&str] = &[
    "code",
    "coupon_id",
    "created_at",
    "currency_code",
    "current_uses",
    "description",
    "discount_fixed_amount",
    "discount_percentage",
    "discount_type",
    "environment",
    "expires_at",
    "is_active",
    "max_quantity_per_use",
    "max_uses",
    "organization_id",
    "updated_at",
    "valid_from",
];

fn percent_body() -> Value {
    json!({"code": "noel10", "discount_type": "percentage", "discount_percentage": 10})
}

fn fixed_body() -> Value {
    json!({"code": "MOINS1000", "discount_type": "fixed", "discount_fixed_amount": 1000,
           "currency_code": "XOF"})
}

fn at(offset: Duration) -> String {
    caisse::domain::time::rfc3339(&(Utc::now() + offset))
}

fn path_of(coupon: &Value) -> String {
    format!("{PATH}/{}", coupon["coupon_id"].as_str().unwrap())
}

/// Creates a coupon with `key` that must succeed, and returns it.
async fn create(app: &TestApp, key: &str, body: &Value) -> Value {
    let res = app.post_json(PATH, key, body).await;
    assert_eq!(res.status(), 201, "create {body}");
    res.json().await.unwrap()
}

async fn list(app: &TestApp, key: &str, query: &str) -> Value {
    let res = app.get(&format!("{PATH}{query}"), key).await;
    assert_eq!(res.status(), 200, "list {query}");
    res.json().await.unwrap()
}

/// Sends a request that must be refused with a 422 naming `field`.
async fn assert_refused(res: reqwest::Response, field: &str, what: &str) {
    assert_eq!(res.status(), 422, "{what}");
    let err = error_of(res).await;
    assert_eq!(err["error"]["code"], "invalid_request", "{what}: {err}");
    let named: Vec<&str> = err["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(error_field(&err), field, "{what}: {err}");
    assert!(named.contains(&field), "{what}: {err}");
}

async fn a_coupon_goes_through_create_retrieve_list_update_and_delete(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let valid_from = at(-Duration::hours(1));
    let expires_at = at(Duration::days(30));
    let created = create(
        &app,
        &app.key,
        &json!({
            "code": " noel-2026 ", "discount_type": "percentage", "discount_percentage": 12.5,
            "max_uses": 100, "max_quantity_per_use": 3, "valid_from": valid_from,
            "expires_at": expires_at, "description": "Soldes de Noël",
        }),
    )
    .await;
    for field in RESOURCE_FIELDS {
        assert!(created.get(*field).is_some(), "missing {field}: {created}");
    }
    assert_eq!(created["code"], "NOEL-2026", "trimmed and upper case");
    assert_eq!(created["discount_type"], "percentage");
    assert_eq!(created["discount_percentage"], 12.5);
    assert_eq!(created["discount_fixed_amount"], Value::Null);
    assert_eq!(created["currency_code"], Value::Null);
    assert_eq!(created["current_uses"], 0);
    assert_eq!(created["max_uses"], 100);
    assert_eq!(created["max_quantity_per_use"], 3);
    assert_eq!(created["is_active"], true, "active by default");
    assert_eq!(created["environment"], "test");
    assert_eq!(created["organization_id"], app.organization_id.to_string());
    assert_eq!(created["description"], "Soldes de Noël");
    let id = Uuid::parse_str(created["coupon_id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 4);
    let path = path_of(&created);

    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(read, created, "what was stored is what is read back");
    let listed = list(&app, &app.key, "").await;
    assert_eq!(listed["data"], json!([created]));
    assert_eq!(
        listed["pagination"],
        json!({"limit": 20, "offset": 0, "total": 1})
    );

    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"discount_percentage": 15, "max_uses": null, "is_active": false,
                    "description": "Dernier jour"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["discount_percentage"], 15);
    assert_eq!(updated["max_uses"], Value::Null, "null clears a limit");
    assert_eq!(updated["is_active"], false);
    assert_eq!(updated["description"], "Dernier jour");
    assert_eq!(updated["code"], "NOEL-2026", "untouched fields stay");
    assert_eq!(updated["valid_from"], created["valid_from"]);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert!(updated["updated_at"].as_str() >= created["updated_at"].as_str());
    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(read, updated);

    let res = app.delete(&path, &app.key).await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.text().await.unwrap(), "", "204 has no body");
    assert_eq!(app.get(&path, &app.key).await.status(), 404);
    assert_eq!(app.delete(&path, &app.key).await.status(), 404);
    assert_eq!(
        app.patch(&path, &app.key, &json!({"description": "x"}))
            .await
            .status(),
        404
    );
    assert_eq!(list(&app, &app.key, "").await["pagination"]["total"], 0);
}

async fn a_fixed_coupon_carries_its_currency(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let c = create(&app, &app.key, &fixed_body()).await;
    assert_eq!(c["discount_type"], "fixed");
    assert_eq!(c["discount_fixed_amount"], 1000);
    assert!(c["discount_fixed_amount"].is_i64(), "money is an integer");
    assert_eq!(c["currency_code"], "XOF");
    assert_eq!(c["discount_percentage"], Value::Null);

    // Changing the kind means saying everything the new kind needs, and clearing the old amount.
    let path = path_of(&c);
    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"discount_type": "percentage", "discount_percentage": 20}),
        )
        .await;
    assert_refused(res, "discount_fixed_amount", "the old amount is left").await;
    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"discount_type": "percentage", "discount_percentage": 20,
                    "discount_fixed_amount": null, "currency_code": null}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["discount_type"], "percentage");
    assert_eq!(p["discount_percentage"], 20);
    assert_eq!(p["currency_code"], Value::Null);
}

async fn every_rule_is_refused_by_name(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let cases: Vec<(&str, Value)> = vec![
        ("code", json!("")),
        ("code", json!("NOËL")),
        ("code", json!("NOEL 10")),
        ("code", json!("NOEL!")),
        ("code", json!("A".repeat(41))),
        ("code", json!(10)),
        ("discount_type", json!("bogo")),
        ("discount_type", json!(1)),
        ("discount_percentage", json!("10")),
        ("discount_percentage", json!(true)),
        ("discount_percentage", json!(0)),
        ("discount_percentage", json!(-5)),
        ("discount_percentage", json!(100.01)),
        ("discount_percentage", json!(101)),
        ("discount_percentage", json!(12.345)),
        ("discount_fixed_amount", json!(500)),
        ("currency_code", json!("GBP")),
        ("max_uses", json!(0)),
        ("max_uses", json!(2.5)),
        ("max_uses", json!("10")),
        ("max_quantity_per_use", json!(0)),
        ("max_quantity_per_use", json!(-1)),
        ("valid_from", json!("demain")),
        ("expires_at", json!(at(-Duration::minutes(1)))),
        ("expires_at", json!(12)),
        ("is_active", json!("yes")),
        ("description", json!("x".repeat(501))),
        ("description", json!("nul \u{0} byte")),
        ("current_uses", json!(5)),
        ("environment", json!("live")),
        ("coupon_id", json!(Uuid::new_v4().to_string())),
        ("created_at", json!(at(Duration::zero()))),
        ("colour", json!("red")),
    ];
    for (field, value) in cases {
        let mut body = percent_body();
        body[field] = value.clone();
        let res = app.post_json(PATH, &app.key, &body).await;
        assert_refused(res, field, &format!("{field} = {value}")).await;
    }
    // Another organization's id is forbidden, as for sessions.
    let mut body = percent_body();
    body["organization_id"] = json!(Uuid::new_v4().to_string());
    let res = app.post_json(PATH, &app.key, &body).await;
    assert_eq!(res.status(), 403);
    error_of(res).await;

    let bodies: Vec<(&str, Value)> = vec![
        (
            "code",
            json!({"discount_type": "percentage", "discount_percentage": 10}),
        ),
        (
            "discount_type",
            json!({"code": "A", "discount_percentage": 10}),
        ),
        (
            "discount_percentage",
            json!({"code": "A", "discount_type": "percentage"}),
        ),
        (
            "discount_percentage",
            json!({"code": "A", "discount_type": "percentage", "discount_percentage": null}),
        ),
        (
            "currency_code",
            json!({"code": "A", "discount_type": "fixed", "discount_fixed_amount": 1000}),
        ),
        (
            "discount_fixed_amount",
            json!({"code": "A", "discount_type": "fixed", "currency_code": "XOF"}),
        ),
        (
            "discount_fixed_amount",
            json!({"code": "A", "discount_type": "fixed", "discount_fixed_amount": 10.5,
                   "currency_code": "XOF"}),
        ),
        (
            "discount_fixed_amount",
            json!({"code": "A", "discount_type": "fixed", "discount_fixed_amount": 0,
                   "currency_code": "XOF"}),
        ),
        (
            "discount_percentage",
            json!({"code": "A", "discount_type": "fixed", "discount_fixed_amount": 1000,
                   "currency_code": "XOF", "discount_percentage": 10}),
        ),
        (
            "expires_at",
            json!({"code": "A", "discount_type": "percentage", "discount_percentage": 10,
                   "valid_from": at(Duration::days(10)), "expires_at": at(Duration::days(5))}),
        ),
    ];
    for (field, body) in bodies {
        let res = app.post_json(PATH, &app.key, &body).await;
        assert_refused(res, field, &body.to_string()).await;
    }
    assert_eq!(
        list(&app, &app.key, "").await["pagination"]["total"],
        0,
        "nothing refused was stored"
    );

    let res = app.post_raw(PATH, "{\"code\": ").await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_of(res).await["error"]["code"], "malformed_json");
    let res = app.post_raw(PATH, "[1, 2]").await;
    assert_refused(res, "body", "an array body").await;
    assert_eq!(
        app.get(&format!("{PATH}/nope"), &app.key).await.status(),
        404
    );
}

async fn read_only_fields_may_be_echoed_on_create_but_never_patched(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = percent_body();
    body["organization_id"] = json!(app.organization_id.to_string());
    body["environment"] = json!("test");
    body["current_uses"] = json!(0);
    body["coupon_id"] = Value::Null;
    let c = create(&app, &app.key, &body).await;
    let path = path_of(&c);
    for (field, value) in [
        ("current_uses", json!(0)),
        ("current_uses", json!(7)),
        ("organization_id", json!(app.organization_id.to_string())),
        ("environment", json!("live")),
        ("coupon_id", json!(Uuid::new_v4().to_string())),
        ("updated_at", json!(at(Duration::zero()))),
    ] {
        let res = app.patch(&path, &app.key, &json!({field: value})).await;
        assert_refused(res, field, &format!("PATCH {field} = {value}")).await;
    }
    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(read, c, "nothing changed");
}

async fn an_update_is_checked_whole(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = percent_body();
    body["valid_from"] = json!(at(Duration::days(10)));
    let c = create(&app, &app.key, &body).await;
    let path = path_of(&c);
    for (field, patch) in [
        ("expires_at", json!({"expires_at": at(Duration::days(5))})),
        ("discount_percentage", json!({"discount_percentage": 0})),
        ("code", json!({"code": null})),
        (
            "currency_code",
            json!({"discount_type": "fixed", "discount_fixed_amount": 500,
                   "discount_percentage": null}),
        ),
        ("colour", json!({"colour": "red"})),
    ] {
        let res = app.patch(&path, &app.key, &patch).await;
        assert_refused(res, field, &patch.to_string()).await;
    }
    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"expires_at": at(Duration::days(11))}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn codes_are_unique_per_organization_and_environment_whatever_their_case(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let first = create(&app, &app.key, &percent_body()).await;
    for code in ["NOEL10", "noel10", " Noel10 "] {
        let mut body = fixed_body();
        body["code"] = json!(code);
        let res = app.post_json(PATH, &app.key, &body).await;
        assert_eq!(res.status(), 409, "{code:?}");
        let err = error_of(res).await;
        assert_eq!(err["error"]["code"], "coupon_code_taken");
    }
    let other = create(&app, &app.key, &fixed_body()).await;
    let res = app
        .patch(&path_of(&other), &app.key, &json!({"code": "nOeL10"}))
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_of(res).await["error"]["code"], "coupon_code_taken");
    let res = app
        .patch(&path_of(&first), &app.key, &json!({"code": "noel10"}))
        .await;
    assert_eq!(res.status(), 200, "a coupon keeps its own code");

    // The same code is free in the live environment and in another organization.
    let (_, live_key) =
        caisse::core::organizations::create_key(&app.ctx, app.organization_id, Environment::Live)
            .await
            .unwrap();
    let live_key = secrecy::ExposeSecret::expose_secret(&live_key).to_string();
    create(&app, &live_key, &percent_body()).await;
    let (_, other_key) = new_organization(&app.ctx, "Autre boutique", Environment::Test).await;
    create(&app, &other_key, &percent_body()).await;

    // A deleted coupon's code can be made again.
    assert_eq!(app.delete(&path_of(&first), &app.key).await.status(), 204);
    let again = create(&app, &app.key, &percent_body()).await;
    assert_ne!(again["coupon_id"], first["coupon_id"]);
}

async fn another_organizations_coupon_is_not_found(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, other_key) = new_organization(&app.ctx, "Autre boutique", Environment::Test).await;
    let mine = create(&app, &app.key, &percent_body()).await;
    let path = path_of(&mine);

    for res in [
        app.get(&path, &other_key).await,
        app.patch(&path, &other_key, &json!({"discount_percentage": 100}))
            .await,
        app.delete(&path, &other_key).await,
    ] {
        assert_eq!(res.status(), 404);
        assert_eq!(error_of(res).await["error"]["code"], "not_found");
    }
    let theirs = list(&app, &other_key, "").await;
    assert_eq!(theirs["data"], json!([]));
    assert_eq!(theirs["pagination"]["total"], 0);

    let read: Value = app.get(&path, &app.key).await.json().await.unwrap();
    assert_eq!(read, mine, "untouched by the other organization");
    let other_org = Uuid::new_v4();
    assert!(
        app.ctx
            .store
            .coupon_by_code(other_org, Environment::Test, "NOEL10")
            .await
            .unwrap()
            .is_none()
    );
}

async fn test_and_live_coupons_are_apart(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, live_key) =
        caisse::core::organizations::create_key(&app.ctx, app.organization_id, Environment::Live)
            .await
            .unwrap();
    let live_key = secrecy::ExposeSecret::expose_secret(&live_key).to_string();
    let test = create(&app, &app.key, &percent_body()).await;
    let live = create(&app, &live_key, &fixed_body()).await;
    assert_eq!(test["environment"], "test");
    assert_eq!(live["environment"], "live");

    for res in [
        app.get(&path_of(&test), &live_key).await,
        app.patch(&path_of(&test), &live_key, &json!({"is_active": false}))
            .await,
        app.delete(&path_of(&test), &live_key).await,
        app.get(&path_of(&live), &app.key).await,
    ] {
        assert_eq!(res.status(), 404);
    }
    assert_eq!(list(&app, &live_key, "").await["data"], json!([live]));
    assert_eq!(list(&app, &app.key, "").await["data"], json!([test]));

    let store = &app.ctx.store;
    let org = app.organization_id;
    assert!(
        store
            .coupon_by_code(org, Environment::Live, "NOEL10")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .coupon_by_code(org, Environment::Live, "moins1000")
            .await
            .unwrap()
            .is_some()
    );
}

async fn the_page_finds_a_coupon_by_its_code_and_checks_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = fixed_body();
    body["max_quantity_per_use"] = json!(2);
    let made = create(&app, &app.key, &body).await;
    let store = &app.ctx.store;
    let org = app.organization_id;
    let found = store
        .coupon_by_code(org, Environment::Test, " moins1000 ")
        .await
        .unwrap()
        .expect("found case-insensitively");
    assert_eq!(found.id.to_string(), made["coupon_id"]);
    assert_eq!(store.coupon(found.id).await.unwrap(), Some(found.clone()));
    let now = Utc::now();
    assert_eq!(found.check(Currency::Xof, 2, now), Ok(()));
    assert_eq!(found.discount(15_000), 1_000);
    assert_eq!(found.discount(600), 600, "never more than the subtotal");
    assert_eq!(
        found.check(Currency::Xof, 3, now),
        Err(Rejection::QuantityTooHigh { max: 2 })
    );
    assert_eq!(
        found.check(Currency::Eur, 1, now),
        Err(Rejection::WrongCurrency)
    );
    for nothing in ["MOINS", "MOINS 1000", "", "🎁"] {
        assert!(
            store
                .coupon_by_code(org, Environment::Test, nothing)
                .await
                .unwrap()
                .is_none(),
            "{nothing:?}"
        );
    }

    // A switched-off coupon is still found, and refused by its check.
    let res = app
        .patch(&path_of(&made), &app.key, &json!({"is_active": false}))
        .await;
    assert_eq!(res.status(), 200);
    let off = store
        .coupon_by_code(org, Environment::Test, "MOINS1000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(off.check(Currency::Xof, 1, now), Err(Rejection::Inactive));
}

async fn a_deleted_coupon_keeps_its_record_for_the_sessions_that_used_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let made = create(&app, &app.key, &percent_body()).await;
    assert_eq!(app.delete(&path_of(&made), &app.key).await.status(), 204);
    let store = &app.ctx.store;
    let id = Uuid::parse_str(made["coupon_id"].as_str().unwrap()).unwrap();
    let kept = store.coupon(id).await.unwrap().expect("the record is kept");
    assert!(kept.deleted_at.is_some());
    assert!(!kept.fields.is_active, "and switched off");
    assert_eq!(kept.fields.code.as_str(), "NOEL10");
    assert_eq!(
        kept.check(Currency::Xof, 1, Utc::now()),
        Err(Rejection::Inactive)
    );
    assert!(
        store
            .coupon_by_code(app.organization_id, Environment::Test, "NOEL10")
            .await
            .unwrap()
            .is_none(),
        "a customer can no longer use it"
    );
}

async fn coupons_are_listed_by_page_in_either_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut codes = Vec::new();
    for i in 0..3 {
        let mut body = percent_body();
        body["code"] = json!(format!("CODE{i}"));
        create(&app, &app.key, &body).await;
        codes.push(format!("CODE{i}"));
        // Distinct creation times, so the order is the order of creation.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let codes_of = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };
    let newest = list(&app, &app.key, "?limit=2").await;
    assert_eq!(codes_of(&newest), ["CODE2", "CODE1"]);
    assert_eq!(
        newest["pagination"],
        json!({"limit": 2, "offset": 0, "total": 3})
    );
    let rest = list(&app, &app.key, "?limit=2&offset=2").await;
    assert_eq!(codes_of(&rest), ["CODE0"]);
    let oldest = list(&app, &app.key, "?sort=created_at:asc").await;
    assert_eq!(codes_of(&oldest), codes);

    for (field, query) in [
        ("limit", "?limit=0"),
        ("limit", "?limit=101"),
        ("offset", "?offset=-1"),
        ("sort", "?sort=code"),
    ] {
        let res = app.get(&format!("{PATH}{query}"), &app.key).await;
        assert_refused(res, field, query).await;
    }
}

async fn coupons_need_a_valid_key(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.post_json(PATH, "sk_test_nope", &percent_body()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_of(res).await["error"]["code"], "unauthorized");
    assert_eq!(app.get(PATH, "").await.status(), 401);
}

async fn the_openapi_document_describes_coupons(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let doc: Value = app
        .client
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let coupons = &doc["paths"]["/discount_coupons"];
    let one = &doc["paths"]["/discount_coupons/{coupon_id}"];
    for operation in [
        &coupons["post"],
        &coupons["get"],
        &one["get"],
        &one["patch"],
        &one["delete"],
    ] {
        assert!(operation["operationId"].is_string(), "{operation}");
    }
    let schema = doc["components"]["schemas"]["DiscountCoupons"]["properties"]
        .as_object()
        .unwrap();
    for field in RESOURCE_FIELDS {
        assert!(schema.contains_key(*field), "DiscountCoupons lacks {field}");
    }
    assert_eq!(
        schema.len(),
        RESOURCE_FIELDS.len(),
        "no field left undocumented"
    );
}

crate::on_both_backends!(
    a_coupon_goes_through_create_retrieve_list_update_and_delete,
    a_fixed_coupon_carries_its_currency,
    every_rule_is_refused_by_name,
    read_only_fields_may_be_echoed_on_create_but_never_patched,
    an_update_is_checked_whole,
    codes_are_unique_per_organization_and_environment_whatever_their_case,
    another_organizations_coupon_is_not_found,
    test_and_live_coupons_are_apart,
    the_page_finds_a_coupon_by_its_code_and_checks_it,
    a_deleted_coupon_keeps_its_record_for_the_sessions_that_used_it,
    coupons_are_listed_by_page_in_either_order,
    coupons_need_a_valid_key,
    the_openapi_document_describes_coupons,
);
