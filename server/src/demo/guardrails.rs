//! The demo's guardrails, written by Ada (admin): classification models keep their GPUs busy, and
//! language models stay under 5,000 USD a month. The fraud GNN's GPUs idle (under 20% busy), an
//! open breach; the 70B chat model costs more than the cap, a breach Grace (lead) waived for a
//! month while its reserved capacity runs out.

use chrono::TimeDelta;
use sqlx::PgPool;

use crate::commands::reason;
use app::experiments::TaskType;
use app::guardrails::{parse_conditions, store};

/// (name, conditions, task)
const GUARDRAILS: &[(&str, &str, TaskType)] = &[
    (
        "Classifier GPUs kept busy",
        "mean_utilization >= 25%",
        TaskType::Classification,
    ),
    (
        "Language models under 5,000 a month",
        "monthly_cost <= 5000",
        TaskType::Generation,
    ),
];

/// Writes the guardrails and Grace's waiver; returns how many guardrails there are.
pub async fn load(pool: &PgPool) -> anyhow::Result<usize> {
    let ada = super::person(pool, "ada@example.com").await?;
    let mut ids = Vec::new();
    for (name, conditions, task) in GUARDRAILS {
        let conditions = parse_conditions(conditions).map_err(anyhow::Error::msg)?;
        let scope = store::NewScope {
            tier: None,
            team_id: None,
            task: Some(*task),
            mode: None,
        };
        ids.push(
            store::create(pool, &ada, name, &conditions, scope)
                .await
                .map_err(reason)?,
        );
    }
    let grace = super::person(pool, "grace@example.com").await?;
    let chat =
        sqlx::query_scalar!("select deployment_id from deployment where key = 'llm-chat-70b-v2'")
            .fetch_one(pool)
            .await?;
    // Ends at the start of a day, a month on, as a lead's waiver does.
    let until = (app::clock::now().date_naive() + TimeDelta::days(30))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    store::waive(
        pool,
        &grace,
        ids[1],
        chat,
        "Its reserved GPUs are paid through next month; v3 moves it to fewer of them.",
        until,
    )
    .await
    .map_err(reason)?;
    Ok(GUARDRAILS.len())
}
