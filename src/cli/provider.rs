//! `caisse provider set|list|remove`: what the API's `/v1/providers` does, for an operator.

use clap::Subcommand;

use caisse::core::input::Page;
use caisse::core::{Context, providers};
use caisse::domain::provider_account::{AccountProvider, ENABLED};

/// The provider codes, as the command line takes them.
fn provider_codes() -> clap::builder::PossibleValuesParser {
    AccountProvider::ALL.map(AccountProvider::code).into()
}

#[derive(Subcommand)]
pub enum ProviderAction {
    /// Set an organization's account with a provider and print it as the API shows it (its
    /// secrets as hints). Over an existing account, the credentials are replaced and its id and
    /// webhook URL kept.
    Set {
        #[command(flatten)]
        owner: crate::Owner,
        /// The provider.
        #[arg(value_parser = provider_codes())]
        provider: String,
        /// A credential field as NAME=VALUE, repeated for each: the provider's fields as the
        /// API names them (wave: api_key, webhook_secret, webhook_auth).
        #[arg(long = "field", value_name = "NAME=VALUE")]
        fields: Vec<String>,
        /// Set the account switched off: no payments are taken through it.
        #[arg(long)]
        disabled: bool,
    },
    /// Print an organization's accounts in one environment, as the API lists them.
    List {
        #[command(flatten)]
        owner: crate::Owner,
    },
    /// Remove an organization's account with a provider.
    Remove {
        #[command(flatten)]
        owner: crate::Owner,
        /// The provider.
        #[arg(value_parser = provider_codes())]
        provider: String,
    },
}

/// The body of `provider set`: each `--field NAME=VALUE`, and `enabled`. A field's value is
/// never repeated in an error: it may be a secret.
fn credential_fields(
    fields: &[String],
    disabled: bool,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut body = serde_json::Map::new();
    for field in fields {
        let Some((name, value)) = field.split_once('=') else {
            return Err("--field takes NAME=VALUE, e.g. --field api_key=…".into());
        };
        let name = name.trim();
        if name == ENABLED {
            return Err("--field enabled: use --disabled to switch an account off".into());
        }
        if body.insert(name.to_string(), value.into()).is_some() {
            return Err(format!("--field {name} is given twice"));
        }
    }
    body.insert(ENABLED.into(), (!disabled).into());
    Ok(body)
}

pub async fn run(ctx: &Context, action: ProviderAction) -> Result<(), Box<dyn std::error::Error>> {
    use serde_json::to_string_pretty as json;
    match action {
        ProviderAction::Set {
            owner,
            provider,
            fields,
            disabled,
        } => {
            let caller = owner.caller(ctx).await?;
            let body = credential_fields(&fields, disabled)?;
            let account = providers::set(ctx, &caller, &provider, &body).await?;
            println!("{}", json(&providers::view(&account, &ctx.public_url))?);
        }
        ProviderAction::List { owner } => {
            let caller = owner.caller(ctx).await?;
            let page = Page::whole(providers::list(ctx, &caller).await?);
            println!(
                "{}",
                json(&page.view(|a| providers::view(a, &ctx.public_url)))?
            );
        }
        ProviderAction::Remove { owner, provider } => {
            let caller = owner.caller(ctx).await?;
            providers::remove(ctx, &caller, &provider).await?;
            eprintln!(
                "Removed the {provider} account of organization {} ({}).",
                caller.organization_id, caller.environment
            );
        }
    }
    Ok(())
}
