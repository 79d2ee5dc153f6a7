//! `/v1/products` and `/v1/prices`: thin handlers over [`crate::core::catalog`]. Each handler's
//! `#[utoipa::path]` is its entry in the OpenAPI document.

use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::{HttpResponse, delete, get, patch, post};

use super::doc::{
    Paging, PriceCreate, PriceList, PriceUpdate, ProductCreate, ProductList, ProductUpdate,
    Sorting, Unprocessable,
};
use super::{PriceId, ProductId, Response};
use crate::core::catalog;
use crate::core::coupons::ListParams;
use crate::core::input::parse_object;
use crate::core::{Caller, Context};
use crate::domain::catalog::{Price, PriceView, Product, ProductView};

/// Create a product
///
/// A product of the key's organization and environment. Unknown fields are 422; read-only
/// fields may only repeat what the server sets.
#[utoipa::path(
    operation_id = "createProduct",
    request_body = ProductCreate,
    responses((status = 201, body = ProductView, description = "The created product.")),
)]
#[post("/products")]
pub async fn create_product(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let product = catalog::create_product(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(product.view()))
}

/// List products
///
/// The caller's products, newest first by default. Deleted products are not listed.
#[utoipa::path(
    operation_id = "listProducts",
    params(Paging, Sorting),
    responses(
        (status = 200, body = ProductList, description = "A page of products."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/products")]
pub async fn list_products(
    ctx: Data<Context>,
    caller: Caller,
    params: Query<ListParams>,
) -> Response {
    let page = catalog::list_products(&ctx, &caller, &params).await?;
    Ok(HttpResponse::Ok().json(page.view(Product::view)))
}

/// Retrieve a product
#[utoipa::path(
    operation_id = "retrieveProduct",
    params(ProductId),
    responses((status = 200, body = ProductView, description = "The product.")),
)]
#[get("/products/{product_id}")]
pub async fn retrieve_product(ctx: Data<Context>, caller: Caller, id: Path<ProductId>) -> Response {
    let product = catalog::product(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::Ok().json(product.view()))
}

/// Update a product
///
/// Lays the given fields over the stored ones and checks the result whole.
#[utoipa::path(
    operation_id = "updateProduct",
    params(ProductId),
    request_body = ProductUpdate,
    responses((status = 200, body = ProductView, description = "The updated product.")),
)]
#[patch("/products/{product_id}")]
pub async fn update_product(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<ProductId>,
    body: Bytes,
) -> Response {
    let product =
        catalog::update_product(&ctx, &caller, id.parse()?, &parse_object(&body)?).await?;
    Ok(HttpResponse::Ok().json(product.view()))
}

/// Delete a product
///
/// The product and its prices leave the API (404 from then on) and sell nothing more; their
/// records stay for the sessions that name them.
#[utoipa::path(
    operation_id = "deleteProduct",
    params(ProductId),
    responses((status = 204, description = "The product and its prices are deleted.")),
)]
#[delete("/products/{product_id}")]
pub async fn delete_product(ctx: Data<Context>, caller: Caller, id: Path<ProductId>) -> Response {
    catalog::delete_product(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create a price
///
/// A price of one of the organization's products in this environment (another's, or an unknown
/// one, is 422 naming `product_id`). Made the default, it takes the mark from the product's
/// previous default price.
#[utoipa::path(
    operation_id = "createPrice",
    request_body = PriceCreate,
    responses((status = 201, body = PriceView, description = "The created price.")),
)]
#[post("/prices")]
pub async fn create_price(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let price = catalog::create_price(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(price.view()))
}

/// List prices
///
/// The caller's prices, newest first by default. Deleted prices are not listed.
#[utoipa::path(
    operation_id = "listPrices",
    params(Paging, Sorting),
    responses(
        (status = 200, body = PriceList, description = "A page of prices."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/prices")]
pub async fn list_prices(
    ctx: Data<Context>,
    caller: Caller,
    params: Query<ListParams>,
) -> Response {
    let page = catalog::list_prices(&ctx, &caller, &params).await?;
    Ok(HttpResponse::Ok().json(page.view(Price::view)))
}

/// Retrieve a price
#[utoipa::path(
    operation_id = "retrievePrice",
    params(PriceId),
    responses((status = 200, body = PriceView, description = "The price.")),
)]
#[get("/prices/{price_id}")]
pub async fn retrieve_price(ctx: Data<Context>, caller: Caller, id: Path<PriceId>) -> Response {
    let price = catalog::price(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::Ok().json(price.view()))
}

/// Update a price
///
/// Lays the given fields over the stored ones and checks the result whole. Its `product_id`
/// cannot change. Sessions already made keep the amount they were made with.
#[utoipa::path(
    operation_id = "updatePrice",
    params(PriceId),
    request_body = PriceUpdate,
    responses((status = 200, body = PriceView, description = "The updated price.")),
)]
#[patch("/prices/{price_id}")]
pub async fn update_price(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<PriceId>,
    body: Bytes,
) -> Response {
    let price = catalog::update_price(&ctx, &caller, id.parse()?, &parse_object(&body)?).await?;
    Ok(HttpResponse::Ok().json(price.view()))
}

/// Delete a price
#[utoipa::path(
    operation_id = "deletePrice",
    params(PriceId),
    responses((status = 204, description = "The price is deleted.")),
)]
#[delete("/prices/{price_id}")]
pub async fn delete_price(ctx: Data<Context>, caller: Caller, id: Path<PriceId>) -> Response {
    catalog::delete_price(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

resource!(
    create_product,
    list_products,
    retrieve_product,
    update_product,
    delete_product,
    create_price,
    list_prices,
    retrieve_price,
    update_price,
    delete_price,
);
