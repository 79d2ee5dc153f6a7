//! `GET /checkout/{id}`: the checkout page in whatever state its session is (open, completed,
//! expired), and `/cancel`, back to the merchant. The forms on the page are in [`super::forms`].

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get};
use askama::Template;
use uuid::Uuid;

use super::assets::Assets;
use super::details::{self, DetailsView, ProviderOption};
use super::{PageRequest, html, not_found, render_page, see_other, session_id, store_failed};
use crate::core::checkout::{self, PaymentForm};
use crate::core::{Context, organizations, sessions};
use crate::domain::money;
use crate::domain::phone::Country;
use crate::domain::provider::Provider;
use crate::domain::session::{CheckoutSession, Environment, Status, redirect_url};
use crate::web::html::Plain;
use crate::web::i18n::{Lang, Messages, Text, fill};
use crate::web::security::{self, PagePolicy};

pub struct DiscountView<'a> {
    pub code: &'a str,
    pub amount: Plain<String>,
    pub applied: String,
}

pub struct QrView<'a> {
    pub svg: std::sync::Arc<str>,
    pub payload: &'a str,
}

/// The page in another language, for the language switch: one per row of the languages'
/// table. Its URL is already escaped (an embedded page's links have a `&amp;`).
pub struct LangLink {
    pub code: Plain<&'static str>,
    pub name: Plain<&'static str>,
    pub href: Plain<String>,
    pub current: bool,
}

/// The checkout page. What caisse builds itself (ids, URLs, tokens, amounts, messages) is
/// [`Plain`] or catalog [`Text`] and printed as it is; what a merchant or a customer wrote
/// (`&str` and `String` fields) is escaped.
#[derive(Template)]
#[template(path = "checkout.html")]
pub struct CheckoutPage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
    session_id: Plain<Uuid>,
    /// The shop's name and the session's title, escaped once: each is printed twice.
    organization: Plain<String>,
    title: Plain<String>,
    description: Option<&'a str>,
    test_mode: bool,
    embedded: bool,
    pos: bool,
    /// The organization's allowed origins, separated by spaces, for the embedded page's script.
    origins: &'a str,
    unit_price: Plain<String>,
    quantity: i64,
    subtotal: Plain<String>,
    discount: Option<DiscountView<'a>>,
    total: Plain<String>,
    notices: Vec<String>,
    errors: Vec<String>,
    payment_errors: Vec<String>,
    /// The phone number's problem, shown beside its field.
    phone_error: Option<String>,
    invalid: Invalid,
    allow_quantity: bool,
    max_quantity: i64,
    quantity_input: String,
    allow_coupon: bool,
    coupon_input: String,
    action_base: Plain<String>,
    qs: Plain<&'static str>,
    csrf: Plain<String>,
    waiting: bool,
    chosen_provider: Option<&'a Text>,
    /// The provider's page of the attempt under way, to go back to ("continue to Wave").
    continue_to: Option<(Plain<String>, String)>,
    /// Whether the attempt under way is the test sandbox's, which the page's buttons settle.
    sandbox: bool,
    /// An MTN MoMo request waiting for the payer's approval on the phone.
    momo: Option<super::payment::MomoPrompt>,
    qr: Option<QrView<'a>>,
    spi_account: Option<String>,
    free: bool,
    providers: Vec<ProviderOption<'a>>,
    details: DetailsView<'a>,
    pay_label: Plain<String>,
    cancel_url: Option<Plain<String>>,
    status_url: Plain<String>,
    lang_links: Vec<LangLink>,
}

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredPage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
    organization: &'a str,
    embedded: bool,
    back_url: Option<String>,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
    organization: &'a str,
    embedded: bool,
    origins: &'a str,
    session_id: Plain<Uuid>,
    receipt_body: Plain<String>,
}

/// What the customer typed, kept when a form is refused so nothing has to be typed again, and
/// what was wrong with it.
#[derive(Default)]
pub struct FormState {
    pub quantity: Option<String>,
    pub coupon: Option<String>,
    pub details: Option<PaymentForm>,
    /// Problems of the order summary's forms (quantity, coupon) and of the page as a whole.
    pub errors: Vec<String>,
    /// Problems of the payment: details, provider, a declined payment.
    pub payment_errors: Vec<String>,
    /// The phone number's problem, also shown beside its field.
    pub phone_error: Option<String>,
    pub invalid: Invalid,
    pub notices: Vec<String>,
}

