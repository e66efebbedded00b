//! The versioned JSON API for agents, pipelines and scripts: `/api/v1`, bearer tokens, problem+json.

mod advice;
pub mod auth;
mod deployments;
mod drift;
pub mod error;
mod experiments;
pub mod json;
mod models;
mod pipelines;
mod telemetry;
mod whoami;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::decompression::RequestDecompressionLayer;

use app::state::AppState;
use error::ApiError;

/// Every `/api/v1` route, in one place.
/// `ingest_concurrency` bounds the batches stored at once; past it the server answers 429 with
/// `Retry-After` instead of queueing without bound.
pub fn router(body_limit_bytes: usize, ingest_concurrency: usize) -> Router<AppState> {
    let shed_load = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
            ApiError::Overloaded {
                retry_after_seconds: 1,
            }
        }))
        .load_shed()
        .concurrency_limit(ingest_concurrency);
    Router::new()
        .route("/whoami", get(whoami::get))
        .route(
            "/telemetry",
            post(telemetry::post).route_layer(shed_load.clone()),
        )
        .route("/drift", post(drift::post).route_layer(shed_load))
        .route("/deployments/{key}", get(deployments::get))
        .route("/advice", get(advice::get))
        .route("/experiments", post(experiments::create))
        .route("/experiments/{id}", get(experiments::get))
        .route("/experiments/{id}/runs", post(experiments::add_runs))
        .route("/pipelines", get(pipelines::list).post(pipelines::create))
        .route(
            "/pipelines/{id}",
            get(pipelines::get).put(pipelines::update),
        )
        .route("/pipelines/{id}/hybrid", get(pipelines::hybrid))
        .route("/pipelines/{id}/runs", post(pipelines::record_run))
        .route("/model-versions/{id}/promotion", post(models::promote))
        .route("/model-versions/{id}/review", get(models::review))
        .route("/bills/export", get(crate::bills::api_export))
        .route("/reports/tco", get(crate::reports::api))
        .fallback(|| async { ApiError::NotFound("no such API endpoint".into()) })
        .layer(RequestDecompressionLayer::new())
        .layer(DefaultBodyLimit::max(body_limit_bytes))
}
