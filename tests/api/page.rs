//! The hosted page over HTTP, as a browser without JavaScript uses it: what it shows, in which
//! language, its forms and their CSRF tokens, redirects, and the headers that keep it safe.

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, session_body, spawn_app};

/// A browser's view of one page: its HTML and the cookies it was given.
pub struct Visit {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
    pub cookies: String,
}

impl Visit {
    pub fn csrf(&self) -> String {
        let at = self
            .html
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.html[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// The page's text with the spaces money is written with made plain.
    pub fn text(&self) -> String {
        self.html.replace(['\u{202f}', '\u{a0}'], " ")
    }
}

fn cookies_of(res: &Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn visit(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Visit {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let cookies = cookies_of(&res);
    Visit {
        status,
        headers,
        html: res.text().await.unwrap(),
        cookies,
    }
}

/// Opens the page at `path` as a browser does, then posts `fields` with the page's CSRF token
/// to `path` + `form` (`/quantity`, `/pay`…), with the cookies the page gave.
pub async fn submit(app: &TestApp, path: &str, form: &str, fields: &[(&str, &str)]) -> Response {
    let page = visit(app, path, &[]).await;
    let csrf = page.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    post_form(app, &[path, form].concat(), &page.cookies, &all).await
}

pub async fn post_form(
    app: &TestApp,
    path: &str,
    cookies: &str,
    form: &[(&str, &str)],
) -> Response {
    app.client
        .post(app.url(path))
        .header("Cookie", cookies)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn the_page_shows_what_is_paid_in_the_customers_language(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["quantity"] = json!(2);
    body["public_description"] = json!("Coton, 6 yards");
    let s = app.session(&body).await;
    let path = format!("/checkout/{}", id_of(&s));

    let fr = visit(&app, &path, &[]).await;
    assert_eq!(fr.status, 200);
    let text = fr.text();
    for expected in [
        "<html lang=\"fr\"",
        "Boutique Awa",
        "Pagne wax",
        "Coton, 6 yards",
        "10 000 F CFA",
        "20 000 F CFA",
        "Total à payer",
        "MODE TEST",
    ] {
        assert!(text.contains(expected), "{expected} in the French page");
    }
    let en = visit(&app, &format!("{path}?lang=en"), &[]).await;
    let text = en.text();
    for expected in [
        "<html lang=\"en\"",
        "CFA F 10,000",
        "CFA F 20,000",
        "Total due",
        "TEST MODE",
    ] {
        assert!(text.contains(expected), "{expected} in the English page");
    }
    assert!(
        en.cookies.contains("caisse_lang=en"),
        "?lang= is remembered"
    );

    let mut usd = session_body();
    usd["currency_code"] = json!("USD");
    usd["amount"] = json!(1250);
    let usd = app.session(&usd).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&usd)), &[]).await;
    assert!(
        page.text().contains("$12.50") && page.text().contains("<html lang=\"en\""),
        "USD defaults to English"
    );
    assert!(
        !page.html.contains("value=\"WAVE\"") && page.html.contains("value=\"CARD\""),
        "Wave takes XOF only"
    );
    let page = visit(&app, &format!("/checkout/{}?lang=fr", id_of(&usd)), &[]).await;
    assert!(page.text().contains("12,50 $US"));
}

async fn the_language_is_chosen_by_query_then_cookie_then_header_then_currency(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let path = format!("/checkout/{}", id_of(&s));
    let lang = |v: &Visit| {
        if v.html.contains("<html lang=\"fr\"") {
            "fr"
        } else if v.html.contains("<html lang=\"en\"") {
            "en"
        } else {
            "?"
        }
    };
    assert_eq!(
        lang(&visit(&app, &path, &[]).await),
        "fr",
        "XOF: French by default"
    );
    assert_eq!(
        lang(&visit(&app, &path, &[("Accept-Language", "en-GB,en;q=0.9")]).await),
        "en"
    );
    assert_eq!(
        lang(
            &visit(
                &app,
                &path,
                &[("Accept-Language", "en"), ("Cookie", "caisse_lang=fr")]
            )
            .await
        ),
        "fr"
    );
    assert_eq!(
        lang(
            &visit(
                &app,
                &format!("{path}?lang=en"),
                &[("Cookie", "caisse_lang=fr")]
            )
            .await
        ),
        "en"
    );
    assert_eq!(
        lang(
            &visit(
                &app,
                &format!("{path}?lang=de"),
                &[("Accept-Language", "en")]
            )
            .await
        ),
        "en"
    );
}

async fn unknown_and_malformed_ids_get_a_localized_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for id in [
        uuid::Uuid::new_v4().to_string(),
        "nope".into(),
        "%3Cscript%3E".into(),
    ] {
        let fr = visit(&app, &format!("/checkout/{id}"), &[]).await;
        assert_eq!(fr.status, 404);
        assert!(fr.html.contains("Page introuvable"), "{}", fr.html);
        let en = visit(
            &app,
            &format!("/checkout/{id}"),
            &[("Accept-Language", "en")],
        )
        .await;
        assert!(en.html.contains("Page not found"));
        assert!(!en.html.contains("<script>"));
    }
}

async fn pages_carry_the_safety_headers(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    let h = |name: &str| {
        page.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://shop.example"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert_eq!(h("cache-control"), "no-store");
    assert!(h("x-robots-tag").contains("noindex"));
    assert!(
        page.html
            .contains("<meta name=\"robots\" content=\"noindex")
    );
    assert!(
        !page.html.contains("<script>") && !page.html.contains("style="),
        "no inline script or style"
    );
    assert!(
        !page.html.contains("http://") && !page.html.contains("https://"),
        "nothing from elsewhere"
    );

    let (org, key) = {
        let org = caisse::core::organizations::create(
            &app.ctx,
            "Framed shop",
            &["https://shop.example".into()],
            None,
        )
        .await
        .unwrap();
        let (_, key) = caisse::core::organizations::create_key(
            &app.ctx,
            org.id,
            caisse::domain::session::Environment::Test,
        )
        .await
        .unwrap();
        (org, secrecy::ExposeSecret::expose_secret(&key).to_string())
    };
    let framed: Value = app
        .post_json("/v1/checkout_sessions", &key, &session_body())
        .await
        .json()
        .await
        .unwrap();
    let page = visit(
        &app,
        &format!("/checkout/{}?embedded=1", id_of(&framed)),
        &[],
    )
    .await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors https://shop.example"),
        "{csp} for {}",
        org.id
    );
    assert!(page.headers.get("x-frame-options").is_none());
    assert!(page.html.contains("class=\"embedded") && page.html.contains("data-embedded=\"1\""));
    assert!(page.html.contains("data-origins=\"https://shop.example\""));
}

async fn every_session_field_is_escaped(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let attack = "\"><script>alert(1)</script><img src=x onerror=alert(2)>'";
    let mut body = session_body();
    body["title"] = json!(attack);
    body["public_description"] = json!(attack);
    body["customer_name"] = json!(attack);
    body["metadata"] = json!({"note": attack});
    let s = app.session(&body).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.html.contains("<script>alert"),
        "raw script in the page"
    );
    assert!(!page.html.contains("<img src=x"), "raw tag in the page");
    assert!(
        !page.html.contains("\"><script") && !page.html.contains("'><script"),
        "attribute broken out of"
    );
    // Entities as the templates write them: &#34; &#62; &#60; for " > <.
    let html = page
        .html
        .replace("&#34;", "&quot;")
        .replace("&#62;", "&gt;")
        .replace("&#60;", "&lt;")
        .replace("&#39;", "&apos;");
    assert!(
        html.contains("<h1 id=\"title\">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the title is shown, escaped"
    );
    assert!(
        html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)"),
        "the customer name is prefilled, escaped"
    );
}