/// The fields to mark `aria-invalid`, pointing assistive technology to the message.
#[derive(Default, Clone, Copy)]
pub struct Invalid {
    pub quantity: bool,
    pub coupon: bool,
    pub name: bool,
    pub email: bool,
    pub phone: bool,
    pub provider: bool,
}

/// `CIC2344256727788288822` → `CIC2 •••• 8822`: enough to recognise, not enough to copy.
fn mask_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    if chars.len() <= 8 {
        return "••••".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head} •••• {tail}")
}

/// The origins of the success and cancel URLs, in a fixed array rather than a `Vec`: there
/// are at most two, and every view asks.
struct RedirectOrigins<'a> {
    origins: [Cow<'a, str>; 5],
    len: usize,
}

impl<'a> RedirectOrigins<'a> {
    /// The success and cancel URLs' origins, and up to three providers' (there are no more
    /// with a page to send customers to: Wave's, Orange's and Stripe's).
    fn of(
        session: &'a CheckoutSession,
        providers: impl Iterator<Item = &'a str>,
    ) -> RedirectOrigins<'a> {
        let mut found = RedirectOrigins {
            origins: [const { Cow::Borrowed("") }; 5],
            len: 0,
        };
        let urls = [&session.fields.success_url, &session.fields.cancel_url];
        let origins = urls
            .into_iter()
            .flatten()
            .filter_map(|u| security::origin_of(u))
            .chain(providers.take(3).map(Cow::Borrowed));
        for origin in origins {
            found.origins[found.len] = origin;
            found.len += 1;
        }
        found
    }

    fn as_slice(&self) -> &[Cow<'a, str>] {
        &self.origins[..self.len]
    }
}

