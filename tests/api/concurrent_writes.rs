//! Writers that race on one session: a merchant's `PATCH` against another `PATCH`, and against
//! the customer's form on the page. Every write that answers success is kept; none undoes
//! another.

use serde_json::json;

use crate::helpers::{Backend, id_of, session_body, spawn_app};
use crate::page::{post_form, visit};

const RACES: usize = 30;

async fn patches_of_different_fields_both_stick(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for i in 0..RACES {
        let id = id_of(&app.session(&session_body()).await);
        let path = format!("/v1/checkout_sessions/{id}");
        let title = format!("Pagne wax n°{i}");
        let amount = 20_000 + i as i64;
        let (retitle, reprice) = (json!({"title": title}), json!({"amount": amount}));
        let (a, b) = tokio::join!(
            app.patch(&path, &app.key, &retitle),
            app.patch(&path, &app.key, &reprice),
        );
        assert_eq!(
            (a.status().as_u16(), b.status().as_u16()),
            (200, 200),
            "race {i}"
        );
        let s = app.api_session(&id).await;
        assert_eq!(
            (s["title"].as_str(), s["amount"].as_i64()),
            (Some(title.as_str()), Some(amount)),
            "race {i}: both changes are kept"
        );
    }
}

async fn the_customers_form_never_undoes_the_merchants_change(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    for i in 0..RACES {
        let id = id_of(&app.session(&body).await);
        let page_path = format!("/checkout/{id}");
        let page = visit(&app, &page_path, &[]).await;
        let csrf = page.csrf();
        let form_path = format!("{page_path}/quantity");
        let api_path = format!("/v1/checkout_sessions/{id}");
        let reprice = json!({"amount": 20000});
        let fields = [("csrf", csrf.as_str()), ("quantity", "3")];
        let (form, patch) = tokio::join!(
            post_form(&app, &form_path, &page.cookies, &fields),
            app.patch(&api_path, &app.key, &reprice),
        );
        assert_eq!(
            (form.status().as_u16(), patch.status().as_u16()),
            (303, 200),
            "race {i}"
        );
        let s = app.api_session(&id).await;
        assert_eq!(
            (
                s["amount"].as_i64(),
                s["quantity"].as_i64(),
                s["amount_total"].as_i64()
            ),
            (Some(20000), Some(3), Some(60000)),
            "race {i}: the merchant's amount and the customer's quantity are both kept"
        );
    }
}

crate::on_both_backends!(
    patches_of_different_fields_both_stick,
    the_customers_form_never_undoes_the_merchants_change,
);
