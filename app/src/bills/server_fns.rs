use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ImportRecord;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::store;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// How many imports the history lists.
pub const IMPORTS_SHOWN: i64 = 200;

#[server]
pub async fn list_imports() -> Result<Vec<ImportRecord>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let state = guard::state()?;
        let mut conn = state.pool.acquire().await?;
        Ok(store::list(&mut conn, IMPORTS_SHOWN).await?)
    })
    .await
}

/// An import in progress on this server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadProgress {
    pub bytes: u64,
    pub rows: u64,
    pub saving: bool,
}

/// The progress of the upload the page started with this id; `None` once it is over (or when
/// another server took it).
#[server]
pub async fn import_progress(id: Uuid) -> Result<Option<UploadProgress>, AppError> {
    use std::sync::atomic::Ordering;
    guard::respond(async {
        guard::require(Role::Lead)?;
        Ok(guard::state()?.imports.get(id).map(|p| UploadProgress {
            bytes: p.bytes.load(Ordering::Relaxed),
            rows: p.rows.load(Ordering::Relaxed),
            saving: p.saving.load(Ordering::Relaxed),
        }))
    })
    .await
}

/// What the rule form chooses from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOptions {
    pub teams: Vec<(Uuid, String)>,
    pub models: Vec<(Uuid, String)>,
    pub deployments: Vec<(Uuid, String)>,
}

#[server]
pub async fn list_rules() -> Result<Vec<super::rules::RuleView>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(super::allocate::list(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn list_rule_options() -> Result<RuleOptions, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(super::allocate::options(&guard::state()?.pool).await?)
    })
    .await
}

#[cfg(feature = "ssr")]
async fn rule_change(
    input: super::rules::RuleInput,
    save: bool,
) -> Result<super::rules::Preview, AppError> {
    let lead = guard::require(Role::Lead)?;
    let state = guard::state()?;
    let pool = &state.pool;
    let rule_id = match input.rule_id.trim() {
        "" => None,
        id => Some(
            id.parse::<Uuid>()
                .map_err(|_| AppError::NotFound("No allocation rule has this id.".into()))?,
        ),
    };
    let split_deployments = super::allocate::deployment_ids(pool, &input.split_deployments).await?;
    let rule = input.parse(&split_deployments)?;
    let actor = crate::audit::Actor::User(lead);
    let (_, preview) =
        super::allocate::change(pool, &actor, rule_id, rule, save, &state.allocation).await?;
    if preview.reallocating.is_some() {
        state.allocation.wake.notify_one();
    }
    Ok(preview)
}

/// Wakes the re-allocation job when a change started it.
#[cfg(feature = "ssr")]
fn started(state: &crate::state::AppState, reallocation: super::allocate::Reallocation) {
    if reallocation != super::allocate::Reallocation::Done {
        state.allocation.wake.notify_one();
    }
}

/// The re-allocation job, for the rules page's progress bar.
#[server]
pub async fn allocation_job() -> Result<super::rules::JobProgress, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(super::allocate::job(&guard::state()?.pool).await?)
    })
    .await
}

/// What saving the rule would move, without saving it.
#[server]
pub async fn preview_rule(
    input: super::rules::RuleInput,
) -> Result<super::rules::Preview, AppError> {
    guard::respond(rule_change(input, false)).await
}

/// Saves the rule and re-allocates every current row.
#[server]
pub async fn save_rule(input: super::rules::RuleInput) -> Result<super::rules::Preview, AppError> {
    guard::respond(rule_change(input, true)).await
}

#[server]
pub async fn delete_rule(rule_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let state = guard::state()?;
        let reallocation = super::allocate::delete(
            &state.pool,
            &crate::audit::Actor::User(lead),
            rule_id,
            state.allocation.inline_rows,
        )
        .await?;
        started(&state, reallocation);
        Ok(())
    })
    .await
}

#[server]
pub async fn move_rule(rule_id: Uuid, earlier: bool) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let state = guard::state()?;
        let reallocation = super::allocate::reorder(
            &state.pool,
            &crate::audit::Actor::User(lead),
            rule_id,
            earlier,
            state.allocation.inline_rows,
        )
        .await?;
        started(&state, reallocation);
        Ok(())
    })
    .await
}

#[server]
pub async fn explore_bills(
    query: super::explore::ExploreQuery,
) -> Result<super::explore::Explorer, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::explore(&guard::state()?.pool, query).await?)
    })
    .await
}

/// Months the reconciliation looks back over.
pub const RECONCILE_MONTHS: u32 = 3;

#[server]
pub async fn reconcile_bills() -> Result<Vec<super::reconcile::Reconciled>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::reconcile(&guard::state()?.pool, RECONCILE_MONTHS).await?)
    })
    .await
}
