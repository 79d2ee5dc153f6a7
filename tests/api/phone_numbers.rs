//! Phone numbers as customers write them, through the API and on the page: read in the
//! organization's country (else the QR code's), stored in E.164, shown grouped, refused with a
//! message beside the field when impossible, and the provider of their network preselected.

use serde_json::json;

use crate::helpers::{
    Backend, TestApp, error_field, error_of, id_of, session_body, spawn_app, spawn_app_with,
};
use crate::page::{post_form, visit};

async fn in_country(app: &TestApp, country: &str) {
    caisse::core::organizations::set_country(&app.ctx, app.organization_id, country)
        .await
        .expect("a country for the organization");
}

async fn create_with_phone(app: &TestApp, phone: &str) -> reqwest::Response {
    let mut body = session_body();
    body["customer_phone"] = json!(phone);
    app.post_json("/v1/checkout_sessions", &app.key, &body)
        .await
}

async fn numbers_sent_through_the_api_are_read_in_the_organizations_country(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Without a country, only a number with its country code can be read.
    let res = create_with_phone(&app, "07 07 07 07 07").await;
    assert_eq!(res.status(), 422);
    let body = error_of(res).await;
    assert_eq!(error_field(&body), "customer_phone");
    assert!(body.to_string().contains("country code"), "{body}");
    let res = create_with_phone(&app, "+225 07 07 07 07 07").await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["customer_phone"],
        "+2250707070707"
    );

    in_country(&app, "ci").await;
    for written in [
        "07 07 07 07 07",
        "0707070707",
        "00225 07 07 07 07 07",
        "+225 0707070707",
    ] {
        let res = create_with_phone(&app, written).await;
        assert_eq!(res.status(), 201, "{written}");
        let s: serde_json::Value = res.json().await.unwrap();
        assert_eq!(s["customer_phone"], "+2250707070707", "{written}");
    }
    // Côte d'Ivoire's old eight-digit numbers, and a Senegalese number written as dialled in
    // Senegal, are not numbers of Côte d'Ivoire.
    for impossible in ["07 07 07 07", "77 123 45 67", "07 07 07 07 07 07"] {
        let res = create_with_phone(&app, impossible).await;
        assert_eq!(res.status(), 422, "{impossible}");
        assert_eq!(error_field(&error_of(res).await), "customer_phone");
    }

    // A PATCH reads the number in the same country.
    let s = app.session(&session_body()).await;
    let res = app
        .patch(
            &format!("/v1/checkout_sessions/{}", id_of(&s)),
            &app.key,
            &json!({"customer_phone": "05 05 05 05 05"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["customer_phone"],
        "+2250505050505"
    );
}

async fn without_a_country_the_qr_codes_country_reads_the_number(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["customer_phone"] = json!("77 123 45 67");
    body["qr_code_data"] = json!({
        "alias": "3f1c2a9e-8b7d-4c5e-9a1b-2c3d4e5f6a7b", "country": "SN", "reference": "R1"
    });
    let res = app
        .post_json("/v1/checkout_sessions", &app.key, &body)
        .await;
    assert_eq!(res.status(), 201);
    let s: serde_json::Value = res.json().await.unwrap();
    assert_eq!(s["customer_phone"], "+221771234567");
}

async fn the_page_shows_the_number_grouped_and_preselects_its_network(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    in_country(&app, "CI").await;
    let mut body = session_body();
    body["customer_phone"] = json!("05 05 05 05 05");
    let s = app.session(&body).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    assert!(
        page.html.contains("value=\"+225 05 05 05 05 05\""),
        "grouped as Côte d'Ivoire writes it"
    );
    assert!(
        page.html
            .contains("value=\"MTN\" checked data-networks=\"+22505\""),
        "MTN, whose network +225 05 is, is preselected"
    );
    assert!(!page.html.contains("value=\"ORANGE\" checked"));
    assert!(
        page.html.contains("data-calling-code=\"225\""),
        "the script reads numbers typed without a country code in Côte d'Ivoire"
    );

    // A number of no known network preselects nothing.
    let mut body = session_body();
    body["customer_phone"] = json!("+33 6 12 34 56 78");
    let s = app.session(&body).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    assert!(page.html.contains("value=\"+33 6 12 34 56 78\""));
    assert!(!page.html.contains(" checked"), "nothing preselected");
}

async fn a_number_typed_on_the_page_is_stored_in_e164_or_refused_beside_its_field(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let id = id_of(&s);
    let path = format!("/checkout/{id}");
    let page = visit(&app, &path, &[]).await;
    let pay = |phone: &'static str| {
        let (app, path, page) = (&app, path.clone(), &page);
        async move {
            post_form(
                app,
                &format!("{path}/pay"),
                &page.cookies,
                &[
                    ("csrf", &page.csrf()),
                    ("provider", "ORANGE"),
                    ("customer_phone", phone),
                ],
            )
            .await
        }
    };
    // The organization has no country, and a QR-less session none either.
    let res = pay("07 07 07 07 07").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"phone-error\">Commencez le numéro par +"),
        "the message is beside the field: {html}"
    );
    assert!(html.contains("aria-describedby=\"phone-error phone-hint\""));
    assert!(html.contains("value=\"07 07 07 07 07\""), "kept as typed");

    in_country(&app, "CI").await;
    let res = pay("07 07 07 07").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"phone-error\">Ce numéro ne peut pas être appelé"),
        "{html}"
    );
    let s = app.api_session(&id).await;
    assert_eq!(
        (s["customer_phone"].clone(), s["payment_provider"].clone()),
        (json!(null), json!(null)),
        "nothing changed"
    );

    let res = pay("07 07 07 07 07").await;
    assert_eq!(res.status(), 303);
    let s = app.api_session(&id).await;
    assert_eq!(s["customer_phone"], "+2250707070707");
    assert_eq!(s["payment_provider"], "ORANGE");
}