async fn static_files_are_cached_for_long_and_the_first_view_is_light(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let page = visit(&app, &format!("/checkout/{}", id_of(&s)), &[]).await;
    let mut total = page.html.len();
    for asset in ["checkout.css", "checkout.js", "icon.svg"] {
        let at = page
            .html
            .find(&format!("/static/{asset}?v="))
            .unwrap_or_else(|| panic!("{asset} linked"));
        let rest = &page.html[at..];
        let url = &rest[..rest.find('"').unwrap()];
        let res = app.client.get(app.url(url)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        let cache = res.headers()["cache-control"].to_str().unwrap().to_string();
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{cache}"
        );
        total += res.bytes().await.unwrap().len();
    }
    assert!(total <= 30 * 1024, "first view is {total} bytes");
}

async fn the_quantity_form_recomputes_every_amount(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    let s = app.session(&body).await;
    let id = id_of(&s);
    let path = format!("/checkout/{id}");
    let res = submit(&app, &path, "/quantity", &[("quantity", "3")]).await;
    assert_eq!(res.status(), 303);
    let page = visit(&app, &path, &[]).await;
    assert_eq!(res.headers()["location"], path.as_str());
    assert_eq!(app.api_session(&id).await["amount_total"], 30000);
    assert!(
        visit(&app, &path, &[])
            .await
            .text()
            .contains("30 000 F CFA")
    );

    for bad in ["0", "100", "abc", "2.5", "", "-1", "99999999999999999999"] {
        let res = post_form(
            &app,
            &format!("{path}/quantity"),
            &page.cookies,
            &[("csrf", &page.csrf()), ("quantity", bad)],
        )
        .await;
        assert_eq!(res.status(), 422, "{bad:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Choisissez une quantité entière entre 1 et 99"),
            "{bad:?}"
        );
        assert_eq!(
            app.api_session(&id).await["quantity"],
            3,
            "nothing changed for {bad:?}"
        );
    }
    // A session that does not allow it ignores the form.
    let fixed = app.session(&session_body()).await;
    let fixed_path = format!("/checkout/{}", id_of(&fixed));
    let page = visit(&app, &fixed_path, &[]).await;
    assert!(!page.html.contains("name=\"quantity\""));
    let res = post_form(
        &app,
        &format!("{fixed_path}/quantity"),
        &page.cookies,
        &[("csrf", &page.csrf()), ("quantity", "5")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.api_session(&id_of(&fixed)).await["quantity"], 1);
}

