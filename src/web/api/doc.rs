//! The OpenAPI document, derived from the handlers' `#[utoipa::path]` and the response types
//! themselves: a field added to a view is in the document, and in the request bodies when it is
//! writable, with nothing else to edit. The snapshot in `snapshots/` shows every change to it in
//! review (`cargo insta review`, or `INSTA_UPDATE=always cargo test openapi`, accepts one).
//!
//! Request bodies are not separate types: a create or update body is the resource's schema
//! without its read-only properties ([`writable`]), so the document cannot list a field the
//! parser refuses or miss one it reads. Tests tie those properties to the parser's own lists.
//!
//! Longer than most files, on purpose: every rule the document follows (its conventions, the
//! bodies, the shared responses and parameters) reads here in one place.

use std::borrow::Cow;
use std::sync::LazyLock;

use actix_web::{HttpResponse, get};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Ref, Schema, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use super::{checkout_sessions, discount_coupons, payment_links, products, providers, webhooks};
use crate::core::input::Pagination;
use crate::core::providers::AccountView;
use crate::core::webhooks::{self as webhook_endpoints, DeliveryView, EndpointView};
use crate::domain::catalog::{self, PriceView, ProductView};
use crate::domain::coupon::{self, CouponView};
use crate::domain::event::EventView;
use crate::domain::payment::PaymentView;
use crate::domain::payment_link::{self, LinkView};
use crate::domain::provider_account::{self, Absent, Kind, PROVIDERS};
use crate::domain::session::{self, SessionView};
use crate::web::error::ErrorBody;

/// What the resources' paths are nested under in the document: nothing, since the server URL
/// (`/v1`) carries the prefix. (utoipa refuses an empty literal here, a likely slip elsewhere.)
const NO_PREFIX: &str = "";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "caisse",
        description = "The merchant API of caisse, a self-hostable hosted checkout server \
            implementing the CheckoutSessions and DiscountCoupons resources of the lomi. payments \
            API, with payment completion and signed webhooks. Authenticate with the `X-API-KEY` \
            header; a key sees only its own organization's sessions, coupons, webhook \
            endpoints and provider accounts in its own environment (others are 404). Money is always an integer in the \
            currency's smallest unit. Times are RFC 3339 UTC. Every response carries \
            `X-Request-Id`; every error has the body `Error`. Webhook events are described by the \
            `WebhookEvent` schema and under `POST /webhooks`.",
    ),
    servers((url = "/v1")),
    security(("ApiKeyAuth" = [])),
    tags(
        (name = "CheckoutSessions", description = "Checkout sessions and their hosted pages."),
        (name = "DiscountCoupons", description = "Codes customers apply on the checkout page \
            for a percentage or a fixed amount off."),
        (name = "Catalog", description = "Products and their prices: a session made from a \
            price takes its amount, currency and title from it."),
        (name = "PaymentLinks", description = "Reusable links a merchant shares in a chat or \
            on a poster: each customer who opens one gets a checkout session of their own."),
        (name = "Webhooks", description = "Endpoints that receive signed \
            `checkout_session.completed` and `checkout_session.expired` events, and their \
            delivery log."),
        (name = "Providers", description = "The organization's accounts with payment \
            providers: the credentials caisse takes payments with, sealed at rest and never \
            shown again."),
        (name = "Meta", description = "This document."),
    ),
    nest(
        (path = NO_PREFIX, api = checkout_sessions::Api, tags = ["CheckoutSessions"]),
        (path = NO_PREFIX, api = discount_coupons::Api, tags = ["DiscountCoupons"]),
        (path = NO_PREFIX, api = products::Api, tags = ["Catalog"]),
        (path = NO_PREFIX, api = payment_links::Api, tags = ["PaymentLinks"]),
        (path = NO_PREFIX, api = webhooks::Api, tags = ["Webhooks"]),
        (path = NO_PREFIX, api = providers::Api, tags = ["Providers"]),
        (path = NO_PREFIX, api = Meta, tags = ["Meta"]),
    ),
    components(
        schemas(EventView),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            Unprocessable,
            PayloadTooLarge,
            Unavailable,
        ),
    ),
    modifiers(&Conventions),
)]
pub struct ApiDoc;

