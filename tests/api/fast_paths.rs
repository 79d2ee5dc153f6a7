//! The fast paths change nothing a client sees: a session read from the store's cache is never
//! an old one (every change shows on the very next read of the page, its QR code, its status
//! and the API), and creations written together (group commit) each get their own answer.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app};

/// Reads a session every way a client can, so each of them has it cached.
async fn read_everywhere(app: &TestApp, id: &str) {
    for path in [
        format!("/checkout/{id}"),
        format!("/checkout/{id}/status"),
        format!("/checkout/{id}/qr.png"),
    ] {
        app.client.get(app.url(&path)).send().await.unwrap();
    }
    app.api_session(id).await;
}

async fn page(app: &TestApp, id: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(&format!("/checkout/{id}")))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn pos_body() -> Value {
    json!({
        "amount": 2500,
        "currency_code": "XOF",
        "title": "Attiéké poisson",
        "is_pos": true,
        "qr_code_data": {
            "alias": "111c3e1b-4312-49ec-b75e-4c8c74c10fd7",
            "country": "CI",
            "reference": "ORDER-42",
        },
    })
}

async fn an_update_shows_on_the_next_read(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    let id = id_of(&app.session(&body).await);
    read_everywhere(&app, &id).await;
    let (_, before) = page(&app, &id).await;
    assert!(before.contains("data-quantity>1<"), "{before}");

    let res = app
        .patch(
            &format!("/v1/checkout_sessions/{id}"),
            &app.key,
            &json!({"quantity": 3, "title": "Pagne wax (3)"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, after) = page(&app, &id).await;
    assert_eq!(status, 200);
    assert!(after.contains("data-quantity>3<"), "{after}");
    assert!(after.contains("Pagne wax (3)"));
    assert_eq!(app.api_session(&id).await["quantity"], 3);
}

async fn an_expiry_shows_on_the_next_read(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = id_of(&app.session(&pos_body()).await);
    read_everywhere(&app, &id).await;
    let qr = app.url(&format!("/checkout/{id}/qr.png"));
    assert_eq!(app.client.get(&qr).send().await.unwrap().status(), 200);

    let res = app
        .delete(&format!("/v1/checkout_sessions/{id}"), &app.key)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(page(&app, &id).await.0, 410);
    assert_eq!(
        app.client.get(&qr).send().await.unwrap().status(),
        404,
        "no QR code for an expired session"
    );
    let status: Value = app
        .client
        .get(app.url(&format!("/checkout/{id}/status")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "expired");
    assert_eq!(app.api_session(&id).await["status"], "expired");
}

async fn a_completion_shows_on_the_next_read(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = id_of(&app.session(&session_body()).await);
    read_everywhere(&app, &id).await;

    let res = app
        .post_json(
            &format!("/v1/checkout_sessions/{id}/complete"),
            &app.key,
            &json!({"provider": "WAVE", "provider_reference": "w-1", "amount_paid": 10000}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url(&format!("/checkout/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "a completed session goes to success_url");
    let status: Value = app
        .client
        .get(app.url(&format!("/checkout/{id}/status")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "completed");
    assert_eq!(app.api_session(&id).await["status"], "completed");
}

async fn concurrent_creations_each_get_their_own_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = Arc::new(app);
    // Sixty creations at once, one of them refused: whichever batch they land in, each gets its
    // own answer and every other session is created as it asked.
    let mut tasks = Vec::new();
    for n in 0..60 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let mut body = session_body();
            body["amount"] = json!(1000 + n);
            if n == 42 {
                body["amount"] = json!(-1);
            }
            let res = app.create_session(&body).await;
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (n, status, body)
        }));
    }
    let mut created = 0;
    let mut refused = 0;
    for task in tasks {
        let (n, status, body) = task.await.unwrap();
        match status {
            201 => {
                created += 1;
                let id = id_of(&body);
                let stored = app.api_session(&id).await;
                assert_eq!(
                    stored["amount"],
                    1000 + n,
                    "session {n} is the one it asked for"
                );
            }
            422 => {
                refused += 1;
                assert_eq!(n, 42, "only the bad body is refused, not {n}");
            }
            other => panic!("session {n}: {other} {body}"),
        }
    }
    assert_eq!((created, refused), (59, 1));
    let list: Value = app
        .get("/v1/checkout_sessions?limit=1", &app.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["pagination"]["total"], 59);
}

crate::on_both_backends!(
    an_update_shows_on_the_next_read,
    an_expiry_shows_on_the_next_read,
    a_completion_shows_on_the_next_read,
    concurrent_creations_each_get_their_own_answer,
);
