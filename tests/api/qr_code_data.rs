//! `qr_code_data` at the API edge: both shapes of a valid value are stored, and every violation
//! is a 422 that names the part of the value at fault, on create and on update.

use serde_json::{Value, json};

use crate::helpers::{Backend, error_field, error_of, session_body, spawn_app};

const BCEAO_EXAMPLE: &str = "00020136560012int.bceao.pi0136111c3e1b-4312-49ec-b75e-4c8c74c10fd7520400005303952540410005802CI5901X6001X62270516F2YG7643D5HH2023110350063049618";
const ALIAS: &str = "111c3e1b-4312-49ec-b75e-4c8c74c10fd7";

fn with_qr(data: Value) -> Value {
    let mut body = session_body();
    body["qr_code_data"] = data;
    body
}

async fn both_shapes_are_accepted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app
        .session(&with_qr(
            json!({"alias": ALIAS, "country": "CI", "reference": "ORDER-42"}),
        ))
        .await;
    assert_eq!(
        s["qr_code_data"],
        json!({"alias": ALIAS, "country": "CI", "reference": "ORDER-42"})
    );
    for payload in [
        BCEAO_EXAMPLE,
        "https://pay.wave.com/m/M_abc123",
        "wave://pay?m=abc",
    ] {
        let s = app.session(&with_qr(json!({"payload": payload}))).await;
        assert_eq!(s["qr_code_data"]["payload"], payload);
    }
}

async fn every_violation_names_its_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut bad_crc = BCEAO_EXAMPLE.to_string();
    bad_crc.replace_range(bad_crc.len() - 4.., "0000");
    let too_long = format!("https://shop.example/{}", "a".repeat(3000));
    let cases = [
        (
            json!({"alias": "not-a-uuid", "country": "CI", "reference": "R1"}),
            "qr_code_data.alias",
        ),
        (
            json!({"alias": ALIAS, "country": "FR", "reference": "R1"}),
            "qr_code_data.country",
        ),
        (
            json!({"alias": ALIAS, "country": "CI", "reference": "R".repeat(26)}),
            "qr_code_data.reference",
        ),
        (
            json!({"alias": ALIAS, "country": "CI"}),
            "qr_code_data.reference",
        ),
        (json!({"payload": bad_crc}), "qr_code_data.payload"),
        (json!({"payload": "hello there"}), "qr_code_data.payload"),
        (
            json!({"payload": "javascript:alert(1)"}),
            "qr_code_data.payload",
        ),
        (json!({"payload": too_long}), "qr_code_data.payload"),
        (
            json!({"payload": BCEAO_EXAMPLE, "alias": ALIAS}),
            "qr_code_data",
        ),
        (json!({"colour": "red"}), "qr_code_data.colour"),
        (json!("000201"), "qr_code_data"),
    ];
    for (data, field) in cases {
        let res = app.create_session(&with_qr(data.clone())).await;
        assert_eq!(res.status(), 422, "{data}");
        let err = error_of(res).await;
        assert_eq!(error_field(&err), field, "{data}: {err}");
    }

    let mut euro = with_qr(json!({"alias": ALIAS, "country": "CI", "reference": "R1"}));
    euro["currency_code"] = json!("EUR");
    let res = app.create_session(&euro).await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_field(&error_of(res).await), "currency_code");

    let s = app.session(&session_body()).await;
    let path = format!(
        "/v1/checkout_sessions/{}",
        s["checkout_session_id"].as_str().unwrap()
    );
    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"qr_code_data": {"alias": ALIAS, "country": "XX", "reference": "R"}}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_field(&error_of(res).await), "qr_code_data.country");
    let res = app
        .patch(
            &path,
            &app.key,
            &json!({"qr_code_data": {"payload": BCEAO_EXAMPLE}}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

crate::on_both_backends!(both_shapes_are_accepted, every_violation_names_its_field);