async fn forms_without_a_valid_csrf_token_change_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    let s = app.session(&body).await;
    let other = app.session(&body).await;
    let path = format!("/checkout/{}", id_of(&s));
    let page = visit(&app, &path, &[]).await;
    let other_page = visit(&app, &format!("/checkout/{}", id_of(&other)), &[]).await;
    let attempts = [
        (String::new(), page.csrf()),
        (page.cookies.clone(), String::new()),
        (page.cookies.clone(), other_page.csrf()),
        (other_page.cookies.clone(), page.csrf()),
    ];
    for (cookies, token) in attempts {
        let res = post_form(
            &app,
            &format!("{path}/quantity"),
            &cookies,
            &[("csrf", &token), ("quantity", "4")],
        )
        .await;
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("Ce formulaire a expiré"));
    }
    assert_eq!(app.api_session(&id_of(&s)).await["quantity"], 1);
}

async fn cancel_goes_back_to_the_merchant_and_keeps_the_session_open(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut body = session_body();
    body["cancel_url"] = json!("https://shop.example/panier?cs={CHECKOUT_SESSION_ID}");
    let s = app.session(&body).await;
    let id = id_of(&s);
    let res = app
        .client
        .get(app.url(&format!("/checkout/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("https://shop.example/panier?cs={id}")
    );
    assert_eq!(app.api_session(&id).await["status"], "open");
}

async fn completed_sessions_go_to_success_and_expired_ones_say_so(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = app.session(&session_body()).await;
    let id = id_of(&s);
    let report = json!({"provider": "WAVE", "provider_reference": "w1", "amount_paid": 10000});
    app.post_json(
        &format!("/v1/checkout_sessions/{id}/complete"),
        &app.key,
        &report,
    )
    .await;
    let res = app
        .client
        .get(app.url(&format!("/checkout/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("https://shop.example/merci?cs={id}")
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
    assert_eq!(
        status,
        json!({"status": "completed", "redirect_url": format!("https://shop.example/merci?cs={id}")})
    );

    let mut no_success = session_body();
    no_success.as_object_mut().unwrap().remove("success_url");
    let r = app.session(&no_success).await;
    let mut second = report.clone();
    second["provider_reference"] = json!("w2");
    app.post_json(
        &format!("/v1/checkout_sessions/{}/complete", id_of(&r)),
        &app.key,
        &second,
    )
    .await;
    let receipt = visit(&app, &format!("/checkout/{}", id_of(&r)), &[]).await;
    assert_eq!(receipt.status, 200);
    assert!(receipt.text().contains("Paiement reçu") && receipt.text().contains("10 000 F CFA"));

    let e = app.session(&session_body()).await;
    let eid = id_of(&e);
    app.delete(&format!("/v1/checkout_sessions/{eid}"), &app.key)
        .await;
    let page = visit(&app, &format!("/checkout/{eid}"), &[]).await;
    assert_eq!(page.status, 410);
    assert!(page.html.contains("Ce lien de paiement a expiré"));
    assert!(
        page.html.contains("href=\"https://shop.example/panier\""),
        "a way back"
    );
    assert!(!page.html.contains("name=\"csrf\""), "nothing to pay");
    let res = post_form(
        &app,
        &format!("/checkout/{eid}/sandbox"),
        &page.cookies,
        &[("outcome", "success")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.api_session(&eid).await["status"],
        "expired",
        "nothing can be paid after expiry"
    );
}

crate::on_both_backends!(
    the_page_shows_what_is_paid_in_the_customers_language,
    the_language_is_chosen_by_query_then_cookie_then_header_then_currency,
    unknown_and_malformed_ids_get_a_localized_404,
    pages_carry_the_safety_headers,
    every_session_field_is_escaped,
    static_files_are_cached_for_long_and_the_first_view_is_light,
    the_quantity_form_recomputes_every_amount,
    forms_without_a_valid_csrf_token_change_nothing,
    cancel_goes_back_to_the_merchant_and_keeps_the_session_open,
    completed_sessions_go_to_success_and_expired_ones_say_so,
);