/// Renders a session in whatever state it is: the checkout, the expired page, or — when there
/// is no success URL to send the customer to — the receipt.
pub async fn render(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    session: &CheckoutSession,
    mut form: FormState,
    status: StatusCode,
) -> HttpResponse {
    let page = PageRequest::from_request(req, Some(session.fields.currency));
    let t = page.t();
    let org = match organizations::get(ctx, session.organization_id).await {
        Ok(org) => org,
        Err(crate::core::Error::Store(e)) => {
            return store_failed(req, assets, &e, Some(session.id));
        }
        Err(_) => return not_found(req, assets),
    };
    let accounts = match checkout::accounts_for(ctx, session).await {
        Ok(accounts) => accounts,
        Err(crate::core::checkout::Problem::Store(e)) => {
            return store_failed(req, assets, &e, Some(session.id));
        }
        Err(_) => Vec::new(),
    };
    // The payment form may lead to the page of a provider the session offers (Wave's), and
    // nowhere else.
    let offered = checkout::offered_providers(session, &accounts);
    let provider_origins = offered
        .iter()
        .filter_map(|p| ctx.adapters.launch_origin(*p));
    let redirects = RedirectOrigins::of(session, provider_origins);
    let policy = PagePolicy {
        frame_ancestors: &org.allowed_origins,
        redirect_origins: redirects.as_slice(),
    };
    let locale = page.lang.locale();
    let currency = session.fields.currency;
    let fmt = |amount: i64| money::format(amount, currency, locale);
    let totals = session.totals();
    let mut cookies: Vec<_> = page.lang_cookie.clone().into_iter().collect();

    match session.status {
        Status::Expired => {
            let body = ExpiredPage {
                t,
                assets,
                organization: &org.name,
                embedded: page.embedded,
                back_url: session
                    .fields
                    .cancel_url
                    .as_deref()
                    .map(|u| redirect_url(u, session.id)),
            };
            return html(StatusCode::GONE, render_page(&body), &policy, cookies);
        }
        Status::Completed => {
            if let Some(url) = &session.fields.success_url {
                return see_other(&redirect_url(url, session.id), cookies);
            }
            let body = ReceiptPage {
                t,
                assets,
                organization: &org.name,
                embedded: page.embedded,
                origins: &org.allowed_origins,
                session_id: Plain::built(session.id),
                receipt_body: Plain::built(fill(
                    &t.receipt_body,
                    &[("amount", &fmt(totals.total))],
                )),
            };
            return html(StatusCode::OK, render_page(&body), &policy, cookies);
        }
        Status::Open => {}
    }

    let (browser_secret, csrf_cookie) =
        security::browser_secret(req, ctx.public_url.starts_with("https:"));
    cookies.extend(csrf_cookie);
    let csrf = Plain::built(ctx.csrf_key.token(&browser_secret, session.id));
    let chosen = session
        .payment_provider
        .as_deref()
        .and_then(|p| p.parse::<Provider>().ok())
        .filter(|p| offered.contains(p));
    let pos = session.fields.is_pos;
    let free = totals.total == 0;
    // A payment under way freezes the order: the page waits for it and offers no change.
    let pending = session.pending_payment_id.is_some();
    let waiting = pending && chosen.is_some() && !free;
    // The attempt under way, read only while there is one.
    let attempt = match session.pending_payment_id.filter(|_| waiting) {
        Some(id) => match ctx.store.payment(id).await {
            Ok(p) => p,
            Err(e) => return store_failed(req, assets, &e, Some(session.id)),
        },
        None => None,
    };
    if !pending && chosen == Some(Provider::Mtn) && form.payment_errors.is_empty() {
        match super::payment::momo_failed(ctx, t, session.id).await {
            Ok(words) => form.payment_errors.extend(words),
            Err(e) => return store_failed(req, assets, &e, Some(session.id)),
        }
    }
    let show_qr = pos || chosen == Some(Provider::Spi);
    let total = fmt(totals.total);
    let qr = match (&session.qr_payload, show_qr) {
        (Some(payload), true) => {
            let label = fill(&t.qr_alt, &[("amount", &total)]);
            match ctx.qr.svg(payload, &label) {
                Ok(svg) => Some(QrView { svg, payload }),
                Err(e) => {
                    tracing::error!(error = %e, "rendering a QR code failed");
                    None
                }
            }
        }
        _ => None,
    };
    // The country a number typed without its country code is read in, as far as the page
    // knows before a provider is chosen.
    let country = Country::of(org.country.as_deref()).or_else(|| {
        Country::of(
            session
                .fields
                .qr_code_data
                .as_ref()
                .and_then(|q| q.country_code()),
        )
    });
    let typed = form.details.as_ref();
    let details = details::details_view(session, typed, country);
    let providers = details::provider_options(t, session, &offered, typed, country);
    // The page's own URLs: a session id, fixed paths and a fixed query string. Joined by hand:
    // `format!` costs more than the rest of building them.
    let mut id = Uuid::encode_buffer();
    let base = ["/checkout/", session.id.hyphenated().encode_lower(&mut id)].concat();
    let lang_links = Lang::ALL
        .into_iter()
        .map(|lang| LangLink {
            code: Plain::built(lang.code()),
            name: Plain::built(lang.language().name),
            href: if page.embedded {
                Plain::escaped(&[&base, "?lang=", lang.code(), "&embedded=1"].concat())
            } else {
                Plain::built([&base, "?lang=", lang.code()].concat())
            },
            current: lang == page.lang,
        })
        .collect();
    let body = CheckoutPage {
        t,
        assets,
        session_id: Plain::built(session.id),
        organization: Plain::escaped(&org.name),
        title: Plain::escaped(&session.fields.title),
        description: session.fields.public_description.as_deref(),
        test_mode: session.environment == Environment::Test,
        embedded: page.embedded,
        pos,
        origins: &org.allowed_origins,
        unit_price: Plain::built(fmt(session.fields.amount)),
        quantity: session.fields.quantity,
        subtotal: Plain::built(fmt(totals.subtotal)),
        discount: session.coupon_code.as_deref().map(|code| DiscountView {
            code,
            amount: Plain::built(fmt(totals.discount)),
            applied: fill(&t.coupon_applied, &[("code", code)]),
        }),
        pay_label: Plain::built(fill(&t.pay, &[("amount", &total)])),
        total: Plain::built(total),
        notices: form.notices,
        errors: form.errors,
        payment_errors: form.payment_errors,
        phone_error: form.phone_error,
        invalid: form.invalid,
        allow_quantity: session.fields.allow_quantity && !pending,
        max_quantity: ctx.settings.max_quantity,
        quantity_input: form
            .quantity
            .unwrap_or_else(|| session.fields.quantity.to_string()),
        allow_coupon: session.fields.allow_coupon_code && !pending,
        coupon_input: form.coupon.unwrap_or_default(),
        qs: Plain::built(page.qs()),
        csrf,
        waiting,
        chosen_provider: chosen.map(|p| t.provider(p)),
        continue_to: attempt.as_ref().and_then(|a| {
            let url = a.redirect_url.clone()?;
            let name = t.provider(a.provider).to_string();
            let label = fill(&t.continue_to_provider, &[("provider", &name)]);
            Some((Plain::built(url), label))
        }),
        sandbox: test_mode_sandbox(session, attempt.as_ref()),
        momo: attempt.as_ref().and_then(|a| {
            super::payment::momo_prompt(t, session, a, &fmt(a.amount), chrono::Utc::now())
        }),
        qr,
        spi_account: session
            .fields
            .spi_account_number
            .as_deref()
            .map(mask_account),
        free,
        providers,
        details,
        cancel_url: session
            .fields
            .cancel_url
            .as_ref()
            .map(|_| Plain::built([&base, "/cancel", page.qs()].concat())),
        // A page waiting for an attempt names it, to be told when it ends.
        status_url: Plain::built(match &attempt {
            Some(a) => format!("{base}/status?payment={}", a.id),
            None => [&base, "/status"].concat(),
        }),
        lang_links,
        action_base: Plain::built(base),
    };
    html(status, render_page(&body), &policy, cookies)
}

