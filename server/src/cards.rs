//! `GET /cards/{id}/README.md`: a version's model card as a Hugging Face README.md, its cost
//! section computed at the moment of the download.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use app::state::AppState;

pub async fn export(
    State(state): State<AppState>,
    Path(model_version_id): Path<uuid::Uuid>,
) -> Response {
    match app::cards::store::export(&state.pool, model_version_id).await {
        Ok(Some((name, text))) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            text,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "No model version has this id.").into_response(),
        Err(error) => {
            tracing::error!(%error, "exporting a model card failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The card could not be exported.",
            )
                .into_response()
        }
    }
}
