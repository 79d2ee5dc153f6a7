//! Provider accounts: what an organization gives caisse to take payments through a provider in
//! one environment (the provider's credentials, sealed at rest with the master key), and what a
//! merchant may see of them afterwards.
//!
//! Each provider is one row of [`PROVIDERS`]: its code, its name, the session provider it pays
//! as, and its credential fields, each with how it is checked, shown and defaulted. The API's
//! body, its 422s, the hints, the OpenAPI schema and the command line all read that row.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::{Field, FieldError};
use super::provider::Provider;
use super::sealed::{MasterKey, OpenError};
use super::session::Environment;

/// The providers an organization can hold an account with; each has its row in [`PROVIDERS`],
/// at its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountProvider {
    Wave,
    Orange,
    Mtn,
    Stripe,
    Spi,
}

crate::api_string_enum!(AccountProvider, AccountProvider::ALL, |p| p.code());

/// How a credential field is checked and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A key, a secret, or an identifier that is half of one (a client id, an API user): 1 to
    /// 512 characters, shown only as its last few (see [`hint`]).
    Secret,
    /// A setting that picks one of these values; shown whole.
    OneOf(&'static [&'static str]),
    /// A two-letter ISO 3166-1 country code, stored upper case; shown whole.
    Country,
    /// A setting that says where, not who (MTN's target environment): 1 to 512 characters,
    /// shown whole.
    Setting,
}

/// What a field left out of a body (or null) becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    Required,
    /// The account has no value for it.
    Omitted,
    Default(&'static str),
}

/// One credential field of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialField {
    pub name: &'static str,
    pub kind: Kind,
    pub absent: Absent,
}

/// A provider's row.
#[derive(Debug)]
pub struct Spec {
    /// In URLs (`/v1/providers/wave`), the database and the command line.
    pub code: &'static str,
    /// For people: error messages and the API's documentation.
    pub name: &'static str,
    /// The payment method a checkout session offers through this account.
    pub pays_as: Provider,
    /// In the order the documentation and the hints list them.
    pub fields: &'static [CredentialField],
}

const fn secret(name: &'static str) -> CredentialField {
    CredentialField {
        name,
        kind: Kind::Secret,
        absent: Absent::Required,
    }
}

/// Every provider's row, in [`AccountProvider::ALL`]'s order (a unit test checks it).
pub const PROVIDERS: [Spec; 5] = [
    Spec {
        code: "wave",
        name: "Wave",
        pays_as: Provider::Wave,
        fields: &[
            secret("api_key"),
            secret("webhook_secret"),
            // How Wave authenticates its webhooks, as chosen in Wave's portal: a signature
            // (`Wave-Signature`) or the secret itself as a bearer token.
            CredentialField {
                name: "webhook_auth",
                kind: Kind::OneOf(&["signature", "bearer"]),
                absent: Absent::Default("signature"),
            },
        ],
    },
    Spec {
        code: "orange",
        name: "Orange Money",
        pays_as: Provider::Orange,
        fields: &[
            secret("client_id"),
            secret("client_secret"),
            secret("merchant_key"),
            CredentialField {
                name: "country",
                kind: Kind::Country,
                absent: Absent::Required,
            },
        ],
    },
    Spec {
        code: "mtn",
        name: "MTN MoMo",
        pays_as: Provider::Mtn,
        fields: &[
            secret("subscription_key"),
            secret("api_user"),
            secret("api_key"),
            CredentialField {
                name: "target_environment",
                kind: Kind::Setting,
                absent: Absent::Required,
            },
        ],
    },
    Spec {
        code: "stripe",
        name: "Stripe",
        pays_as: Provider::Card,
        fields: &[secret("secret_key"), secret("webhook_secret")],
    },
    Spec {
        code: "spi",
        name: "PI-SPI",
        pays_as: Provider::Spi,
        fields: &[
            secret("client_id"),
            secret("client_secret"),
            secret("payee_alias"),
            // Without it, caisse registers its webhook at PI-SPI and keeps the secret it is
            // given.
            CredentialField {
                name: "webhook_secret",
                kind: Kind::Secret,
                absent: Absent::Omitted,
            },
        ],
    },
];

/// The field of a body beside the credentials: whether the account may take payments.
pub const ENABLED: &str = "enabled";

/// The longest credential value accepted.
const MAX_LEN: usize = 512;

