use leptos::prelude::*;
use uuid::Uuid;

use super::{TeamChoices, TeamSummary};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_new_team, store};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

#[server]
pub async fn list_teams() -> Result<Vec<TeamSummary>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::list(&guard::state()?.pool).await?)
    })
    .await
}

/// The teams the signed-in person may make the owner of what they create.
#[server]
pub async fn own_teams() -> Result<TeamChoices, AppError> {
    guard::respond(async {
        let user = guard::require(Role::Viewer)?;
        let everywhere = user.can(Role::Admin);
        let teams = store::own(&guard::state()?.pool, user.user_id, everywhere).await?;
        Ok(TeamChoices { teams, everywhere })
    })
    .await
}

#[server]
pub async fn create_team(name: String, description: String) -> Result<Uuid, AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let (name, description) = parse_new_team(&name, &description)?;
        store::create(
            &guard::state()?.pool,
            &Actor::User(lead),
            &name,
            &description,
        )
        .await
    })
    .await
}

/// `user_id` is a string so that an empty choice in the form gets a field error, not a parse failure.
#[server]
pub async fn add_team_member(team_id: Uuid, user_id: String) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let user_id = user_id
            .trim()
            .parse::<Uuid>()
            .map_err(|_| AppError::field("user_id", "Choose a person to add."))?;
        store::add_member(&guard::state()?.pool, &Actor::User(lead), team_id, user_id).await
    })
    .await
}

#[server]
pub async fn remove_team_member(team_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        store::remove_member(&guard::state()?.pool, &Actor::User(lead), team_id, user_id).await
    })
    .await
}
