//! `GET /experiments/{id}/report.md`: an experiment's evaluation report as Markdown, for a
//! repository, its figures worked out at the moment of the download, with the sign-off of the
//! recommended version from the review gate.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use app::state::AppState;

pub async fn markdown(
    State(state): State<AppState>,
    Path(experiment_id): Path<uuid::Uuid>,
) -> Response {
    match report(&state, experiment_id).await {
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
        Ok(None) => (StatusCode::NOT_FOUND, "No experiment has this id.").into_response(),
        Err(error) => {
            tracing::error!(%error, "writing an evaluation report failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The report could not be written.",
            )
                .into_response()
        }
    }
}

/// (file name, Markdown), or `None` when the experiment does not exist.
async fn report(
    state: &AppState,
    experiment_id: uuid::Uuid,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let pool = &state.pool;
    let Some(view) = app::experiments::store::view(pool, experiment_id, usize::MAX).await? else {
        return Ok(None);
    };
    let recommended = view.runs.iter().find(|r| r.recommended).map(|r| r.run_id);
    let version = match recommended {
        Some(run_id) => app::experiments::store::runs(pool, experiment_id, Some(&[run_id]))
            .await?
            .into_iter()
            .find_map(|run| run.spec.model_version_id),
        None => None,
    };
    let sign_off = match version {
        Some(version) => app::reviews::store::latest(pool, version).await?,
        None => None,
    };
    let text = app::experiments::report::markdown(&view, sign_off.as_ref(), app::clock::now());
    let slug: String = view
        .experiment
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    Ok(Some((
        format!("evaluation-{}.md", slug.trim_matches('-')),
        text,
    )))
}