impl AccountProvider {
    pub const ALL: [AccountProvider; 5] = [
        AccountProvider::Wave,
        AccountProvider::Orange,
        AccountProvider::Mtn,
        AccountProvider::Stripe,
        AccountProvider::Spi,
    ];

    pub fn spec(self) -> &'static Spec {
        &PROVIDERS[self as usize]
    }

    /// The account that pays for what a customer chooses on the page (cards go through
    /// Stripe); none for a provider without accounts (Moov).
    pub fn of(provider: Provider) -> Option<AccountProvider> {
        AccountProvider::ALL
            .into_iter()
            .find(|a| a.spec().pays_as == provider)
    }

    pub fn code(self) -> &'static str {
        self.spec().code
    }

    pub fn fields(self) -> &'static [CredentialField] {
        self.spec().fields
    }

    fn field(self, name: &str) -> Option<&'static CredentialField> {
        self.fields().iter().find(|f| f.name == name)
    }
}

impl FromStr for AccountProvider {
    type Err = String;

    /// A code in any case: `wave`, `WAVE`.
    fn from_str(s: &str) -> Result<Self, String> {
        AccountProvider::from_code_in_any_case(s).ok_or_else(|| {
            let codes: Vec<&str> = AccountProvider::ALL.iter().map(|p| p.code()).collect();
            format!("unknown provider {s:?}: one of {}", codes.join(", "))
        })
    }
}

impl CredentialField {
    /// The value a body gives, checked.
    fn read(&self, f: Field<'_>) -> Result<String, FieldError> {
        match self.kind {
            // One token each, as providers issue them and as they go into HTTP headers and
            // URLs: printable ASCII without spaces, so a line break or a direction mark can
            // neither reach a request nor hide in a hint.
            Kind::Secret | Kind::Setting => f.text(MAX_LEN).and_then(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_graphic())
                    .then_some(s)
                    .ok_or_else(|| f.error("must be printable ASCII without spaces"))
            }),
            Kind::OneOf(options) => {
                let s = f.str()?.trim();
                options
                    .contains(&s)
                    .then(|| s.to_string())
                    .ok_or_else(|| f.error(format!("must be one of {}", options.join(", "))))
            }
            Kind::Country => {
                let s = f.str()?.trim();
                (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
                    .then(|| s.to_ascii_uppercase())
                    .ok_or_else(|| {
                        f.error("must be a two-letter ISO 3166 country code, such as CI or SN")
                    })
            }
        }
    }

    /// What a merchant may see of a value of this field.
    fn shown(&self, value: &str) -> String {
        match self.kind {
            Kind::Secret => hint(value),
            Kind::OneOf(_) | Kind::Country | Kind::Setting => value.to_string(),
        }
    }
}

/// What a merchant sees of a secret: "…" and its last characters, four of them, or fewer for a
/// short value, so that a hint never shows more than a quarter of what it stands for.
pub fn hint(secret: &str) -> String {
    let count = secret.chars().count();
    let shown = (count / 4).min(4);
    let tail: String = secret.chars().skip(count - shown).collect();
    format!("…{tail}")
}

/// A provider's credentials: each of its fields that has a value, in its row's order. Nothing
/// prints the values (`Debug` shows the field names only).
pub struct Credentials {
    provider: AccountProvider,
    values: Vec<(&'static str, SecretString)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, _) in &self.values {
            map.entry(name, &"***");
        }
        map.finish()
    }
}

impl Credentials {
    pub fn provider(&self) -> AccountProvider {
        self.provider
    }

    /// A field's value; `None` for an optional field the account has no value for.
    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value)
    }

    /// Each field and its value, for the code that calls the provider.
    pub fn into_fields(self) -> impl Iterator<Item = (String, SecretString)> {
        self.values
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
    }

    /// What a merchant may see of each field: a secret's [`hint`], a setting's value.
    pub fn hints(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .filter_map(|(name, value)| {
                let field = self.provider.field(name)?;
                Some((name.to_string(), field.shown(value.expose_secret())))
            })
            .collect()
    }

    /// The JSON object `{field: value}` that is sealed.
    fn plaintext(&self) -> SecretBox<Vec<u8>> {
        let object: BTreeMap<&str, &str> = self
            .values
            .iter()
            .map(|(name, value)| (*name, value.expose_secret()))
            .collect();
        SecretBox::new(Box::new(
            serde_json::to_vec(&object).expect("a map of strings is JSON"),
        ))
    }

    /// Credentials from their opened JSON. A field the provider no longer has is dropped.
    fn from_plaintext(provider: AccountProvider, plain: &[u8]) -> Result<Credentials, OpenError> {
        let mut object: BTreeMap<String, String> =
            serde_json::from_slice(plain).map_err(|_| OpenError::Malformed)?;
        let values = provider
            .fields()
            .iter()
            .filter_map(|f| Some((f.name, SecretString::from(object.remove(f.name)?))))
            .collect();
        Ok(Credentials { provider, values })
    }
}

