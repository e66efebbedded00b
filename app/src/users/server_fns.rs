use leptos::prelude::*;
use uuid::Uuid;

use super::UserSummary;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{store, NewUser};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// Everyone with an account. Leads see it too, to pick team members.
#[server]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    guard::respond(async {
        guard::require(Role::Lead)?;
        Ok(store::list(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn create_user(
    email: String,
    display_name: String,
    password: String,
    role: String,
) -> Result<UserSummary, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let user = NewUser::parse(&email, &display_name, &password, None, &role)?;
        store::create(&guard::state()?.pool, &Actor::User(admin), user).await
    })
    .await
}

#[server]
pub async fn set_user_role(user_id: Uuid, role: String) -> Result<UserSummary, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let role = role
            .parse::<Role>()
            .map_err(|message| AppError::field("role", message))?;
        store::set_role(&guard::state()?.pool, &Actor::User(admin), user_id, role).await
    })
    .await
}

#[server]
pub async fn set_user_disabled(user_id: Uuid, disabled: bool) -> Result<UserSummary, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::set_disabled(
            &guard::state()?.pool,
            &Actor::User(admin),
            user_id,
            disabled,
        )
        .await
    })
    .await
}
