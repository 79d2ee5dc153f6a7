//! The hosted page in a real browser: headless Chromium, driven through chromedriver, against
//! the real server. Each test checks what the customer sees — text, the address bar — and what
//! the API then says.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

#[path = "browser/driver.rs"]
mod driver;

#[path = "support/mtn.rs"]
mod mtn;
#[path = "support/orange.rs"]
mod orange;
#[path = "support/stripe/mod.rs"]
mod stripe;
#[path = "support/wave.rs"]
mod wave;

use std::time::Duration;

use serde_json::{Value, json};

use driver::{
    click, find, horizontal_overflow, plain, present, screenshot, submit, text, type_into, value,
    viewport_width, wait_text, wait_url, with_browser,
};
use helpers::{Backend, TestApp, id_of, session_body, spawn_app, spawn_app_with};

const ALIAS: &str = "111c3e1b-4312-49ec-b75e-4c8c74c10fd7";

async fn app() -> TestApp {
    spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite is always there")
}

/// A session the customer may change: quantity and coupon.
fn adjustable() -> Value {
    let mut body = session_body();
    body["allow_quantity"] = json!(true);
    body["allow_coupon_code"] = json!(true);
    body
}

/// Success and cancel URLs on the test server itself, so the browser lands on a real page:
/// `/healthz` answers `ok` whatever the query.
fn local_redirects(app: &TestApp, mut body: Value) -> Value {
    body["success_url"] = json!(app.url("/healthz?paid={CHECKOUT_SESSION_ID}"));
    body["cancel_url"] = json!(app.url("/healthz?cancelled={CHECKOUT_SESSION_ID}"));
    body
}

fn page(app: &TestApp, id: &str, lang: &str) -> String {
    app.url(&format!("/checkout/{id}?lang={lang}"))
}

const QUANTITY_BUTTON: &str = "form[action*='/quantity'] button[type=submit]";
const COUPON_BUTTON: &str = "form[action*='/coupon'] button[type=submit]";
const PAY_BUTTON: &str = "form[action*='/pay'] button.primary";

/// Picks Wave with a phone number and pays: the page then waits for the payment.
async fn pay_with_wave(client: &fantoccini::Client) {
    click(client, "input[name=provider][value=WAVE]").await;
    type_into(client, "#customer_phone", "+2250700000000").await;
    submit(client, PAY_BUTTON).await;
    wait_text(client, "#pay-heading", "Wave").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_changes_the_quantity() {
    let app = app().await;
    let s = app.session(&adjustable()).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        assert_eq!(text(&client, "h1").await, "Pagne wax");
        assert_eq!(text(&client, ".merchant").await, "Boutique Awa");
        assert_eq!(
            plain(&client.title().await.unwrap()),
            "Pagne wax · Boutique Awa"
        );
        assert!(text(&client, ".test-banner").await.starts_with("MODE TEST"));
        assert_eq!(text(&client, "[data-unit-price]").await, "10 000 F CFA");
        assert_eq!(text(&client, "[data-quantity]").await, "1");
        assert_eq!(text(&client, "[data-amount-total]").await, "10 000 F CFA");
        assert_eq!(text(&client, PAY_BUTTON).await, "Payer 10 000 F CFA");

        type_into(&client, "#quantity", "3").await;
        submit(&client, QUANTITY_BUTTON).await;
        wait_text(&client, "[data-quantity]", "3").await;
        assert_eq!(
            text(&client, "[data-amount-subtotal]").await,
            "30 000 F CFA"
        );
        assert_eq!(text(&client, "[data-amount-total]").await, "30 000 F CFA");
        assert_eq!(text(&client, PAY_BUTTON).await, "Payer 30 000 F CFA");
        let read = app.api_session(&id).await;
        assert_eq!(read["quantity"], 3);
        assert_eq!(read["amount_total"], 30000);

        for bad in ["0", "500"] {
            type_into(&client, "#quantity", bad).await;
            submit(&client, QUANTITY_BUTTON).await;
            wait_text(
                &client,
                "[data-error]",
                "Choisissez une quantité entière entre 1 et 99.",
            )
            .await;
            assert_eq!(
                value(&client, "#quantity").await,
                bad,
                "what was typed stays"
            );
            assert_eq!(text(&client, "[data-quantity]").await, "3", "after {bad}");
            assert_eq!(text(&client, "[data-amount-total]").await, "30 000 F CFA");
            let read = app.api_session(&id).await;
            assert_eq!(read["amount_total"], 30000, "after {bad}");
        }
    })
    .await;
}

