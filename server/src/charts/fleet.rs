//! The deployment page's charts: cost per 1,000 requests, requests, utilization and latency over
//! the chosen days.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

use super::{chart_failed, count, line_chart, money, svg_response, Series, Theme};
use app::fleet::{clamp_days, Point};
use app::state::AppState;

#[derive(Deserialize)]
pub struct ChartQuery {
    days: Option<u32>,
    #[serde(default)]
    theme: Theme,
}

fn series_for(metric: &str, points: &[Point], currency: &str) -> Option<Series> {
    let pick = |f: &dyn Fn(&Point) -> Option<f64>| points.iter().map(|p| (p.at, f(p))).collect();
    let (y_label, points, format): (String, _, fn(f64) -> String) = match metric {
        "cost-per-thousand" => (
            format!("{currency} per 1k requests"),
            pick(&|p| p.per_thousand().and_then(|v| v.to_f64())),
            money,
        ),
        "requests" => (
            "requests".into(),
            pick(&|p| Some(p.usage.requests as f64)),
            count,
        ),
        "utilization" => (
            "utilization %".into(),
            pick(&|p| p.usage.mean_utilization_pct()),
            |v| format!("{v:.0}"),
        ),
        "latency" => ("p95 latency, ms".into(), pick(&|p| p.p95_ms), |v| {
            format!("{v:.0}")
        }),
        _ => return None,
    };
    Some(Series {
        y_label,
        points,
        format,
        levels: Vec::new(),
    })
}

/// `GET /charts/deployments/{key}/{metric}.svg?days=7&theme=dark`, for signed-in people.
pub async fn deployment_chart(
    State(state): State<AppState>,
    Path((key, file)): Path<(String, String)>,
    Query(query): Query<ChartQuery>,
) -> Response {
    let Some(metric) = file.strip_suffix(".svg") else {
        return (StatusCode::NOT_FOUND, "No such chart.").into_response();
    };
    let days = clamp_days(query.days);
    let detail = match app::fleet::store::detail(&state.pool, &key, days).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such deployment.").into_response(),
        Err(error) => return chart_failed("loading a chart's data failed", &error),
    };
    let currency = detail.currency.clone().unwrap_or_else(|| "cost".into());
    let Some(series) = series_for(metric, &detail.points, &currency) else {
        return (StatusCode::NOT_FOUND, "No such chart.").into_response();
    };
    let to = app::clock::now();
    let from = to - TimeDelta::days(i64::from(days));
    svg_response(line_chart(&series, from, to, query.theme))
}
