//! The merchant API under `/v1`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use crate::core::Error;
use crate::domain::provider_account::AccountProvider;
use crate::web::error::ApiError;

/// A resource's handlers, listed once in the document's order: the routes `/v1` serves, and
/// `Api`, the operations [`doc::ApiDoc`] lists under the resource's tag.
macro_rules! resource {
    ($($handler:ident),+ $(,)?) => {
        pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
            cfg$(.service($handler))+;
        }

        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($handler),+))]
        pub struct Api;
    };
}

pub mod checkout_sessions;
pub mod discount_coupons;
pub mod doc;
pub mod payment_links;
pub mod products;
pub mod providers;
pub mod webhooks;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(doc::document)
        .configure(checkout_sessions::routes)
        .configure(discount_coupons::routes)
        .configure(products::routes)
        .configure(payment_links::routes)
        .configure(webhooks::routes)
        .configure(providers::routes);
}

/// What every handler answers: a response, or the error the API maps to its body.
type Response = Result<HttpResponse, ApiError>;

/// A resource's id in a path, as the handler extracts it (`Path<SessionId>`) and the document
/// describes it. The path gives text: [`SessionId::parse`] and the like read a malformed id as
/// naming no `$what`, so it is a 404 like an unknown one.
macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident { $param:ident } names $what:literal) => {
        #[derive(serde::Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            $(#[$doc])*
            #[param(value_type = Uuid)]
            $param: String,
        }

        impl $name {
            pub fn parse(&self) -> Result<Uuid, ApiError> {
                Uuid::parse_str(&self.$param).map_err(|_| Error::NotFound($what).into())
            }
        }
    };
}

path_id!(
    /// The `checkout_session_id`. A malformed id is 404, like an unknown one.
    SessionId { session_id } names "checkout session"
);
path_id!(
    /// The `coupon_id`. A malformed id is 404, like an unknown one.
    CouponId { coupon_id } names "discount coupon"
);
path_id!(
    /// The `product_id`. A malformed id is 404, like an unknown one.
    ProductId { product_id } names "product"
);
path_id!(
    /// The `price_id`. A malformed id is 404, like an unknown one.
    PriceId { price_id } names "price"
);
path_id!(
    /// The `link_id`. A malformed id is 404, like an unknown one.
    LinkId { link_id } names "payment link"
);
path_id!(
    /// The `webhook_id`. A malformed id is 404, like an unknown one.
    WebhookId { webhook_id } names "webhook endpoint"
);

/// The provider of one of the organization's accounts, in a path: its code, as given.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountOf {
    // One line of the document: utoipa would keep a doc comment's line breaks.
    #[doc = "The provider's code. An unknown code, or a provider the organization has no \
             account with in this environment, is 404."]
    #[param(inline, value_type = AccountProvider)]
    pub provider: String,
}