/// The document as served, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document is JSON")
});

/// This OpenAPI document
#[utoipa::path(
    operation_id = "getOpenApiDocument",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.",
        content_type = "application/json")),
)]
#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}

/// The document's own path.
#[derive(OpenApi)]
#[openapi(paths(document))]
struct Meta;

/// What holds for the whole document: the API key scheme, the answers every call of a kind may
/// give besides its own, and every property of a response view required (a view writes every
/// field, `null` when it is absent).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ApiKeyAuth",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-KEY",
                "A secret key made by the `caisse` CLI: `sk_test_…` or `sk_live_…`. Missing or \
                 wrong: 401.",
            ))),
        );
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_common_responses(operation);
            }
        }
        for (name, writable) in resources() {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&*name) {
                mark_read_only(object, &writable);
            }
        }
        let views = resources().map(|(name, _)| name);
        for name in views.into_iter().chain([EventView::name()]) {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&*name) {
                object.required = object.properties.keys().cloned().collect();
            }
        }
    }
}

/// Adds to a call the answers that hold for every call of its kind, as references to the
/// shared responses: a call the API key guards (every one that does not lift the document's
/// security) may find the key missing or wrong and the database unavailable; a call with a
/// body may find it unreadable, too large or at fault; a call whose path names a resource may
/// find none.
fn add_common_responses(operation: &mut Operation) {
    let guarded = operation.security.is_none();
    let with_body = operation.request_body.is_some();
    let naming = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let answers = [
        (guarded, "401", Unauthorized::response().0),
        (guarded, "503", Unavailable::response().0),
        (with_body, "400", BadRequest::response().0),
        (with_body, "413", PayloadTooLarge::response().0),
        (with_body, "422", Unprocessable::response().0),
        (naming, "404", NotFound::response().0),
    ];
    for (applies, status, name) in answers {
        if applies {
            operation
                .responses
                .responses
                .insert(status.into(), Ref::from_response_name(name).into());
        }
    }
}

/// The resources whose request bodies are their views: each schema's name and the fields a
/// body may set, the parser's own list. Every other property of the view is read-only.
fn resources() -> [(Cow<'static, str>, Vec<&'static str>); 6] {
    let mut session: Vec<&str> = session::WRITABLE.to_vec();
    // A create may propose the session's id; it never changes afterwards.
    session.push("checkout_session_id");
    [
        (SessionView::name(), session),
        (CouponView::name(), coupon::WRITABLE.to_vec()),
        (EndpointView::name(), webhook_endpoints::WRITABLE.to_vec()),
        (ProductView::name(), catalog::PRODUCT_WRITABLE.to_vec()),
        (PriceView::name(), catalog::PRICE_WRITABLE.to_vec()),
        (LinkView::name(), payment_link::WRITABLE.to_vec()),
    ]
}

/// Marks what a body may not set read-only. A property described beside a single inline schema
/// (which utoipa writes as a one-item `oneOf`) becomes that schema with the description, so the
/// mark has somewhere to go.
fn mark_read_only(object: &mut Object, writable: &[&str]) {
    for (name, property) in object.properties.iter_mut() {
        if let RefOr::T(Schema::OneOf(one)) = property
            && let [RefOr::T(Schema::Object(only))] = one.items.as_slice()
        {
            let mut only = only.clone();
            only.description = one.description.clone().or(only.description);
            *property = RefOr::T(Schema::Object(only));
        }
        if writable.contains(&name.as_str()) {
            continue;
        }
        match property {
            RefOr::T(Schema::Object(o)) => o.read_only = Some(true),
            // A nullable object (`oneOf: [null, $ref]`) has no field for it in utoipa's model;
            // OpenAPI 3.1 allows the keyword beside `oneOf`.
            RefOr::T(Schema::OneOf(one)) => {
                one.extensions
                    .get_or_insert_with(Default::default)
                    .insert("readOnly".into(), true.into());
            }
            _ => {}
        }
    }
}

