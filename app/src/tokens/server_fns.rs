use leptos::prelude::*;
use uuid::Uuid;

use super::{CreatedToken, TokenSummary};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_new_token, store, Scope};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

#[server]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    guard::respond(async {
        guard::require(Role::Admin)?;
        Ok(store::list(&guard::state()?.pool).await?)
    })
    .await
}

/// Creates a token and returns its secret, which is shown once and never again.
/// Each scope is its own checkbox (`scope_ingest=on`), as a plain HTML form sends it.
#[server]
pub async fn create_token(
    name: String,
    team_id: Option<String>,
    scope_ingest: Option<String>,
    scope_write: Option<String>,
    scope_read: Option<String>,
) -> Result<CreatedToken, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let scopes: Vec<Scope> = [
            (scope_ingest, Scope::Ingest),
            (scope_write, Scope::Write),
            (scope_read, Scope::Read),
        ]
        .into_iter()
        .filter_map(|(checked, scope)| checked.filter(|value| !value.is_empty()).map(|_| scope))
        .collect();
        let (name, scopes) = parse_new_token(&name, &scopes)?;
        let team_id = crate::teams::parse_team_choice(team_id.as_deref())?;
        store::create(
            &guard::state()?.pool,
            &Actor::User(admin),
            &name,
            &scopes,
            team_id,
        )
        .await
    })
    .await
}

#[server]
pub async fn revoke_token(api_token_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::revoke(&guard::state()?.pool, &Actor::User(admin), api_token_id).await
    })
    .await
}
