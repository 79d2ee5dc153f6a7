//! `caisse product create`, `caisse price create` and `caisse link create`: the catalog and
//! payment links for an operator without code, through the same rules as the API's
//! `/v1/products`, `/v1/prices` and `/v1/payment_links`.

use clap::Subcommand;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use caisse::core::{Caller, Context, catalog, payment_links};

#[derive(Subcommand)]
pub enum ProductAction {
    /// Create a product and print its id.
    Create {
        #[command(flatten)]
        owner: crate::Owner,
        /// What customers see as the title of what they pay for.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// An absolute https URL of its picture.
        #[arg(long)]
        image_url: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum PriceAction {
    /// Create a price of a product and print its id.
    Create {
        #[command(flatten)]
        owner: crate::Owner,
        #[arg(long)]
        product: Uuid,
        /// In the currency's smallest unit (XOF: francs; USD/EUR: cents). Required for a
        /// standard price; the amount suggested with --pay-what-you-want.
        #[arg(long)]
        amount: Option<i64>,
        #[arg(long)]
        currency: String,
        /// The customer chooses the amount, within --minimum and --maximum.
        #[arg(long)]
        pay_what_you_want: bool,
        #[arg(long, requires = "pay_what_you_want")]
        minimum: Option<i64>,
        #[arg(long, requires = "pay_what_you_want")]
        maximum: Option<i64>,
        /// The price sessions and links naming only the product use.
        #[arg(long)]
        default: bool,
    },
}

#[derive(Subcommand)]
pub enum LinkAction {
    /// Create a payment link and print its URL, then a WhatsApp link that shares it.
    Create {
        #[command(flatten)]
        owner: crate::Owner,
        /// Sell a product at its default price (a product link)…
        #[arg(long, conflicts_with_all = ["price", "amount", "currency"])]
        product: Option<Uuid>,
        /// …or at this price…
        #[arg(long, conflicts_with_all = ["amount", "currency"])]
        price: Option<Uuid>,
        /// …or this amount (an instant link, with --currency and --title).
        #[arg(long, requires = "currency")]
        amount: Option<i64>,
        #[arg(long)]
        currency: Option<String>,
        /// Required for an instant link; a product link's is the product's name unless given.
        #[arg(long)]
        title: Option<String>,
        /// Let customers change the quantity.
        #[arg(long)]
        allow_quantity: bool,
        #[arg(long)]
        success_url: Option<String>,
    },
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

pub async fn product(
    ctx: &Context,
    action: ProductAction,
) -> Result<(), Box<dyn std::error::Error>> {
    let ProductAction::Create {
        owner,
        name,
        description,
        image_url,
    } = action;
    let caller: Caller = owner.caller(ctx).await?;
    let body = json!({"name": name, "description": description, "image_url": image_url});
    let product = catalog::create_product(ctx, &caller, &object(body)).await?;
    println!("{}", product.id);
    Ok(())
}

pub async fn price(ctx: &Context, action: PriceAction) -> Result<(), Box<dyn std::error::Error>> {
    let PriceAction::Create {
        owner,
        product,
        amount,
        currency,
        pay_what_you_want,
        minimum,
        maximum,
        default,
    } = action;
    let caller: Caller = owner.caller(ctx).await?;
    let body = json!({
        "product_id": product, "amount": amount, "currency_code": currency,
        "pricing_model": if pay_what_you_want { "pay_what_you_want" } else { "standard" },
        "minimum_amount": minimum, "maximum_amount": maximum, "is_default": default,
    });
    let price = catalog::create_price(ctx, &caller, &object(body)).await?;
    println!("{}", price.id);
    Ok(())
}

pub async fn link(ctx: &Context, action: LinkAction) -> Result<(), Box<dyn std::error::Error>> {
    let LinkAction::Create {
        owner,
        product,
        price,
        amount,
        currency,
        title,
        allow_quantity,
        success_url,
    } = action;
    let caller: Caller = owner.caller(ctx).await?;
    let kind = if product.is_some() || price.is_some() {
        "product"
    } else {
        "instant"
    };
    let body = json!({
        "link_type": kind, "product_id": product, "price_id": price, "amount": amount,
        "currency_code": currency, "title": title, "allow_quantity": allow_quantity,
        "success_url": success_url,
    });
    let link = payment_links::create(ctx, &caller, &object(body)).await?;
    let view = link.view(&ctx.public_url);
    println!("{}", view.url);
    println!("{}", view.whatsapp_url);
    Ok(())
}