/// Whether a property carries `readOnly: true`.
#[cfg(test)]
fn is_read_only(property: &RefOr<Schema>) -> bool {
    match property {
        RefOr::T(Schema::Object(o)) => o.read_only == Some(true),
        RefOr::T(Schema::OneOf(one)) => one
            .extensions
            .as_ref()
            .and_then(|e| e.get("readOnly"))
            .is_some_and(|v| v == &serde_json::Value::Bool(true)),
        _ => false,
    }
}

/// `view`'s schema with only the properties a body may set, requiring `required`: the body a
/// create or an update reads.
fn writable(view: RefOr<Schema>, fields: &[&str], description: &str, required: &[&str]) -> Object {
    let RefOr::T(Schema::Object(mut object)) = view else {
        unreachable!("a view is an object schema");
    };
    object
        .properties
        .retain(|k, _| fields.contains(&k.as_str()));
    mark_read_only(&mut object, fields);
    object.required = required.iter().map(ToString::to_string).collect();
    object.description = Some(description.to_string());
    object
}

macro_rules! body_schema {
    ($(#[$doc:meta])* $name:ident = $make:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let object: Object = $make;
                RefOr::T(Schema::Object(object))
            }
        }

        impl ToSchema for $name {}
    };
}

body_schema!(
    /// The body of a session create: every writable field, and the id a client may propose.
    CheckoutSessionCreate = writable(
        SessionView::schema(),
        &resources()[0].1,
        "The body of a create. Absent or null fields take their defaults.",
        &["amount", "currency_code", "title"],
    )
);

body_schema!(
    /// The body of a session update: any writable field, and `status` to expire it.
    CheckoutSessionUpdate = {
        let mut object = writable(
            SessionView::schema(),
            session::WRITABLE,
            "The body of an update: any writable field, each optional. Null sets a field back to \
             its default (or clears an optional one; null `amount`, `currency_code` or `title` \
             is 422).",
            &[],
        );
        object.properties.insert(
            "status".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["expired"]))
                .description(Some("Set to `expired` to end the session now."))
                .into(),
        );
        object
    }
);

body_schema!(
    /// The body of a coupon create.
    DiscountCouponCreate = writable(
        CouponView::schema(),
        coupon::WRITABLE,
        "The body of a create. Absent or null fields take their defaults.",
        &["code", "discount_type"],
    )
);

body_schema!(
    /// The body of a coupon update.
    DiscountCouponUpdate = writable(
        CouponView::schema(),
        coupon::WRITABLE,
        "The body of an update: any writable field, each optional. Null clears an optional \
         field (or sets `is_active` back to true); null `code` or `discount_type` is 422.",
        &[],
    )
);

body_schema!(
    /// The body of a product create.
    ProductCreate = writable(
        ProductView::schema(),
        catalog::PRODUCT_WRITABLE,
        "The body of a create. Absent or null fields take their defaults.",
        &["name"],
    )
);

body_schema!(
    /// The body of a product update.
    ProductUpdate = writable(
        ProductView::schema(),
        catalog::PRODUCT_WRITABLE,
        "The body of an update: any writable field, each optional. Null clears an optional \
         field; null `name` is 422.",
        &[],
    )
);

body_schema!(
    /// The body of a price create.
    PriceCreate = writable(
        PriceView::schema(),
        catalog::PRICE_WRITABLE,
        "The body of a create. Absent or null fields take their defaults.",
        &["product_id", "currency_code"],
    )
);

