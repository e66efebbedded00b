//! Model versions over the API, for release pipelines:
//! - `POST /api/v1/model-versions/{id}/promotion` (scope `write`) asks for production: 200 with
//!   `"outcome": "promoted"` when the review gate lets it through, 202 with `"outcome": "pending"`
//!   and the reasons when leads must approve, 409 when it is already in production or waiting;
//! - `GET /api/v1/model-versions/{id}/review` (scope `read`) answers the version's status and its
//!   latest promotion request with every review.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::ApiCaller;
use super::error::ApiError;
use super::json::ApiJson;
use app::catalog::ModelStatus;
use app::reviews::{store, PromotionOutcome, PromotionRequest};
use app::state::AppState;
use app::tokens::Scope;

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionBody {
    /// Why, for the leads who review it (at most 2,000 characters).
    #[serde(default)]
    comment: String,
}

/// What asking for production did.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum PromotionAnswer {
    /// The review gate let it through: the version is in production (`status`).
    Promoted { status: ModelStatus, note: String },
    /// Leads must approve first: the request waits, for these reasons.
    Pending {
        promotion_request_id: Uuid,
        reasons: Vec<String>,
    },
}

/// A version's status and its latest promotion request, with every review.
#[derive(Serialize, JsonSchema)]
pub struct ReviewAnswer {
    pub model: String,
    pub version: String,
    pub status: ModelStatus,
    pub review: Option<PromotionRequest>,
}

#[tracing::instrument(skip_all, fields(model_version_id = %model_version_id))]
pub async fn promote(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(model_version_id): Path<Uuid>,
    ApiJson(body): ApiJson<PromotionBody>,
) -> Result<(StatusCode, Json<PromotionAnswer>), ApiError> {
    caller.require(Scope::Write)?;
    if body.comment.chars().count() > 2000 {
        return Err(app::error::AppError::field("comment", "At most 2,000 characters.").into());
    }
    let actor = caller.0.actor();
    let outcome =
        store::request(&state.pool, &actor, model_version_id, body.comment.trim()).await?;
    Ok(match outcome {
        PromotionOutcome::Promoted { note } => (
            StatusCode::OK,
            Json(PromotionAnswer::Promoted {
                status: ModelStatus::Production,
                note,
            }),
        ),
        PromotionOutcome::Pending {
            promotion_request_id,
            reasons,
        } => (
            StatusCode::ACCEPTED,
            Json(PromotionAnswer::Pending {
                promotion_request_id,
                reasons,
            }),
        ),
    })
}

#[tracing::instrument(skip_all, fields(model_version_id = %model_version_id))]
pub async fn review(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(model_version_id): Path<Uuid>,
) -> Result<Json<ReviewAnswer>, ApiError> {
    caller.require(Scope::Read)?;
    let version = app::catalog::store::version(&state.pool, model_version_id)
        .await
        .map_err(app::error::AppError::from)?
        .ok_or_else(|| ApiError::NotFound("no model version has this id".into()))?;
    let latest = store::latest(&state.pool, model_version_id)
        .await
        .map_err(app::error::AppError::from)?;
    Ok(Json(ReviewAnswer {
        model: version.model,
        version: version.version,
        status: version.status,
        review: latest,
    }))
}
