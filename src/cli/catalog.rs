//! `caisse product create` and `caisse price create`: the catalog for an operator without
//! code, through the same rules as the API's `/v1/products` and `/v1/prices`.

use clap::Subcommand;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use caisse::core::{Caller, Context, catalog};

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
