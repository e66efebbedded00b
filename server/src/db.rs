//! The one connection pool, and the migrations that run before anything else touches the database.

use anyhow::{anyhow, Context};
use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

use crate::config::Config;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let shown = config.database_url_for_display();
    let options: sqlx::postgres::PgConnectOptions = config
        .database_url
        .expose_secret()
        .parse()
        .map_err(|e| anyhow!("DATABASE_URL ({shown}) is not a valid Postgres URL: {e}"))?;
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| anyhow!("cannot reach the database at {shown}: {}", describe(&e)))
}

/// A short reason without the driver's internals.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out after 5 s".into(),
        other => other.to_string(),
    }
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => anyhow!("{}", describe(&inner)),
            other => anyhow!("{other}"),
        })
        .context("database migration failed; the database was left as it was before the failing migration")
}