/// An account as a merchant sets it: the provider's credentials, and whether it is enabled.
#[derive(Debug)]
pub struct AccountInput {
    pub credentials: Credentials,
    pub enabled: bool,
}

impl AccountInput {
    /// Reads a body of the provider's credential fields and [`ENABLED`] (default true), naming
    /// every fault: a field the provider does not have, one missing, one of the wrong type or
    /// form. Strings are trimmed.
    pub fn parse(
        provider: AccountProvider,
        body: &Map<String, Value>,
    ) -> Result<AccountInput, Vec<FieldError>> {
        let spec = provider.spec();
        let mut errors: Vec<FieldError> = body
            .keys()
            .filter(|k| k.as_str() != ENABLED && provider.field(k).is_none())
            .map(|k| {
                let names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
                FieldError::new(
                    k.as_str(),
                    format!(
                        "is not a credential of {} (its fields: {}, and {ENABLED})",
                        spec.name,
                        names.join(", ")
                    ),
                )
            })
            .collect();
        let enabled = match body.get(ENABLED).filter(|v| !v.is_null()) {
            None => true,
            Some(v) => Field::new(ENABLED, v).bool().unwrap_or_else(|e| {
                errors.push(e);
                true
            }),
        };
        let mut values = Vec::with_capacity(spec.fields.len());
        for field in spec.fields {
            let value = match (body.get(field.name).filter(|v| !v.is_null()), field.absent) {
                (Some(v), _) => field.read(Field::new(field.name, v)),
                (None, Absent::Default(value)) => Ok(value.to_string()),
                (None, Absent::Omitted) => continue,
                (None, Absent::Required) => Err(FieldError::new(field.name, "is required")),
            };
            match value {
                Ok(value) => values.push((field.name, SecretString::from(value))),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AccountInput {
            credentials: Credentials { provider, values },
            enabled,
        })
    }
}

/// A provider account as stored: its credentials sealed, their hints in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAccount {
    /// A UUID v4, in the URL the provider's webhooks reach; it outlives a change of credentials.
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: Environment,
    pub provider: AccountProvider,
    /// The credentials, sealed with the master key to this account's organization, environment
    /// and provider (`v1:…`, see [`super::sealed`]).
    pub sealed_credentials: String,
    /// What a merchant may see of each credential.
    pub hints: BTreeMap<String, String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProviderAccount {
    /// An account holding `input`, its credentials sealed with `key`. Written over an account
    /// that exists, it keeps that account's id and creation time.
    pub fn new(
        organization_id: Uuid,
        environment: Environment,
        input: &AccountInput,
        key: &MasterKey,
        now: DateTime<Utc>,
    ) -> ProviderAccount {
        let provider = input.credentials.provider;
        let sealed = key.seal(
            input.credentials.plaintext().expose_secret(),
            &associated_data(organization_id, environment, provider),
        );
        ProviderAccount {
            id: Uuid::new_v4(),
            organization_id,
            environment,
            provider,
            sealed_credentials: sealed,
            hints: input.credentials.hints(),
            enabled: input.enabled,
            created_at: now,
            updated_at: now,
        }
    }

    /// The credentials, opened with `key`: refused if another key sealed them, or if they were
    /// changed or belong to another account's row.
    pub fn open(&self, key: &MasterKey) -> Result<Credentials, OpenError> {
        let aad = associated_data(self.organization_id, self.environment, self.provider);
        let plain = key.open(&self.sealed_credentials, &aad)?;
        Credentials::from_plaintext(self.provider, plain.expose_secret())
    }

    /// Where the provider sends this account's webhooks, under the public URL.
    pub fn webhook_path(&self) -> String {
        format!("/providers/{}/{}", self.provider.code(), self.id)
    }
}

/// What binds sealed credentials to their row: a value moved to another organization,
/// environment or provider does not open there.
fn associated_data(
    organization_id: Uuid,
    environment: Environment,
    provider: AccountProvider,
) -> Vec<u8> {
    format!("caisse provider account\n{organization_id}\n{environment}\n{provider}").into_bytes()
}

#[cfg(test)]
mod tests;