body_schema!(
    /// The body of a price update.
    PriceUpdate = writable(
        PriceView::schema(),
        catalog::PRICE_WRITABLE,
        "The body of an update: any writable field, each optional, checked with the stored ones \
         as a whole. `product_id` cannot change.",
        &[],
    )
);

body_schema!(
    /// The body of a payment link create.
    PaymentLinkCreate = writable(
        LinkView::schema(),
        payment_link::WRITABLE,
        "The body of a create. Absent or null fields take their defaults.",
        &[],
    )
);

body_schema!(
    /// The body of a payment link update.
    PaymentLinkUpdate = writable(
        LinkView::schema(),
        payment_link::WRITABLE,
        "The body of an update: any writable field, each optional, checked with the stored ones \
         as a whole.",
        &[],
    )
);

body_schema!(
    /// The body of a webhook endpoint's registration.
    WebhookEndpointCreate = writable(
        EndpointView::schema(),
        webhook_endpoints::WRITABLE,
        "The body of a create.",
        &["url"],
    )
);

/// The body of `PUT /providers/{provider}`: one object per provider, each from its row of
/// [`PROVIDERS`], so the document lists exactly the fields the parser reads.
pub struct ProviderAccountPut;

impl PartialSchema for ProviderAccountPut {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(
            "The provider's credential fields (the one object of the path's provider), and \
             `enabled`. Strings are trimmed; any other field is 422.",
        ));
        for spec in &PROVIDERS {
            let mut object = ObjectBuilder::new()
                .title(Some(format!("{} ({})", spec.name, spec.code)))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for field in spec.fields {
                let text = ObjectBuilder::new().schema_type(Type::String);
                let property = match field.kind {
                    Kind::Secret => text.min_length(Some(1)).max_length(Some(512)).description(
                        Some("A credential: stored sealed, shown afterwards as a hint of its last characters."),
                    ),
                    Kind::Setting => text
                        .min_length(Some(1))
                        .max_length(Some(512))
                        .description(Some("A setting, shown whole.")),
                    Kind::OneOf(options) => text
                        .enum_values(Some(options.iter().copied()))
                        .description(Some("A setting, shown whole.")),
                    Kind::Country => text.pattern(Some("^[A-Za-z]{2}$")).description(Some(
                        "A two-letter ISO 3166 country code (stored upper case), shown whole.",
                    )),
                };
                let property = match field.absent {
                    Absent::Default(value) => property.default(Some(value.into())),
                    Absent::Required | Absent::Omitted => property,
                };
                object = object.property(field.name, property);
                if field.absent == Absent::Required {
                    object = object.required(field.name);
                }
            }
            object = object.property(
                provider_account::ENABLED,
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .default(Some(true.into()))
                    .description(Some(
                        "Whether caisse may take payments through the account; absent or null \
                         is true.",
                    )),
            );
            one_of = one_of.item(object);
        }
        one_of.into()
    }
}

impl ToSchema for ProviderAccountPut {}

/// A page of a listing: `{"data": [<item>…], "pagination"}` (see [`crate::core::input::PageView`]).
macro_rules! list_schema {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .property("data", ArrayBuilder::new().items(Ref::from_schema_name(<$item>::name())))
                    .property("pagination", Ref::from_schema_name(Pagination::name()))
                    .required("data")
                    .required("pagination")
                    .into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$item>::name().into_owned(), <$item>::schema()));
                <$item>::schemas(schemas);
                schemas.push((Pagination::name().into_owned(), Pagination::schema()));
            }
        }
    };
}

list_schema!(
    /// A page of sessions.
    CheckoutSessionList of SessionView<'static>
);
list_schema!(
    /// A page of coupons.
    DiscountCouponList of CouponView<'static>
);
list_schema!(
    /// A page of products.
    ProductList of ProductView<'static>
);
list_schema!(
    /// A page of prices.
    PriceList of PriceView<'static>
);
list_schema!(
    /// A page of payment links.
    PaymentLinkList of LinkView<'static>
);
list_schema!(
    /// Every webhook endpoint, in one page.
    WebhookEndpointList of EndpointView<'static>
);
list_schema!(
    /// Every payment of a session, in one page.
    PaymentList of PaymentView<'static>
);
list_schema!(
    /// Every provider account, in one page.
    ProviderAccountList of AccountView<'static>
);
list_schema!(
    /// A page of an endpoint's deliveries.
    WebhookDeliveryList of DeliveryView<'static>
);

