//! The pipeline page's frontier: the last stage's quality against the end-to-end cost per 1,000
//! requests, for the combinations no other beats on both within the SLA's latency and money
//! bounds, the cheapest within the whole SLA ringed.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::experiments::{frontier_svg, RunPoint};
use super::{chart_failed, money, svg_response, Theme};
use app::state::AppState;

#[derive(Deserialize)]
pub struct PipelineChartQuery {
    #[serde(default)]
    theme: Theme,
}

/// `GET /charts/pipelines/{id}/frontier.svg?theme=dark`, for signed-in people.
pub async fn pipeline_chart(
    State(state): State<AppState>,
    Path((id, file)): Path<(uuid::Uuid, String)>,
    Query(query): Query<PipelineChartQuery>,
) -> Response {
    if file != "frontier.svg" {
        return (StatusCode::NOT_FOUND, "No such chart.").into_response();
    }
    let view = match app::pipelines::store::view(&state.pool, id).await {
        Ok(Some(view)) => view,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such pipeline.").into_response(),
        Err(error) => return chart_failed("loading a chart's data failed", &error),
    };
    if view.found.is_none() {
        return (StatusCode::NOT_FOUND, "This pipeline cannot be searched.").into_response();
    }
    svg_response(pipeline_frontier(&view, query.theme))
}

/// A pipeline's frontier of combinations, quality against the end-to-end cost per 1,000
/// requests, the cheapest within the SLA ringed.
pub fn pipeline_frontier(
    view: &app::pipelines::PipelineView,
    theme: Theme,
) -> Result<String, String> {
    let Some(found) = view.found.as_ref() else {
        return Err("This pipeline cannot be searched.".into());
    };
    let name = |picks: &[usize]| {
        picks
            .iter()
            .zip(&view.stages)
            .map(|(pick, stage)| stage.stage.candidates[*pick].name.clone())
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let best = found.best.as_ref().map(|b| b.picks.clone());
    let mut points: Vec<RunPoint> = found
        .frontier
        .iter()
        .filter_map(|c| {
            Some(RunPoint {
                name: name(&c.picks),
                x: c.cost_per_1k,
                quality: c.quality?,
                on_frontier: true,
                recommended: best.as_ref() == Some(&c.picks),
                from: None,
            })
        })
        .collect();
    // The cheapest within the SLA, when the frontier does not hold it (it always should).
    if let Some(best) = found
        .best
        .as_ref()
        .filter(|_| !points.iter().any(|p| p.recommended))
    {
        if let Some(quality) = best.quality {
            points.push(RunPoint {
                name: name(&best.picks),
                x: best.cost_per_1k,
                quality,
                on_frontier: false,
                recommended: true,
                from: None,
            });
        }
    }
    let y_label = format!(
        "{}{}",
        app::experiments::metric_label(&view.metric),
        if view.higher_is_better {
            ""
        } else {
            " (lower is better)"
        }
    );
    frontier_svg(
        &points,
        &format!("{} per 1k requests, end to end", view.currency),
        &y_label,
        money,
        theme,
    )
}
