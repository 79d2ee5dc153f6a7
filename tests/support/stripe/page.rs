//! The fake's hosted Checkout page, `{base_url}/c/pay/{id}`, where the customer pays.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};

use super::{State, random};

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum How {
    /// A card: paid at once.
    Card,
    /// A delayed method (a bank debit): complete and unpaid until it settles.
    Async,
}

impl State {
    /// The customer pays session `id`; where they are sent next (`success_url`).
    pub(super) async fn pay(&self, id: &str, how: How) -> Result<String, String> {
        let (event, next) = {
            let mut inner = self.lock();
            let s = inner.session_mut(id).ok_or("no such session")?;
            match s.status {
                "open" => {}
                "expired" => return Err("this Checkout Session has expired".into()),
                _ => return Err("this Checkout Session is already complete".into()),
            }
            s.status = "complete";
            match how {
                How::Card => {
                    s.payment_status = "paid";
                    s.intent = Some((random("pi_test_"), "succeeded"));
                }
                How::Async => s.intent = Some((random("pi_test_"), "processing")),
            }
            let next = s.success_url.replace("{CHECKOUT_SESSION_ID}", &s.id);
            let s = s.clone();
            (
                inner.event("checkout.session.completed", &s, &self.base_url),
                next,
            )
        };
        self.dispatch(event).await;
        Ok(next)
    }
}

/// `GET /c/pay/{id}`.
pub(super) async fn checkout_page(id: web::Path<String>, state: web::Data<State>) -> HttpResponse {
    let shown = {
        let inner = state.lock();
        inner.sessions.iter().find(|s| s.id == *id).map(|s| {
            (
                s.status,
                s.amount_total,
                s.currency.to_ascii_uppercase(),
                s.name.clone(),
                s.cancel_url.clone(),
            )
        })
    };
    let Some((status, amount, currency, name, cancel)) = shown else {
        return page(404, "Stripe Checkout", "<p>Something went wrong.</p>");
    };
    let title = format!("Stripe Checkout — {}", escape(&name));
    match status {
        "open" => {
            let id = escape(&id);
            let cancel = cancel.map_or(String::new(), |c| {
                format!("<a id=\"cancel\" href=\"{}\">Back</a>", escape(&c))
            });
            page(
                200,
                &title,
                &format!(
                    "<p id=\"amount\">{amount} {currency}</p>\n\
                     <form method=\"post\" action=\"/c/pay/{id}/card\">\
                     <input id=\"card\" name=\"card\" value=\"4242 4242 4242 4242\">\
                     <button type=\"submit\" id=\"pay\">Pay</button></form>\n\
                     <form method=\"post\" action=\"/c/pay/{id}/async\">\
                     <button type=\"submit\" id=\"pay-async\">Pay by bank transfer</button>\
                     </form>\n{cancel}"
                ),
            )
        }
        "expired" => page(200, &title, "<p>This Checkout Session has expired.</p>"),
        _ => page(200, &title, "<p>This Checkout Session is complete.</p>"),
    }
}

/// `POST /c/pay/{id}/{card|async}`.
pub(super) async fn pay_page(
    path: web::Path<(String, String)>,
    state: web::Data<State>,
) -> HttpResponse {
    let (id, how) = path.into_inner();
    let how = match how.as_str() {
        "card" => How::Card,
        "async" => How::Async,
        _ => return page(404, "Stripe Checkout", "<p>Something went wrong.</p>"),
    };
    match state.pay(&id, how).await {
        Ok(next) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .finish(),
        Err(why) => page(409, "Stripe Checkout", &format!("<p>{}</p>", escape(&why))),
    }
}

fn page(status: u16, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap())
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title}</title></head>\n<body><main><h1>{title}</h1>\n{body}\n</main></body></html>\n"
        ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
