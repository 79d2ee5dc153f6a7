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

/// `/metrics` is not the public's: a request a proxy relayed is 404 (the checkout is public,
/// its traffic figures are not), and with the operator's token only a scraper holding it reads.
async fn metrics_are_for_the_operator_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let relayed = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.4")
        .send()
        .await
        .unwrap();
    assert_eq!(relayed.status(), 404);
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| {
        s.metrics_token = Some("scrape-Tk81Lq0".into());
    })
    .await
    else {
        return;
    };
    let read = |token: Option<&'static str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(
        read(None).await.unwrap().status(),
        404,
        "even from this machine"
    );
    assert_eq!(read(Some("scrape-Tk81Lq")).await.unwrap().status(), 404);
    assert_eq!(read(Some("scrape-Tk81Lq0")).await.unwrap().status(), 200);
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
    metrics_are_for_the_operator_only,
    health_readiness_and_metrics_answer,
    readiness_fails_when_the_database_is_gone,
    a_callers_request_id_is_kept_and_a_bad_one_replaced,
    the_server_stops_gracefully,
);