/// The sandbox's buttons are for a test session's attempt that goes through no account (and
/// for a point-of-sale code, paid without choosing).
fn test_mode_sandbox(
    session: &CheckoutSession,
    attempt: Option<&crate::domain::payment::Payment>,
) -> bool {
    session.environment == crate::domain::session::Environment::Test
        && attempt.is_none_or(|a| a.account_id.is_none())
}

/// The session a page's path names, or the page to answer instead: not found for an unknown
/// or malformed id, "try again" when the database cannot be read (never "not found" for a
/// session that may well exist).
pub(super) async fn load(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    raw: &str,
) -> Result<Arc<CheckoutSession>, HttpResponse> {
    let Some(id) = session_id(raw) else {
        return Err(not_found(req, assets));
    };
    match sessions::current(ctx, id).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(not_found(req, assets)),
        Err(crate::core::Error::Store(e)) => Err(store_failed(req, assets, &e, Some(id))),
        Err(e) => {
            tracing::error!(error = %e, "loading a session failed");
            Err(not_found(req, assets))
        }
    }
}

/// The page. Its context, assets and id are borrowed from the request rather than extracted:
/// extractors clone an `Arc` each (reference counts that both workers' cores write on every
/// view) and copy the id, and this is the route customers load most.
#[get("/checkout/{id}")]
async fn show(req: HttpRequest) -> HttpResponse {
    let (Some(ctx), Some(assets)) = (
        req.app_data::<Data<Context>>(),
        req.app_data::<Data<Assets>>(),
    ) else {
        tracing::error!("the app is built without its context");
        return HttpResponse::InternalServerError().finish();
    };
    let id = req.match_info().get("id").unwrap_or_default();
    match load(ctx, assets, &req, id).await {
        Ok(session) => {
            render(
                ctx,
                assets,
                &req,
                &session,
                FormState::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(res) => res,
    }
}

/// `GET /checkout/{id}/cancel`: back to the merchant's `cancel_url`; the session stays open,
/// so the customer can come back to it.
#[get("/checkout/{id}/cancel")]
async fn cancel(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    id: Path<String>,
) -> HttpResponse {
    let session = match load(&ctx, &assets, &req, &id).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let page = PageRequest::from_request(&req, Some(session.fields.currency));
    match &session.fields.cancel_url {
        Some(url) => see_other(&redirect_url(url, session.id), page.lang_cookie),
        None => see_other(
            &format!("/checkout/{}{}", session.id, page.qs()),
            page.lang_cookie,
        ),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(cancel);
}
