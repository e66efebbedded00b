//! The model page's chart: cost per 1,000 requests by week, against the tier rules' levels.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use rust_decimal::prelude::ToPrimitive;

use super::{chart_failed, line_chart, money, svg_response, Series, ThemeQuery};
use app::state::AppState;

/// `GET /charts/models/{id}/cost.svg?theme=dark`: a model's cost per 1,000 requests by week.
pub async fn model_chart(
    State(state): State<AppState>,
    Path((id, file)): Path<(uuid::Uuid, String)>,
    Query(query): Query<ThemeQuery>,
) -> Response {
    if file != "cost.svg" {
        return (StatusCode::NOT_FOUND, "No such chart.").into_response();
    }
    let detail = match app::catalog::store::detail(&state.pool, id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such model.").into_response(),
        Err(error) => return chart_failed("loading a chart's data failed", &error),
    };
    let currency = detail
        .model
        .figures
        .currency
        .clone()
        .unwrap_or_else(|| "cost".into());
    let rules = match app::catalog::store::tier_rules(&state.pool).await {
        Ok(rules) => rules,
        Err(error) => return chart_failed("loading the tier rules failed", &error),
    };
    let series = Series {
        y_label: format!("{currency} per 1k requests"),
        points: detail
            .history
            .iter()
            .map(|week| (week.week, week.cost_per_1k.and_then(|v| v.to_f64())))
            .collect(),
        format: money,
        levels: app::catalog::tier::cost_levels(&rules),
    };
    let to = app::clock::now();
    let from = detail
        .history
        .first()
        .map_or(to - TimeDelta::weeks(12), |week| week.week);
    svg_response(line_chart(&series, from, to, query.theme))
}
