//! QR codes as the customer's phone sees them: the served PNG is decoded and compared with the
//! payload it must carry, for PI-SPI codes built by caisse and for ready payloads.

use caisse::qr::{Channel, Country, PiSpiFields, Reference};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app};

const ALIAS: &str = "111c3e1b-4312-49ec-b75e-4c8c74c10fd7";
const BCEAO_EXAMPLE: &str = "00020136560012int.bceao.pi0136111c3e1b-4312-49ec-b75e-4c8c74c10fd7520400005303952540410005802CI5901X6001X62270516F2YG7643D5HH2023110350063049618";

fn expected_pi_spi(amount: Option<u64>) -> String {
    PiSpiFields {
        alias: Uuid::parse_str(ALIAS).unwrap(),
        country: "CI".parse::<Country>().unwrap(),
        reference: Reference::new("ORDER-42").unwrap(),
        amount,
        channel: if amount.is_some() {
            Channel::DYNAMIC
        } else {
            Channel::STATIC
        },
    }
    .build()
}

fn spi_body(qr_type: &str) -> Value {
    let mut body = session_body();
    body["is_spi"] = json!(true);
    body["allowed_providers"] = json!("SPI");
    body["qr_code_type"] = json!(qr_type);
    body["qr_code_data"] = json!({"alias": ALIAS, "country": "CI", "reference": "ORDER-42"});
    body
}

/// Fetches the session's PNG and decodes the QR code in it.
async fn decoded_png(app: &TestApp, id: &str) -> (String, Vec<u8>, String) {
    let res = app
        .client
        .get(app.url(&format!("/checkout/{id}/qr.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let bytes = res.bytes().await.unwrap().to_vec();
    let image = image::load_from_memory(&bytes).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("the code decodes");
    (content, bytes, etag)
}

async fn a_dynamic_pi_spi_code_carries_the_current_total(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&spi_body("dynamic")).await;
    let id = id_of(&s);
    let code_id = s["spi_qr_code_id"]
        .as_str()
        .expect("spi_qr_code_id set")
        .to_string();
    let (content, first_bytes, etag) = decoded_png(&app, &id).await;
    assert_eq!(content, expected_pi_spi(Some(10000)));

    // The same state gives the same code, byte for byte, and a matching ETag is a 304.
    let (_, again, _) = decoded_png(&app, &id).await;
    assert_eq!(again, first_bytes);
    let res = app
        .client
        .get(app.url(&format!("/checkout/{id}/qr.png")))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let read: Value = app
        .get(&format!("/v1/checkout_sessions/{id}"), &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["spi_qr_code_id"],
        code_id.as_str(),
        "stable while nothing changes"
    );

    // A new quantity is a new amount, so a new code.
    let res = app
        .patch(
            &format!("/v1/checkout_sessions/{id}"),
            &app.key,
            &json!({"quantity": 3}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_ne!(updated["spi_qr_code_id"], code_id.as_str());
    let (content, _, new_etag) = decoded_png(&app, &id).await;
    assert_eq!(content, expected_pi_spi(Some(30000)));
    assert_ne!(new_etag, etag);
}

async fn a_static_pi_spi_code_has_no_amount(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&spi_body("static")).await;
    let id = id_of(&s);
    let (content, _, _) = decoded_png(&app, &id).await;
    assert_eq!(content, expected_pi_spi(None));
    assert!(!content.contains("5405"), "no amount field");
    let updated: Value = app
        .patch(
            &format!("/v1/checkout_sessions/{id}"),
            &app.key,
            &json!({"quantity": 4}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        updated["spi_qr_code_id"], s["spi_qr_code_id"],
        "the amount is not in it, so the code stays"
    );
}

async fn ready_payloads_are_served_as_given(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for payload in [BCEAO_EXAMPLE, "https://pay.wave.com/m/M_ci_abc123/c/ci/"] {
        let mut body = session_body();
        body["is_pos"] = json!(true);
        body["qr_code_data"] = json!({"payload": payload});
        let s = app.session(&body).await;
        let (content, _, _) = decoded_png(&app, &id_of(&s)).await;
        assert_eq!(content, payload);
        assert!(s["spi_qr_code_id"].is_string());
        let svg = app
            .client
            .get(app.url(&format!("/checkout/{}/qr.svg", id_of(&s))))
            .send()
            .await
            .unwrap();
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        let svg = svg.text().await.unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("viewBox"),
            "no XML prolog, scalable"
        );
    }
}

async fn the_counter_screen_shows_the_code_inline(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = spi_body("dynamic");
    body["is_pos"] = json!(true);
    let s = app.session(&body).await;
    let page = crate::page::visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    assert!(page.html.contains("class=\"card pos-screen\""));
    assert!(
        page.html.contains("<svg") && !page.html.contains("<?xml"),
        "inline SVG"
    );
    assert!(page.html.contains("role=\"img\""));
    assert!(page.text().contains("10 000 F CFA"));
    assert!(
        page.html.contains("data-poll="),
        "the counter screen notices the payment"
    );
    assert!(
        !page.html.contains("name=\"customer_phone\""),
        "little else"
    );
}

async fn choosing_pi_spi_shows_the_code_and_its_payload(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = spi_body("dynamic");
    body["spi_account_number"] = json!("CIC2344256727788288822");
    let s = app.session(&body).await;
    let path = format!("/checkout/{}", id_of(&s));
    let res = crate::page::submit(&app, &path, "/pay", &[("provider", "SPI")]).await;
    assert_eq!(res.status(), 303);
    let waiting = crate::page::visit(&app, &path, &[]).await;
    assert!(waiting.html.contains("<svg"));
    assert!(
        waiting.html.contains(&expected_pi_spi(Some(10000))),
        "the payload as copyable text"
    );
    assert!(
        waiting.html.contains("CIC2 •••• 8822"),
        "the account, masked"
    );
    assert!(!waiting.html.contains("CIC2344256727788288822"));
    assert!(waiting.text().contains("Scannez pour payer"));
    let en = crate::page::visit(&app, &format!("{path}?lang=en"), &[]).await;
    assert!(en.text().contains("Scan to pay"));
}

async fn codes_of_closed_or_unknown_sessions_are_not_served(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&spi_body("dynamic")).await;
    app.delete(&format!("/v1/checkout_sessions/{}", id_of(&s)), &app.key)
        .await;
    for path in [
        format!("/checkout/{}/qr.png", id_of(&s)),
        format!("/checkout/{}/qr.png", Uuid::new_v4()),
        "/checkout/x/qr.svg".into(),
    ] {
        let res = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

crate::on_both_backends!(
    a_dynamic_pi_spi_code_carries_the_current_total,
    a_static_pi_spi_code_has_no_amount,
    ready_payloads_are_served_as_given,
    the_counter_screen_shows_the_code_inline,
    choosing_pi_spi_shows_the_code_and_its_payload,
    codes_of_closed_or_unknown_sessions_are_not_served,
);
