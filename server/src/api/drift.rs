//! `POST /api/v1/drift`: drift measurements from a monitoring job, stored whole or not at all,
//! with the same batch, idempotency and error rules as telemetry.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::auth::ApiCaller;
use super::error::ApiError;
use super::telemetry::{body_bytes, body_error, ingest_answer, IngestAnswer};
use app::auth::secret::sha256_bytes;
use app::drift::ingest::parse_body;
use app::drift::store;
use app::state::AppState;
use app::tokens::Scope;

#[tracing::instrument(skip_all, fields(batch_id, measurements))]
pub async fn post(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    caller.require(Scope::Ingest)?;
    let bytes = body_bytes(body)?;
    let batch = parse_body(&bytes, app::clock::now()).map_err(body_error)?;
    let span = tracing::Span::current();
    span.record("batch_id", tracing::field::display(batch.batch_id));
    span.record("measurements", batch.measurements.len());
    caller
        .require_deployments(
            &state.pool,
            batch.measurements.iter().map(|m| m.deployment.as_str()),
        )
        .await?;
    let outcome = store::ingest(
        &state.pool,
        &batch,
        &sha256_bytes(&bytes),
        Some(caller.0.api_token_id),
    )
    .await;
    ingest_answer(batch.batch_id, outcome)
}
