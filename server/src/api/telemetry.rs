//! `POST /api/v1/telemetry`: GPU samples from an agent, stored whole or not at all.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;

use super::auth::ApiCaller;
use super::error::{ApiError, InvalidField};
use app::auth::secret::sha256_bytes;
use app::state::AppState;
use app::telemetry::ingest::{parse_body, BodyError, Window};
use app::telemetry::store::{self, IngestError, Outcome};
use app::tokens::Scope;

/// The body of an ingest request, or 413 / 400.
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    })
}

/// A body that is not a batch: 400 for bad JSON, 422 with every bad field.
pub fn body_error(error: BodyError) -> ApiError {
    match error {
        BodyError::Json(message) => ApiError::BadRequest(message),
        BodyError::Invalid(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|e| InvalidField {
                    path: e.field,
                    message: e.message,
                })
                .collect(),
        ),
    }
}

/// What an ingest request stored.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct IngestAnswer {
    pub batch_id: Uuid,
    /// Samples (or measurements) stored; 0 for a batch stored before.
    pub accepted: usize,
    /// The batch id was stored before with the same content: nothing was added.
    pub duplicate: bool,
    /// Deployment keys seen for the first time, waiting to be linked to a model version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_deployments: Option<Vec<String>>,
}

/// 202 with what was stored, 200 for a repeated batch, 409 for a batch id reused with other content.
pub fn ingest_answer(
    batch_id: Uuid,
    outcome: Result<Outcome, IngestError>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    match outcome {
        Ok(Outcome::Stored {
            samples,
            new_deployments,
        }) => {
            if !new_deployments.is_empty() {
                tracing::info!(?new_deployments, "new deployments are waiting to be linked to a model");
            }
            Ok((
                StatusCode::ACCEPTED,
                Json(IngestAnswer {
                    batch_id,
                    accepted: samples,
                    duplicate: false,
                    new_deployments: Some(new_deployments),
                }),
            ))
        }
        Ok(Outcome::Duplicate) => Ok((
            StatusCode::OK,
            Json(IngestAnswer {
                batch_id,
                accepted: 0,
                duplicate: true,
                new_deployments: None,
            }),
        )),
        Err(IngestError::Conflict(batch_id)) => Err(ApiError::Conflict(format!(
            "batch {batch_id} was already stored with different content; a new batch needs a new batch_id"
        ))),
        Err(IngestError::Database(error)) => Err(error.into()),
    }
}

#[tracing::instrument(skip_all, fields(batch_id, samples))]
pub async fn post(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    caller.require(Scope::Ingest)?;
    let bytes = body_bytes(body)?;
    let window = Window::new(app::clock::now(), state.telemetry.retention_days);
    let batch = parse_body(&bytes, window).map_err(body_error)?;
    let span = tracing::Span::current();
    span.record("batch_id", tracing::field::display(batch.batch_id));
    span.record("samples", batch.samples.len());
    caller
        .require_deployments(
            &state.pool,
            batch.samples.iter().filter_map(|s| s.deployment.as_deref()),
        )
        .await?;
    // A retry resends the same bytes (the agent keeps each batch in its spool), so the bytes are
    // what is compared.
    let outcome = store::ingest(
        &state.pool,
        &batch,
        &sha256_bytes(&bytes),
        Some(caller.0.api_token_id),
    )
    .await;
    ingest_answer(batch.batch_id, outcome)
}
