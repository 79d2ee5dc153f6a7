//! Health, readiness, metrics and the request id.

use crate::helpers::{Backend, spawn_app};

async fn health_readiness_and_metrics_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    app.get("/v1/checkout_sessions", &app.key).await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("caisse_http_requests_total{method=\"GET\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("caisse_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

async fn readiness_fails_when_the_database_is_gone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.ctx.store.close().await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the process itself is alive");
}

async fn a_callers_request_id_is_kept_and_a_bad_one_replaced(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "<script>")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32, "{id}");
}

async fn the_server_stops_gracefully(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.handle.stop(true).await;
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "no longer listening"
    );
}

crate::on_both_backends!(
    health_readiness_and_metrics_answer,
    readiness_fails_when_the_database_is_gone,
    a_callers_request_id_is_kept_and_a_bad_one_replaced,
    the_server_stops_gracefully,
);
