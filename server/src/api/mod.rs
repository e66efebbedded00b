//! The versioned JSON API for agents, pipelines and scripts: `/api/v1`, bearer tokens, problem+json.

pub mod auth;
pub mod error;
pub mod json;
mod whoami;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tower_http::decompression::RequestDecompressionLayer;

use app::state::AppState;
use error::ApiError;

/// Every `/api/v1` route, in one place.
pub fn router(body_limit_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/whoami", get(whoami::get))
        .fallback(|| async { ApiError::NotFound("no such API endpoint".into()) })
        .layer(RequestDecompressionLayer::new())
        .layer(DefaultBodyLimit::max(body_limit_bytes))
}
