//! The bearer-token extractor: every `/api/v1` handler that takes an [`ApiCaller`] is authenticated.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;
use super::openapi::RequiredScope;
use app::state::AppState;
use app::tokens::store::{authenticate, TokenIdentity};
use app::tokens::Scope;

/// The token that made the request.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub TokenIdentity);

impl ApiCaller {
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::MissingScope(scope))
        }
    }

    /// Refuses a batch that posts for a deployment of another team when the token is bound to
    /// one. Nothing of the batch is stored; the agent keeps it and says why.
    pub async fn require_deployments<'a>(
        &self,
        pool: &sqlx::PgPool,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ApiError> {
        let Some(team_id) = self.0.team_id else {
            return Ok(());
        };
        let mut keys: Vec<String> = keys.into_iter().map(str::to_owned).collect();
        keys.sort_unstable();
        keys.dedup();
        let foreign = app::teams::access::foreign_deployments(pool, team_id, &keys).await?;
        if foreign.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = foreign
            .iter()
            .take(10)
            .map(|(key, team)| match team {
                Some(team) => format!("{key} ({team})"),
                None => format!("{key} (no team)"),
            })
            .collect();
        let more = foreign.len().saturating_sub(listed.len());
        Err(ApiError::Forbidden(format!(
            "this token acts only for {}, and {} of the batch's deployments belong elsewhere: {}{}; nothing was stored",
            self.0.team.as_deref().unwrap_or("its team"),
            foreign.len(),
            listed.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        )))
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "send the token as `Authorization: Bearer <token>`",
            ))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <token>`",
            ))?;
        let identity = authenticate(&state.pool, token)
            .await?
            .ok_or(ApiError::Unauthorized(
                "the token is unknown or has been revoked",
            ))?;
        tracing::Span::current().record("token", identity.name.as_str());
        let caller = ApiCaller(identity);
        // The scope the route's description names (`openapi::Doc::scope`), checked before the
        // body is read.
        if let Some(RequiredScope(Some(scope))) = parts.extensions.get::<RequiredScope>() {
            caller.require(*scope)?;
        }
        Ok(caller)
    }
}
