//! The demo's TCO entries: each team's engineering time for this quarter and the last, and the
//! value three models delivered this quarter, as their leads would have entered them.

use rust_decimal::Decimal;
use sqlx::PgPool;

use app::audit::Actor;
use app::reports::{store, Quarter};

/// (team, hours this quarter, hours last quarter, loaded rate per hour)
const ENGINEERING: &[(&str, i64, i64, i64)] = &[
    ("Fraud Detection", 420, 380, 115),
    ("Search & Ranking", 610, 540, 120),
    ("Forecasting", 180, 240, 105),
    ("ML Platform", 520, 500, 125),
];

/// (model, value delivered this quarter, how it was estimated)
const VALUES: &[(&str, i64, &str)] = &[
    (
        "fraud-lgbm",
        410_000,
        "chargebacks avoided, from the fraud team's monthly review",
    ),
    (
        "recsys-two-tower",
        260_000,
        "incremental revenue in the A/B holdout",
    ),
    (
        "llm-chat-70b",
        90_000,
        "support tickets deflected at 6 USD each",
    ),
];

fn reason(error: app::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// Returns how many entries were made.
pub async fn load(pool: &PgPool) -> anyhow::Result<usize> {
    let actor = Actor::CommandLine;
    let this = Quarter::containing(app::clock::now());
    let mut entries = 0;
    for (team, now, before, rate) in ENGINEERING {
        let Ok(team_id) = app::teams::store::id_by_name(pool, team).await else {
            continue;
        };
        for (quarter, hours) in [(this, now), (this.previous(), before)] {
            let entry = (
                Decimal::from(*hours),
                Decimal::from(*rate),
                "USD".to_owned(),
                "sprint reviews and on-call, from the team's time sheets".to_owned(),
            );
            store::set_engineering(pool, &actor, team_id, quarter, entry)
                .await
                .map_err(reason)?;
            entries += 1;
        }
    }
    for (model, value, note) in VALUES {
        let model_id: Option<uuid::Uuid> =
            sqlx::query_scalar("select model_id from model where name = $1")
                .bind(model)
                .fetch_optional(pool)
                .await?;
        let Some(model_id) = model_id else {
            continue;
        };
        let entry = (Decimal::from(*value), "USD".to_owned(), (*note).to_owned());
        store::set_value(pool, &actor, model_id, this, entry)
            .await
            .map_err(reason)?;
        entries += 1;
    }
    Ok(entries)
}
