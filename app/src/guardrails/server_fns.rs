use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Breach, Guardrail};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_conditions, parse_waiver, store};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// The guardrails page: every rule, every breach as of now, and the teams a rule may be scoped to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardrailsView {
    pub rules: Vec<Guardrail>,
    pub breaches: Vec<Breach>,
    /// (team id, name), for the scope's choices.
    pub teams: Vec<(Uuid, String)>,
}

#[server]
pub async fn load_guardrails() -> Result<GuardrailsView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let now = crate::clock::now();
        Ok(GuardrailsView {
            rules: store::rules(pool).await?,
            breaches: store::breaches(pool, now).await?,
            teams: crate::teams::store::list(pool)
                .await?
                .into_iter()
                .map(|team| (team.team_id, team.name))
                .collect(),
        })
    })
    .await
}

/// Adds a guardrail (admins). Each scope part may be empty: "any".
#[server]
pub async fn create_guardrail(
    name: String,
    conditions: String,
    tier: String,
    team_id: String,
    task: String,
    mode: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let name = name.trim();
        let conditions = parse_conditions(&conditions);
        let blank = |text: &str| text.trim().is_empty() || text.trim() == "any";
        let tier = (!blank(&tier)).then(|| {
            tier.trim()
                .trim_start_matches("tier")
                .trim()
                .parse::<i16>()
                .ok()
                .and_then(crate::catalog::tier::Tier::from_number)
        });
        let team = (!blank(&team_id)).then(|| team_id.trim().parse::<Uuid>().ok());
        let task = (!blank(&task)).then(|| task.parse::<crate::experiments::TaskType>());
        let mode = (!blank(&mode)).then(|| mode.parse::<crate::experiments::Mode>());
        let mut check = crate::error::Validator::new();
        check
            .check(
                !name.is_empty(),
                "name",
                "Name the guardrail, e.g. Real-time GPUs kept busy.",
            )
            .check(
                name.chars().count() <= 120,
                "name",
                "At most 120 characters.",
            )
            .check(
                conditions.is_ok(),
                "conditions",
                conditions.clone().err().unwrap_or_default(),
            )
            .check(
                tier.is_none_or(|t| t.is_some()),
                "tier",
                "Choose Tier 1, 2 or 3, or any tier.",
            )
            .check(
                team.is_none_or(|t| t.is_some()),
                "team_id",
                "Choose a team, or any team.",
            )
            .check(
                task.as_ref().is_none_or(Result::is_ok),
                "task",
                task.clone().and_then(Result::err).unwrap_or_default(),
            )
            .check(
                mode.as_ref().is_none_or(Result::is_ok),
                "mode",
                mode.clone().and_then(Result::err).unwrap_or_default(),
            );
        check.finish()?;
        store::create(
            &guard::state()?.pool,
            &Actor::User(admin),
            name,
            &conditions.unwrap_or_default(),
            store::NewScope {
                tier: tier.flatten(),
                team_id: team.flatten(),
                task: task.and_then(Result::ok),
                mode: mode.and_then(Result::ok),
            },
        )
        .await
    })
    .await
}

#[server]
pub async fn delete_guardrail(guardrail_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::delete(&guard::state()?.pool, &Actor::User(admin), guardrail_id).await
    })
    .await
}

/// A lead accepts one guardrail's breach by one deployment, with a reason, until a date.
#[server]
pub async fn waive_breach(
    guardrail_id: Uuid,
    deployment_id: Uuid,
    reason: String,
    until: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let today = crate::clock::now().date_naive();
        let (reason, until) = parse_waiver(&reason, &until, today)?;
        store::waive(
            &guard::state()?.pool,
            &Actor::User(lead),
            guardrail_id,
            deployment_id,
            &reason,
            until,
        )
        .await
    })
    .await
}
