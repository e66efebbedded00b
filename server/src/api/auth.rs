//! The bearer-token extractor: every `/api/v1` handler that takes an [`ApiCaller`] is authenticated.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;
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
        Ok(ApiCaller(identity))
    }
}
