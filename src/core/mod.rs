//! The operations the merchant API and the hosted page share, over the store. Handlers stay
//! thin: they parse HTTP, call one function here, and render its result.

pub mod attempts;
pub mod catalog;
pub mod checkout;
pub mod coupons;
pub mod input;
pub mod limits;
pub mod notifications;
pub mod organizations;
pub mod payment_links;
pub mod payments;
pub mod providers;
pub mod sessions;
pub mod webhooks;

use crate::domain::fields::FieldError;
use crate::store::StoreError;

/// Why an operation did not happen, in terms the HTTP layer maps to a status once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// Every field at fault, each with why.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Sealed secrets that do not open with the master key: another key sealed them, or they
    /// were changed. A fault of the deployment, never of the caller.
    #[error("{0}")]
    Sealed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Error {
        Error::Invalid(vec![FieldError::new(field, message)])
    }
}

pub type Result<T> = std::result::Result<T, Error>;

use std::sync::Arc;

use uuid::Uuid;

use crate::config::Settings;
use crate::domain::csrf::CsrfKey;
use crate::domain::sealed::MasterKey;
use crate::domain::session::Environment;
use crate::qr::QrRenderer;
use crate::store::Store;

/// What every operation runs against: the store, the settings, and what is shared by all
/// requests.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// The public base URL, without a trailing slash.
    pub public_url: Arc<str>,
    /// The key of the page's CSRF tokens, the same on every node.
    pub csrf_key: Arc<CsrfKey>,
    /// Rendered QR codes, cached by payload.
    pub qr: Arc<QrRenderer>,
    /// The payment providers caisse calls.
    pub adapters: Arc<crate::adapters::Registry>,
    /// The operator's key, which seals provider credentials at rest.
    pub master_key: Arc<MasterKey>,
    /// How much a caller can make caisse do (see [`limits`]).
    pub limits: Arc<limits::Limits>,
}

/// What the first node to start seals with its master key, so that every later start, on any
/// node, can tell whether it holds the same key before it seals or opens anything.
const KEY_CHECK: (&str, &[u8], &[u8]) = ("master_key_check", b"caisse", b"master key check");

impl Context {
    /// The context of a server or a command, with the operator's `master_key`: refused when it
    /// is not the key this database's secrets are sealed with.
    pub async fn load(store: Store, settings: Settings, master_key: MasterKey) -> Result<Context> {
        let csrf_key = store.server_secret("csrf").await?;
        let adapters = Arc::new(crate::adapters::Registry::new(&settings));
        if !holds_the_key(&store, &master_key).await? {
            return Err(Error::Sealed(
                "the master key is not the one this database's provider credentials are sealed \
                 with: start caisse with that key (every node needs the same \
                 CAISSE_MASTER_KEY or key file); if it is lost, see `caisse master-key reset`"
                    .into(),
            ));
        }
        Ok(Context {
            limits: Arc::new(limits::Limits::new(settings.api_rate_limit)),
            adapters,
            store,
            public_url: settings.public_url().into(),
            settings: Arc::new(settings),
            csrf_key: Arc::new(CsrfKey::new(&csrf_key)),
            qr: Arc::new(QrRenderer::default()),
            master_key: Arc::new(master_key),
        })
    }
}

/// Whether `master_key` is the key this database's secrets are sealed with (the first key it
/// saw, when it has seen none).
async fn holds_the_key(store: &Store, master_key: &MasterKey) -> Result<bool> {
    let (name, plain, aad) = KEY_CHECK;
    let sealed = store
        .server_value(name, master_key.seal(plain, aad).as_bytes())
        .await?;
    Ok(std::str::from_utf8(&sealed)
        .ok()
        .and_then(|sealed| master_key.open(sealed, aad).ok())
        .is_some())
}

/// For an operator who lost the master key: `master_key` becomes the database's, and every
/// provider account's credentials — sealed with the lost key, and unreadable without it — are
/// forgotten, in one transaction. Each account is disabled and keeps its id (so its webhook
/// URL) until its merchant sets its credentials again. A payment under way through one is read
/// again once they do. `None`, changing nothing, when `master_key` already is the database's;
/// else how many accounts lost their credentials.
pub async fn reset_master_key(store: &Store, master_key: &MasterKey) -> Result<Option<u64>> {
    if holds_the_key(store, master_key).await? {
        return Ok(None);
    }
    let (name, plain, aad) = KEY_CHECK;
    let check = master_key.seal(plain, aad);
    Ok(Some(
        store
            .forget_credentials(name, check.as_bytes(), crate::domain::time::now())
            .await?,
    ))
}

/// Whether the store can serve, for `/readyz`: it answers, and takes writes.
pub async fn ready(ctx: &Context) -> Result<()> {
    Ok(ctx.store.ping().await?)
}

/// Who is acting: the organization and environment of an API key, or the operator at the
/// command line acting for an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub organization_id: Uuid,
    pub environment: Environment,
    /// The API key used; `None` for the operator's command line.
    pub key_id: Option<Uuid>,
}

impl Caller {
    /// What `created_by` records: the key's id, or `cli`.
    pub fn actor(&self) -> String {
        self.key_id
            .map_or_else(|| "cli".to_string(), |k| k.to_string())
    }

    /// Whether a record of `organization_id` in `environment` is the caller's. Any other is not
    /// found to it, so ids of other merchants cannot even be confirmed to exist.
    pub fn owns(&self, organization_id: Uuid, environment: &str) -> bool {
        organization_id == self.organization_id && environment == self.environment.as_str()
    }
}
