//! The `caisse` command: the server (by default) and the operator's tools.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use serde_json::json;
use uuid::Uuid;

use caisse::config::Settings;
use caisse::core::{Caller, Context, organizations, sessions};
use caisse::domain::session::Environment;
use caisse::startup::{self, Application};

#[derive(Parser)]
#[command(
    name = "caisse",
    version,
    about = "A self-hostable hosted checkout server"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the checkout pages and the merchant API (the default).
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Organizations: the merchants that sell through caisse.
    Organization {
        #[command(subcommand)]
        action: OrganizationAction,
    },
    /// API keys of an organization.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Checkout sessions, for an operator without code.
    Session {
        #[command(subcommand)]
        action: SessionAction,
    },
    /// Discount coupons, for an operator without code.
    Coupon {
        #[command(subcommand)]
        action: CouponAction,
    },
    /// Products, for an operator without code.
    Product {
        #[command(subcommand)]
        action: cli::catalog::ProductAction,
    },
    /// Prices of products, for an operator without code.
    Price {
        #[command(subcommand)]
        action: cli::catalog::PriceAction,
    },
    /// Payment links, to share in a chat or print on a poster.
    Link {
        #[command(subcommand)]
        action: cli::catalog::LinkAction,
    },
    /// Provider accounts: the credentials an organization takes payments with, per environment.
    Provider {
        #[command(subcommand)]
        action: cli::provider::ProviderAction,
    },
    /// The master key that seals provider credentials.
    MasterKey {
        #[command(subcommand)]
        action: MasterKeyAction,
    },
}

#[derive(Subcommand)]
enum MasterKeyAction {
    /// The master key is lost: make the key now configured this database's, forgetting every
    /// provider account's credentials (sealed with the lost key, they cannot be read). Each
    /// account is disabled and keeps its id and webhook URL until its merchant sets its
    /// credentials again. Nothing changes when the configured key is already the database's.
    Reset {
        /// Required: every provider account's credentials are forgotten.
        #[arg(long, required = true)]
        forget_credentials: bool,
    },
}

/// The organization and environment an operator's command acts for.
#[derive(clap::Args)]
pub struct Owner {
    #[arg(long)]
    organization: Uuid,
    #[arg(long, default_value = "test", value_parser = ["test", "live"])]
    environment: String,
}

impl Owner {
    /// The operator, acting for the organization; it must exist, and one that does not is named.
    pub async fn caller(&self, ctx: &Context) -> Result<Caller, Box<dyn std::error::Error>> {
        let id = self.organization;
        match organizations::get(ctx, id).await {
            Ok(_) => Ok(Caller {
                organization_id: id,
                environment: self.environment.parse().unwrap_or(Environment::Test),
                key_id: None,
            }),
            Err(caisse::core::Error::NotFound(_)) => Err(format!("no organization {id}").into()),
            Err(e) => Err(e.into()),
        }
    }
}

