//! The schema of both backends: one list of migrations, each file under
//! `migrations/sqlite/` and `migrations/postgres/` with the same version and name.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// A migration: its version (the number of its file), its name and its SQL.
pub(super) type MigrationFile = (i64, &'static str, &'static str);

/// The migrations of the backend whose folder under `migrations/` is `$dir`, from the one list of
/// them both backends have: each file is `<version, four digits>_<name, spaces as _>.sql`.
macro_rules! migrations {
    ($dir:literal) => {
        migrations!($dir;
            1 "init" "0001_init",
            2 "coupons" "0002_coupons",
            3 "checkout page" "0003_checkout_page",
            4 "webhooks" "0004_webhooks",
            5 "session changes" "0005_session_changes",
            6 "durability" "0006_durability",
            7 "payments" "0007_payments",
            8 "provider accounts" "0008_provider_accounts",
            9 "closing reads" "0009_closing_reads",
            10 "endpoint health" "0010_endpoint_health",
            11 "provider data" "0011_provider_data",
            12 "organization country" "0012_organization_country",
            13 "catalog" "0013_catalog",
            14 "payment links" "0014_payment_links",
        )
    };
    ($dir:literal; $($version:literal $name:literal $file:literal,)+) => {
        &[$((
            $version,
            $name,
            include_str!(concat!("../../migrations/", $dir, "/", $file, ".sql")),
        )),+]
    };
}

/// The schema of each backend, in the order the files are numbered.
pub(super) const SQLITE_MIGRATIONS: &[MigrationFile] = migrations!("sqlite");
pub(super) const POSTGRES_MIGRATIONS: &[MigrationFile] = migrations!("postgres");

pub(super) fn migrator(files: &[MigrationFile]) -> Migrator {
    let migrations = files
        .iter()
        .map(|&(version, name, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(name),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}