macro_rules! error_response {
    ($name:ident, $description:literal) => {
        #[derive(ToResponse)]
        #[response(description = $description)]
        #[allow(dead_code)]
        pub struct $name(ErrorBody<'static>);
    };
}

error_response!(
    BadRequest,
    "The body is not valid JSON (`malformed_json`, `details.reason` says why)."
);
error_response!(
    Unauthorized,
    "The `X-API-KEY` header is missing or not a valid key (`unauthorized`)."
);
error_response!(
    Forbidden,
    "The body names another organization than the key's (`forbidden`)."
);
error_response!(
    NotFound,
    "No such session, coupon, webhook endpoint, provider or provider account for this key's \
     organization and environment (`not_found`)."
);
error_response!(
    Conflict,
    "`checkout_session_id_taken`, `idempotency_key_reused`, `checkout_session_not_open`, \
     `coupon_code_taken`, `checkout_session_expired`, `checkout_session_completed`, \
     `coupon_used_up` or `too_many_webhooks`."
);
error_response!(
    Unprocessable,
    "A field or parameter breaks a rule (`invalid_request`); `details.errors` lists every \
     violation, each naming its field."
);
error_response!(
    PayloadTooLarge,
    "The body is larger than 64 KiB (`payload_too_large`)."
);
error_response!(
    Unavailable,
    "The database is unreachable or its disk is full (`unavailable`); nothing was changed. \
     `Retry-After` says when to try again."
);

/// Where a page of a listing starts and how long it is.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Paging {
    /// Page size, 1 to 100 (default 20); otherwise 422.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<i64>,
}

/// The order of a listing by creation time.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Sorting {
    // One line of the document: utoipa would keep a doc comment's line breaks.
    #[doc = "Order by creation time: `created_at:desc` (the default) or `created_at:asc` \
             (`-created_at` and `created_at` are accepted as aliases)."]
    #[param(example = "created_at:desc")]
    sort: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_document_matches_its_snapshot() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap();
        insta::assert_json_snapshot!("openapi", doc);
    }

    /// A view's properties are the parser's writable fields and its read-only ones, each marked
    /// as such in the document: a field added to a view and to neither list fails here.
    #[test]
    fn every_property_of_a_view_is_writable_or_read_only_by_the_parsers_lists() {
        let doc = ApiDoc::openapi();
        let schemas = &doc.components.as_ref().unwrap().schemas;
        let read_only_lists = [
            session::READ_ONLY,
            coupon::READ_ONLY,
            webhook_endpoints::READ_ONLY,
            catalog::PRODUCT_READ_ONLY,
            catalog::PRICE_READ_ONLY,
            payment_link::READ_ONLY,
        ];
        for ((name, writable), read_only) in resources().into_iter().zip(read_only_lists) {
            let Some(RefOr::T(Schema::Object(object))) = schemas.get(&*name) else {
                panic!("{name} is an object schema");
            };
            let marked: BTreeSet<&str> = object
                .properties
                .iter()
                .filter(|(_, p)| is_read_only(p))
                .map(|(k, _)| k.as_str())
                .collect();
            let all: BTreeSet<&str> = object.properties.keys().map(String::as_str).collect();
            assert_eq!(
                marked,
                read_only.iter().copied().collect(),
                "{name} read-only"
            );
            let expected: BTreeSet<&str> = writable.iter().chain(read_only).copied().collect();
            assert_eq!(all, expected, "{name} properties");
        }
    }
}