/// Whether the radio button or checkbox `css` is checked.
async fn checked(client: &fantoccini::Client, css: &str) -> bool {
    find(client, css).await.prop("checked").await.unwrap() == Some("true".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_typed_preselects_its_network_and_is_kept_in_e164() {
    let app = app().await;
    caisse::core::organizations::set_country(&app.ctx, app.organization_id, "CI")
        .await
        .unwrap();
    let s = app.session(&session_body()).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        let mtn = "input[name=provider][value=MTN]";
        let orange = "input[name=provider][value=ORANGE]";
        assert!(!checked(&client, mtn).await && !checked(&client, orange).await);
        type_into(&client, "#customer_phone", "05 05 05 05 05").await;
        assert!(checked(&client, mtn).await, "+225 05 is MTN's network");
        type_into(&client, "#customer_phone", "+225 07 07 07 07 07").await;
        assert!(checked(&client, orange).await, "+225 07 is Orange's");
        // Once the customer picks a provider, typing no longer changes it.
        click(&client, mtn).await;
        type_into(&client, "#customer_phone", "07 07 07 07").await;
        assert!(checked(&client, mtn).await);
        submit(&client, PAY_BUTTON).await;
        wait_text(
            &client,
            "#phone-error",
            "Ce numéro ne peut pas être appelé : vérifiez ses chiffres.",
        )
        .await;
        assert_eq!(value(&client, "#customer_phone").await, "07 07 07 07");
        type_into(&client, "#customer_phone", "05 05 05 05 05").await;
        submit(&client, PAY_BUTTON).await;
        wait_text(&client, "#pay-heading", "MTN Mobile Money").await;
        let read = app.api_session(&id).await;
        assert_eq!(read["customer_phone"], "+2250505050505");
        assert_eq!(read["payment_provider"], "MTN");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_applies_and_removes_a_coupon() {
    let app = app().await;
    let res = app
        .post_json(
            "/v1/discount_coupons",
            &app.key,
            &json!({"code": "NOEL10", "discount_type": "percentage", "discount_percentage": 10}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let s = app.session(&adjustable()).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();

        type_into(&client, "#coupon", "FAUX").await;
        submit(&client, COUPON_BUTTON).await;
        wait_text(&client, "[data-error]", "Ce code promo n’existe pas.").await;
        assert!(!present(&client, "[data-amount-discount]").await);
        assert_eq!(text(&client, "[data-amount-total]").await, "10 000 F CFA");
        assert_eq!(text(&client, PAY_BUTTON).await, "Payer 10 000 F CFA");

        type_into(&client, "#coupon", "noel10").await;
        submit(&client, COUPON_BUTTON).await;
        wait_text(&client, "[data-amount-discount]", "−1 000 F CFA").await;
        assert_eq!(text(&client, ".discount dt").await, "Réduction NOEL10");
        assert_eq!(text(&client, ".applied").await, "Code NOEL10 appliqué");
        assert_eq!(text(&client, "[data-amount-total]").await, "9 000 F CFA");
        assert_eq!(text(&client, PAY_BUTTON).await, "Payer 9 000 F CFA");
        assert!(!present(&client, "[data-error]").await);
        let read = app.api_session(&id).await;
        assert_eq!(read["coupon_code"], "NOEL10");
        assert_eq!(read["amount_total"], 9000);

        submit(&client, COUPON_BUTTON).await;
        wait_text(&client, "[data-amount-total]", "10 000 F CFA").await;
        assert!(!present(&client, "[data-amount-discount]").await);
        assert!(present(&client, "#coupon").await, "the code field is back");
        assert_eq!(text(&client, PAY_BUTTON).await, "Payer 10 000 F CFA");
        let read = app.api_session(&id).await;
        assert_eq!(read["coupon_code"], Value::Null);
        assert_eq!(read["amount_total"], 10000);
    })
    .await;
}

/// A customer opens a shared payment link, types what they give, continues to their own
/// session and pays in the sandbox: they land on the merchant's success URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_link_leads_to_a_session_of_ones_own_and_to_the_success_url() {
    let app = app().await;
    let product: Value = app
        .post_json(
            "/v1/products",
            &app.key,
            &json!({"name": "Don pour l’école"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let price = app
        .post_json(
            "/v1/prices",
            &app.key,
            &json!({"product_id": product["product_id"], "currency_code": "XOF",
                    "pricing_model": "pay_what_you_want", "minimum_amount": 1000,
                    "is_default": true}),
        )
        .await;
    assert_eq!(price.status(), 201);
    let link: Value = app
        .post_json(
            "/v1/payment_links",
            &app.key,
            &json!({"link_type": "product", "product_id": product["product_id"],
                    "success_url": app.url("/healthz?paid={CHECKOUT_SESSION_ID}")}),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap().to_string();
    with_browser(move |client| async move {
        client.goto(&format!("{url}?lang=fr")).await.unwrap();
        assert_eq!(text(&client, "h1").await, "Don pour l’école");
        type_into(&client, "#amount", "500").await;
        submit(&client, "form button.primary").await;
        wait_text(
            &client,
            "#amount-error",
            "Indiquez un montant de 1 000 F CFA à 1 000 000 000 000 F CFA.",
        )
        .await;
        type_into(&client, "#amount", "2 500").await;
        submit(&client, "form button.primary").await;
        assert_eq!(text(&client, "[data-amount-total]").await, "2 500 F CFA");
        let session = client.current_url().await.unwrap();
        let id = session.path().trim_start_matches("/checkout/").to_string();
        pay_with_wave(&client).await;
        submit(&client, "[data-sandbox=success]").await;
        let landed = wait_url(
            &client,
            &app.url(&format!("/healthz?paid={id}")),
            driver::WAIT,
        )
        .await;
        assert_eq!(landed, app.url(&format!("/healthz?paid={id}")));
        let read = app.api_session(&id).await;
        assert_eq!(
            (
                read["status"].as_str(),
                read["payment_link_id"].as_str(),
                read["amount_total"].as_i64()
            ),
            (Some("completed"), link["link_id"].as_str(), Some(2500))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_payment_ends_on_the_success_url() {
    let app = app().await;
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();

        // Mobile money without a phone number is refused, with the customer's choice kept.
        click(&client, "input[name=provider][value=WAVE]").await;
        submit(&client, PAY_BUTTON).await;
        wait_text(
            &client,
            "[data-error]",
            "Ce moyen de paiement demande votre numéro de téléphone.",
        )
        .await;

        pay_with_wave(&client).await;
        assert_eq!(text(&client, ".waiting").await, "En attente de votre paiement…");
        assert_eq!(
            text(&client, "[data-sandbox=success]").await,
            "Simuler un paiement réussi"
        );

        submit(&client, "[data-sandbox=failure]").await;
        wait_text(
            &client,
            "[data-error]",
            "Le paiement a été refusé. Vous pouvez réessayer ou choisir un autre moyen de paiement.",
        )
        .await;
        assert_eq!(app.api_session(&id).await["status"], "open");

        // The declined attempt ended; trying again (the choice kept) is a new one.
        submit(&client, PAY_BUTTON).await;
        wait_text(&client, "#pay-heading", "Wave").await;
        submit(&client, "[data-sandbox=success]").await;
        let landed = wait_url(
            &client,
            &app.url(&format!("/healthz?paid={id}")),
            driver::WAIT,
        )
        .await;
        assert_eq!(landed, app.url(&format!("/healthz?paid={id}")));
        assert_eq!(text(&client, "body").await, "ok");
        let read = app.api_session(&id).await;
        assert_eq!(read["status"], "completed");
        assert_eq!(read["payment_provider"], "WAVE");

        // The page of a completed session sends the customer on again.
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        wait_url(&client, &app.url("/healthz?paid="), driver::WAIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_page_moves_on_by_itself_when_the_payment_arrives() {
    let app = app().await;
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        pay_with_wave(&client).await;

        let res = app
            .post_json(
                &format!("/v1/checkout_sessions/{id}/complete"),
                &app.key,
                &json!({"provider": "WAVE", "provider_reference": "wave-tx-1", "amount_paid": 10000}),
            )
            .await;
        assert_eq!(res.status(), 200);
        // Nothing is clicked: the page's script notices and goes on.
        wait_url(
            &client,
            &app.url(&format!("/healthz?paid={id}")),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(text(&client, "body").await, "ok");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_goes_back_to_the_merchant_and_leaves_the_session_open() {
    let app = app().await;
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        assert_eq!(
            text(&client, "a[data-cancel]").await,
            "Annuler et revenir au marchand"
        );
        click(&client, "a[data-cancel]").await;
        wait_url(
            &client,
            &app.url(&format!("/healthz?cancelled={id}")),
            driver::WAIT,
        )
        .await;
        assert_eq!(app.api_session(&id).await["status"], "open");

        // The customer can come back and pay.
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        assert_eq!(text(&client, PAY_BUTTON).await, "Payer 10 000 F CFA");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_says_so_and_links_back() {
    let app = app().await;
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    let res = app
        .delete(&format!("/v1/checkout_sessions/{id}"), &app.key)
        .await;
    assert_eq!(res.status(), 204);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        assert_eq!(text(&client, "h1").await, "Ce lien de paiement a expiré");
        assert!(
            text(&client, "[data-state=expired]")
                .await
                .contains("Le délai pour payer est dépassé. Aucun paiement n’a été pris.")
        );
        assert!(!present(&client, "form").await, "nothing to fill in");
        assert!(!present(&client, "button").await, "nothing to press");
        assert_eq!(
            text(&client, "a[data-cancel]").await,
            "Revenir au site du marchand"
        );
        click(&client, "a[data-cancel]").await;
        wait_url(
            &client,
            &app.url(&format!("/healthz?cancelled={id}")),
            driver::WAIT,
        )
        .await;
    })
    .await;
}

fn spi_session() -> Value {
    let mut body = session_body();
    body["qr_code_data"] = json!({"alias": ALIAS, "country": "CI", "reference": "ORDER-42"});
    body["is_spi"] = json!(true);
    body["allowed_providers"] = json!("SPI");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pi_spi_shows_the_qr_code_and_its_payload() {
    let app = app().await;
    let s = app.session(&spi_session()).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        let spi = find(&client, "input[name=provider][value=SPI]").await;
        assert!(
            spi.is_selected().await.unwrap(),
            "the only provider is chosen"
        );
        submit(&client, PAY_BUTTON).await;

        wait_text(&client, ".qr-title", "Scannez pour payer").await;
        let svg = find(&client, ".qr svg").await;
        assert!(svg.is_displayed().await.unwrap());
        let (_, _, width, height) = svg.rectangle().await.unwrap();
        assert!(width >= 150.0 && height >= 150.0, "{width}×{height}");
        let payload = value(&client, "#payload").await;
        assert!(payload.starts_with("000201"), "{payload}");
        assert!(payload.contains(ALIAS), "{payload}");
        assert_eq!(
            text(&client, "label[for=payload]").await,
            "Code de paiement (texte)"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_in_french_and_english_at_phone_and_desktop_widths() {
    let app = app().await;
    let mut body = adjustable();
    body["title"] = json!("Pagne wax hollandais, 6 yards, motif « Fleurs de mariage »");
    body["public_description"] =
        json!("Coton 100 %, imprimé à Abidjan.\nLivraison à Cocody sous 48 h.");
    let s = app.session(&body).await;
    let id = id_of(&s);
    let spi = id_of(&app.session(&spi_session()).await);
    with_browser(move |client| async move {
        for lang in ["fr", "en"] {
            client.goto(&page(&app, &id, lang)).await.unwrap();
            find(&client, PAY_BUTTON).await;
            for width in [360, 1280] {
                let path = screenshot(&client, width, &format!("checkout-{lang}-{width}")).await;
                assert!(std::fs::metadata(&path).unwrap().len() > 1000);
                assert_eq!(viewport_width(&client).await, i64::from(width));
                assert_eq!(
                    horizontal_overflow(&client).await,
                    0,
                    "nothing sticks out sideways at {width} px in {lang}"
                );
            }
        }
        // The narrowest phone the page promises to fit.
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        screenshot(&client, 320, "checkout-fr-320").await;
        assert_eq!(viewport_width(&client).await, 320);
        assert_eq!(horizontal_overflow(&client).await, 0, "at 320 px");

        // A refused coupon and the waiting state with its QR code, on a phone.
        client.set_window_size(360, 800).await.unwrap();
        type_into(&client, "#coupon", "FAUX").await;
        submit(&client, COUPON_BUTTON).await;
        find(&client, "[data-error]").await;
        screenshot(&client, 360, "checkout-fr-360-coupon-error").await;
        client.goto(&page(&app, &spi, "en")).await.unwrap();
        submit(&client, PAY_BUTTON).await;
        find(&client, ".qr svg").await;
        screenshot(&client, 360, "checkout-en-360-spi-waiting").await;
        assert_eq!(
            horizontal_overflow(&client).await,
            0,
            "the QR page at 360 px"
        );
    })
    .await;
}

/// A merchant's page on another origin: it frames the checkout named in its `?checkout=` query
/// and records every message it is told.
async fn merchant_page() -> (String, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    const HTML: &str = "<!doctype html><title>Merchant</title><iframe id=checkout width=400 \
        height=900></iframe><script>window.messages = []; \
        addEventListener('message', function (e) { window.messages.push({origin: e.origin, data: e.data}); }); \
        document.getElementById('checkout').src = new URLSearchParams(location.search).get('checkout');\
        </script>";
    let server = HttpServer::new(|| {
        App::new().route(
            "/shop",
            web::get().to(|| async { HttpResponse::Ok().content_type("text/html").body(HTML) }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind the merchant's page");
    let origin = format!("http://127.0.0.1:{}", server.addrs()[0].port());
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (origin, handle)
}

/// The messages the framed checkout posted to the merchant's page.
async fn messages(client: &fantoccini::Client) -> Vec<Value> {
    client
        .execute("return window.messages;", vec![])
        .await
        .expect("read the merchant page's messages")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn wait_message(client: &fantoccini::Client, event: &str) -> Value {
    for _ in 0..100 {
        if let Some(m) = messages(client)
            .await
            .into_iter()
            .find(|m| m["data"]["event"] == event)
        {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {event:?} message; got {:?}", messages(client).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_checkout_tells_the_merchants_page_what_happens() {
    let app = app().await;
    let (origin, merchant) = merchant_page().await;
    let org = caisse::core::organizations::create(
        &app.ctx,
        "Boutique encadrée",
        std::slice::from_ref(&origin),
        None,
    )
    .await
    .expect("an organization that allows the merchant's origin");
    let (_, key) = caisse::core::organizations::create_key(
        &app.ctx,
        org.id,
        caisse::domain::session::Environment::Test,
    )
    .await
    .expect("a key");
    let key = secrecy::ExposeSecret::expose_secret(&key).to_string();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = app
            .post_json(
                "/v1/checkout_sessions",
                &key,
                &local_redirects(&app, session_body()),
            )
            .await;
        assert_eq!(res.status(), 201);
        ids.push(id_of(&res.json().await.unwrap()));
    }
    let framed = |id: &str| {
        let checkout = app.url(&format!("/checkout/{id}?embedded=1&lang=fr"));
        let encoded: String = url::form_urlencoded::byte_serialize(checkout.as_bytes()).collect();
        format!("{origin}/shop?checkout={encoded}")
    };
    let (paid, cancelled) = (ids[0].clone(), ids[1].clone());
    let (paid_page, cancelled_page) = (framed(&paid), framed(&cancelled));
    with_browser(move |client| async move {
        client.goto(&paid_page).await.unwrap();
        let loaded = wait_message(&client, "loaded").await;
        assert_eq!(loaded["origin"], app.address.as_str());
        assert_eq!(
            loaded["data"],
            json!({"type": "caisse.checkout", "event": "loaded", "checkout_session_id": paid})
        );

        // Inside the frame: the compact layout; the customer picks a provider and pays.
        client.enter_frame(0).await.expect("enter the checkout's frame");
        assert!(present(&client, "body.embedded").await);
        pay_with_wave(&client).await;
        let res = app
            .post_json(
                &format!("/v1/checkout_sessions/{paid}/complete"),
                &key,
                &json!({"provider": "WAVE", "provider_reference": "wave-embedded", "amount_paid": 10000}),
            )
            .await;
        assert_eq!(res.status(), 200);
        client.enter_parent_frame().await.expect("back to the merchant's page");
        let completed = wait_message(&client, "completed").await;
        assert_eq!(completed["data"]["checkout_session_id"], paid.as_str());

        client.goto(&cancelled_page).await.unwrap();
        wait_message(&client, "loaded").await;
        client.enter_frame(0).await.expect("enter the checkout's frame");
        click(&client, "a[data-cancel]").await;
        client.enter_parent_frame().await.expect("back to the merchant's page");
        let gone = wait_message(&client, "cancelled").await;
        assert_eq!(gone["data"]["checkout_session_id"], cancelled.as_str());
    })
    .await;
    merchant.stop(false).await;
}

/// Paying with Wave as a customer does: the pay form leads to Wave's page (the local fake of
/// Wave's API serves it), the customer pays there, and Wave sends them back through caisse to
/// the merchant's success URL, the session completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_payment_goes_to_wave_and_back_to_the_merchant() {
    let fake = wave::FakeWave::start().await;
    fake.add_api_key("wave_sn_prod_browser", "Boutique Awa");
    let base = fake.base_url.clone();
    let app = spawn_app_with(Backend::Sqlite, move |s| s.wave_api_url = base)
        .await
        .expect("SQLite is always there");
    let res = app
        .put(
            "/v1/providers/wave",
            &app.key,
            &json!({"api_key": "wave_sn_prod_browser", "webhook_secret": "whs_browser"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    fake.add_webhook(
        "Boutique Awa",
        account["webhook_url"].as_str().unwrap(),
        "whs_browser",
        wave::WebhookAuth::Signature,
    );
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    let launch = format!("{}/c/", fake.base_url);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        click(&client, "input[name=provider][value=WAVE]").await;
        type_into(&client, "#customer_phone", "+221770000000").await;
        submit(&client, PAY_BUTTON).await;
        wait_url(&client, &launch, driver::WAIT).await;
        submit(&client, "#pay").await;
        let landed = wait_url(&client, &app.url("/healthz?paid="), driver::WAIT).await;
        assert_eq!(landed, app.url(&format!("/healthz?paid={id}")));
        let read = app.api_session(&id).await;
        assert_eq!(read["status"], "completed");
        assert_eq!(read["payment"]["status"], "succeeded");
        assert_eq!(read["payment_provider"], "WAVE");
    })
    .await;
}

/// Paying with Orange Money as a customer does: the pay form leads to Orange's payment page
/// (the local fake of Orange's API serves it), the customer pays there, Orange notifies caisse
/// (unsigned: caisse confirms with a status read) and sends the customer back through caisse to
/// the merchant's success URL, the session completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orange_money_payment_goes_to_orange_and_back_to_the_merchant() {
    let fake = orange::FakeOrange::start().await;
    fake.add_merchant("om_browser_client", "om_browser_secret", "e9afd305", "ci");
    let base = fake.base_url.clone();
    let app = spawn_app_with(Backend::Sqlite, move |s| s.orange_api_url = base)
        .await
        .expect("SQLite is always there");
    let res = app
        .put(
            "/v1/providers/orange",
            &app.key,
            &json!({"client_id": "om_browser_client", "client_secret": "om_browser_secret",
                    "merchant_key": "e9afd305", "country": "CI"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    let payment_page = format!("{}/payment/pay_token/", fake.base_url);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        click(&client, "input[name=provider][value=ORANGE]").await;
        type_into(&client, "#customer_phone", "+2250701020304").await;
        submit(&client, PAY_BUTTON).await;
        wait_url(&client, &payment_page, driver::WAIT).await;
        wait_text(&client, "#amount", "10000 OUV").await;
        submit(&client, "#pay").await;
        let landed = wait_url(&client, &app.url("/healthz?paid="), driver::WAIT).await;
        assert_eq!(landed, app.url(&format!("/healthz?paid={id}")));
        let read = app.api_session(&id).await;
        assert_eq!(read["status"], "completed");
        assert_eq!(read["payment"]["status"], "succeeded");
        assert_eq!(read["payment_provider"], "ORANGE");
    })
    .await;
    let notified = fake.notifications();
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].outcome, Ok(200));
}

/// Paying with MTN MoMo as a customer does: the customer picks MTN and types their number, the
/// page says what to approve on which phone and counts down the time left, the payer approves
/// (the local fake of MTN's API is told so), and the page goes to the merchant's success URL by
/// itself, the session completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mtn_momo_payment_is_approved_on_the_phone_and_the_page_moves_on() {
    let fake = mtn::FakeMtn::start().await;
    fake.add_user(
        "mtn_browser_sub",
        "mtn_browser_user",
        "mtn_browser_key",
        &["sandbox"],
    );
    let base = fake.base_url.clone();
    let app = spawn_app_with(Backend::Sqlite, move |s| s.mtn_api_url = base)
        .await
        .expect("SQLite is always there");
    let res = app
        .put(
            "/v1/providers/mtn",
            &app.key,
            &json!({"subscription_key": "mtn_browser_sub", "api_user": "mtn_browser_user",
                    "api_key": "mtn_browser_key", "target_environment": "sandbox"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "en")).await.unwrap();
        click(&client, "input[name=provider][value=MTN]").await;
        type_into(&client, "#customer_phone", "+2250501020304").await;
        submit(&client, PAY_BUTTON).await;
        wait_text(&client, "#pay-heading", "MTN Mobile Money").await;
        let said = text(&client, "[data-momo-instructions]").await;
        assert_eq!(
            said,
            "Approve CFA F 10,000 on +225 05 01 02 03 04 in the prompt on your phone."
        );
        assert!(
            text(&client, "[data-momo-no-prompt]")
                .await
                .starts_with("No prompt?")
        );
        let left = text(&client, "[data-remaining]").await;
        assert!(left.starts_with("4:5"), "{left}");
        // The script counts down.
        let deadline = std::time::Instant::now() + driver::WAIT;
        while text(&client, "[data-remaining]").await == left
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_ne!(text(&client, "[data-remaining]").await, left, "it ticks");
        let payments = app.payments(&id).await;
        let reference = payments[0]["payment_id"].as_str().unwrap().to_string();
        fake.approve(&reference).await.unwrap();
        let landed = wait_url(&client, &app.url("/healthz?paid="), driver::WAIT).await;
        assert_eq!(landed, app.url(&format!("/healthz?paid={id}")));
        let read = app.api_session(&id).await;
        assert_eq!(read["status"], "completed");
        assert_eq!(read["payment_provider"], "MTN");
        assert_eq!(fake.callbacks().len(), 1);
    })
    .await;
}

/// An MTN MoMo request the payer declines: the waiting page learns it by itself and says why,
/// and MTN can be chosen again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_mtn_momo_request_is_told_on_the_page_by_itself() {
    let fake = mtn::FakeMtn::start().await;
    fake.add_user(
        "mtn_browser_sub",
        "mtn_browser_user",
        "mtn_browser_key",
        &["sandbox"],
    );
    let base = fake.base_url.clone();
    let app = spawn_app_with(Backend::Sqlite, move |s| s.mtn_api_url = base)
        .await
        .expect("SQLite is always there");
    let res = app
        .put(
            "/v1/providers/mtn",
            &app.key,
            &json!({"subscription_key": "mtn_browser_sub", "api_user": "mtn_browser_user",
                    "api_key": "mtn_browser_key", "target_environment": "sandbox"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let id = id_of(&app.session(&local_redirects(&app, session_body())).await);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        click(&client, "input[name=provider][value=MTN]").await;
        type_into(&client, "#customer_phone", "+2250501020304").await;
        submit(&client, PAY_BUTTON).await;
        find(&client, "[data-momo-instructions]").await;
        let reference = app.payments(&id).await[0]["payment_id"]
            .as_str()
            .unwrap()
            .to_string();
        fake.decline(&reference, "APPROVAL_REJECTED").await.unwrap();
        wait_text(
            &client,
            "#payment-errors [data-error]",
            "Le paiement a été refusé sur le téléphone. Vous pouvez réessayer ou choisir un autre moyen de paiement.",
        )
        .await;
        assert!(present(&client, "input[name=provider][value=MTN]").await);
        let at = client.current_url().await.unwrap().to_string();
        assert!(at.starts_with(&app.url(&format!("/checkout/{id}"))), "{at}");
        assert!(!at.contains("/pay"), "{at}");
    })
    .await;
}

/// Paying by card as a customer does: the pay form leads to Stripe's hosted Checkout page (the
/// local fake of Stripe's API serves it), the customer pays there, Stripe signs its event to
/// caisse and sends the customer back through caisse to the merchant's success URL, the session
/// completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_payment_goes_to_stripe_and_back_to_the_merchant() {
    let fake = stripe::FakeStripe::start().await;
    fake.add_account("sk_test_browser");
    let base = fake.base_url.clone();
    let app = spawn_app_with(Backend::Sqlite, move |s| s.stripe_api_url = base)
        .await
        .expect("SQLite is always there");
    let res = app
        .put(
            "/v1/providers/stripe",
            &app.key,
            &json!({"secret_key": "sk_test_browser", "webhook_secret": "whsec_browser"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let account: Value = res.json().await.unwrap();
    fake.add_webhook(
        "sk_test_browser",
        account["webhook_url"].as_str().unwrap(),
        "whsec_browser",
    );
    let s = app.session(&local_redirects(&app, session_body())).await;
    let id = id_of(&s);
    let checkout = format!("{}/c/pay/", fake.base_url);
    with_browser(move |client| async move {
        client.goto(&page(&app, &id, "fr")).await.unwrap();
        click(&client, "input[name=provider][value=CARD]").await;
        submit(&client, PAY_BUTTON).await;
        wait_url(&client, &checkout, driver::WAIT).await;
        wait_text(&client, "#amount", "10000 XOF").await;
        submit(&client, "#pay").await;
        let landed = wait_url(&client, &app.url("/healthz?paid="), driver::WAIT).await;
        assert_eq!(landed, app.url(&format!("/healthz?paid={id}")));
        let read = app.api_session(&id).await;
        assert_eq!(read["status"], "completed");
        assert_eq!(read["payment"]["status"], "succeeded");
        assert_eq!(read["payment_provider"], "CARD");
    })
    .await;
    let delivered = fake.deliveries();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].outcome, Ok(200));
}