#[derive(Subcommand)]
enum OrganizationAction {
    /// Create an organization and print its id.
    Create {
        /// The display name customers see on the checkout page.
        #[arg(long)]
        name: String,
        /// An origin allowed to embed the checkout in a frame (repeatable).
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        /// Where it sells (ISO 3166 code, e.g. CI): customers' phone numbers written as
        /// dialled there (07 07 07 07 07) are read in it.
        #[arg(long)]
        country: Option<String>,
    },
    /// Rename an organization: the name customers see on its checkout pages.
    Rename {
        #[arg(long)]
        organization: Uuid,
        #[arg(long)]
        name: String,
    },
    /// Change an organization's name or country (`--country ""` forgets the country).
    Update {
        #[arg(long)]
        organization: Uuid,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        country: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Create an API key; it is printed once and stored only as a hash.
    Create {
        #[command(flatten)]
        owner: Owner,
    },
    /// List an organization's keys in one environment: id, prefix, created_at, revoked_at
    /// (never a key: only their hashes are kept).
    List {
        #[command(flatten)]
        owner: Owner,
    },
    /// Revoke a key: every request with it is refused (401) from then on.
    Revoke {
        #[arg(long)]
        organization: Uuid,
        /// The key's id, as `caisse key list` shows it.
        #[arg(long)]
        key_id: Uuid,
    },
}

#[derive(Subcommand)]
enum SessionAction {
    /// Create a checkout session and print its URL.
    Create {
        #[command(flatten)]
        owner: Owner,
        /// Unit price in the currency's smallest unit (XOF: francs; USD/EUR: cents).
        #[arg(long)]
        amount: i64,
        #[arg(long, default_value = "XOF")]
        currency: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, default_value_t = 1)]
        quantity: i64,
        /// Let the customer change the quantity.
        #[arg(long)]
        allow_quantity: bool,
        /// Let the customer enter a coupon code.
        #[arg(long)]
        allow_coupon_code: bool,
        #[arg(long)]
        success_url: Option<String>,
        #[arg(long)]
        cancel_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum CouponAction {
    /// Create a discount coupon and print its id.
    #[command(group = clap::ArgGroup::new("discount").required(true).args(["percentage", "fixed_amount"]))]
    Create {
        #[command(flatten)]
        owner: Owner,
        /// The code customers type: 1 to 40 of A-Z, 0-9, - and _ (stored upper case).
        #[arg(long)]
        code: String,
        /// A percentage off the subtotal, above 0 and at most 100, with at most two decimals.
        #[arg(long)]
        percentage: Option<String>,
        /// An amount off in the currency's smallest unit (XOF: francs; USD/EUR: cents).
        #[arg(long, requires = "currency")]
        fixed_amount: Option<i64>,
        /// The currency the coupon applies in: required with --fixed-amount, optional otherwise.
        #[arg(long)]
        currency: Option<String>,
        /// How many completed sessions may use it (unlimited when absent).
        #[arg(long)]
        max_uses: Option<i64>,
        /// The largest session quantity it applies to.
        #[arg(long)]
        max_quantity_per_use: Option<i64>,
        /// RFC 3339, e.g. 2026-12-01T00:00:00Z (valid from now when absent).
        #[arg(long)]
        valid_from: Option<String>,
        /// RFC 3339 (never expires when absent).
        #[arg(long)]
        expires_at: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Create it switched off.
        #[arg(long)]
        inactive: bool,
    },
}

/// The fields of a `json!({…})` object, as the API reads them from a body.
fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    caisse::telemetry::init(&cli.settings.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("caisse: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let settings = cli.settings;
    let store = startup::open_store(&settings).await?;
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Serve = command {
        return serve(settings, store).await;
    }
    let master_key = startup::master_key(&settings)?;
    if let Command::MasterKey {
        action: MasterKeyAction::Reset { .. },
    } = command
    {
        match caisse::core::reset_master_key(&store, &master_key).await? {
            None => println!("the configured master key is already this database's"),
            Some(n) => {
                println!("the configured master key is now this database's");
                eprintln!(
                    "The credentials of {n} provider account(s) were forgotten and the accounts \
                     disabled: each merchant sets them again (PUT /v1/providers/{{code}})."
                );
            }
        }
        store.close().await;
        return Ok(());
    }
    let ctx = Context::load(store, settings, master_key).await?;
    match command {
        Command::Serve | Command::MasterKey { .. } => unreachable!("handled above"),
        Command::Migrate => println!("database is up to date"),
        Command::Organization {
            action:
                OrganizationAction::Create {
                    name,
                    allowed_origins,
                    country,
                },
        } => {
            let org =
                organizations::create(&ctx, &name, &allowed_origins, country.as_deref()).await?;
            println!("{}", org.id);
        }
        Command::Organization {
            action: OrganizationAction::Rename { organization, name },
        } => {
            organizations::rename(&ctx, organization, &name).await?;
            eprintln!("Renamed {organization}.");
        }
        Command::Organization {
            action:
                OrganizationAction::Update {
                    organization,
                    name,
                    country,
                },
        } => {
            if name.is_none() && country.is_none() {
                return Err("nothing to change: give --name or --country".into());
            }
            if let Some(name) = &name {
                organizations::rename(&ctx, organization, name).await?;
            }
            if let Some(country) = &country {
                organizations::set_country(&ctx, organization, country).await?;
            }
            eprintln!("Updated {organization}.");
        }
        Command::Key {
            action: KeyAction::List { owner },
        } => {
            let caller = owner.caller(&ctx).await?;
            let keys =
                organizations::keys(&ctx, caller.organization_id, caller.environment).await?;
            let listed: Vec<_> = keys
                .iter()
                .map(|k| {
                    json!({
                        "key_id": k.id, "environment": k.environment, "prefix": k.prefix,
                        "created_at": caisse::domain::time::rfc3339(&k.created_at),
                        "revoked_at": k.revoked_at.as_ref().map(caisse::domain::time::rfc3339),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&listed)?);
        }
        Command::Key {
            action:
                KeyAction::Revoke {
                    organization,
                    key_id,
                },
        } => {
            organizations::revoke_key(&ctx, organization, key_id).await?;
            eprintln!("Revoked {key_id}: requests with it are refused from now on.");
        }
        Command::Key {
            action: KeyAction::Create { owner },
        } => {
            let caller = owner.caller(&ctx).await?;
            let (_, key) =
                organizations::create_key(&ctx, caller.organization_id, caller.environment).await?;
            println!("{}", key.expose_secret());
            eprintln!("This key is shown once. Store it now; caisse keeps only its hash.");
        }
        Command::Session { action } => {
            let SessionAction::Create {
                owner,
                amount,
                currency,
                title,
                description,
                quantity,
                allow_quantity,
                allow_coupon_code,
                success_url,
                cancel_url,
            } = action;
            let caller = owner.caller(&ctx).await?;
            let body = json!({
                "amount": amount, "currency_code": currency, "title": title,
                "public_description": description, "quantity": quantity,
                "allow_quantity": allow_quantity, "allow_coupon_code": allow_coupon_code,
                "success_url": success_url, "cancel_url": cancel_url,
            });
            let session = sessions::create(&ctx, &caller, &object(body)).await?;
            println!("{}", session.url(&ctx.public_url));
        }
        Command::Coupon {
            action:
                CouponAction::Create {
                    owner,
                    code,
                    percentage,
                    fixed_amount,
                    currency,
                    max_uses,
                    max_quantity_per_use,
                    valid_from,
                    expires_at,
                    description,
                    inactive,
                },
        } => {
            let caller = owner.caller(&ctx).await?;
            // The percentage goes to the API's rules as the JSON number it reads as, so the
            // command line and the API accept exactly the same values.
            let percentage = percentage.map(|p| {
                serde_json::from_str::<serde_json::Value>(&p)
                    .unwrap_or(serde_json::Value::String(p))
            });
            let body = json!({
                "code": code,
                "discount_type": if percentage.is_some() { "percentage" } else { "fixed" },
                "discount_percentage": percentage, "discount_fixed_amount": fixed_amount,
                "currency_code": currency, "max_uses": max_uses,
                "max_quantity_per_use": max_quantity_per_use, "valid_from": valid_from,
                "expires_at": expires_at, "description": description, "is_active": !inactive,
            });
            let coupon = caisse::core::coupons::create(&ctx, &caller, &object(body)).await?;
            println!("{}", coupon.id);
        }
        Command::Product { action } => cli::catalog::product(&ctx, action).await?,
        Command::Price { action } => cli::catalog::price(&ctx, action).await?,
        Command::Link { action } => cli::catalog::link(&ctx, action).await?,
        Command::Provider { action } => cli::provider::run(&ctx, action).await?,
    }
    ctx.store.close().await;
    Ok(())
}

async fn serve(
    settings: Settings,
    store: caisse::store::Store,
) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(settings = ?settings, "starting");
    let first_run = store.count_organizations().await? == 0;
    let app = Application::build(settings, store).await?;
    if first_run {
        seed_demo(app.context()).await?;
    }
    println!("caisse is listening on {}", app.context().public_url);
    app.run_until_stopped().await?;
    Ok(())
}

/// On a new database: a demo organization, a test key and an open session, so the first thing a
/// newcomer sees is a checkout page.
async fn seed_demo(ctx: &Context) -> Result<(), Box<dyn std::error::Error>> {
    let org = organizations::create(ctx, "Boutique Démo", &[], Some("CI")).await?;
    let (key, plaintext) = organizations::create_key(ctx, org.id, Environment::Test).await?;
    let caller = Caller {
        organization_id: org.id,
        environment: Environment::Test,
        key_id: Some(key.id),
    };
    let body = json!({
        "amount": 5000, "currency_code": "XOF", "quantity": 2,
        "title": "Pagne wax — 6 yards",
        "public_description": "Tissu 100 % coton, motifs au choix.",
        "allow_quantity": true, "allow_coupon_code": true,
        "expires_at": caisse::domain::time::rfc3339(&(caisse::domain::time::now() + chrono::Duration::days(30))),
    });
    let session = sessions::create(ctx, &caller, &object(body)).await?;
    println!("New database: created the demo organization {}.", org.id);
    println!("Test API key (shown once): {}", plaintext.expose_secret());
    println!("Demo checkout: {}", session.url(&ctx.public_url));
    Ok(())
}