async fn an_accounts_country_reads_the_number_when_the_organization_has_none(backend: Backend) {
    // Orange's API is a closed port here: the number is read before the payment starts, which
    // then fails at once.
    let Some(app) =
        spawn_app_with(backend, |s| s.orange_api_url = "http://127.0.0.1:9".into()).await
    else {
        return;
    };
    // An Orange account of the test environment, in Senegal.
    let res = app
        .put(
            "/v1/providers/orange",
            &app.key,
            &json!({"client_id": "id-1234", "client_secret": "secret-1234",
                    "merchant_key": "merchant-1234", "country": "SN"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let s = app.session(&session_body()).await;
    let id = id_of(&s);
    let path = format!("/checkout/{id}");
    let page = visit(&app, &path, &[]).await;
    let _ = post_form(
        &app,
        &format!("{path}/pay"),
        &page.cookies,
        &[
            ("csrf", &page.csrf()),
            ("provider", "ORANGE"),
            ("customer_phone", "77 123 45 67"),
        ],
    )
    .await;
    let s = app.api_session(&id).await;
    assert_eq!(s["customer_phone"], "+221771234567");
}

async fn mobile_money_is_not_offered_for_a_currency_it_cannot_take(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["currency_code"] = json!("USD");
    let s = app.session(&body).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    for code in ["WAVE", "ORANGE", "MOOV"] {
        assert!(
            !page.html.contains(&format!("value=\"{code}\"")),
            "{code} in USD"
        );
    }
    assert!(page.html.contains("value=\"CARD\""), "cards take USD");
}

crate::on_both_backends!(
    numbers_sent_through_the_api_are_read_in_the_organizations_country,
    without_a_country_the_qr_codes_country_reads_the_number,
    the_page_shows_the_number_grouped_and_preselects_its_network,
    a_number_typed_on_the_page_is_stored_in_e164_or_refused_beside_its_field,
    an_accounts_country_reads_the_number_when_the_organization_has_none,
    mobile_money_is_not_offered_for_a_currency_it_cannot_take,
);
