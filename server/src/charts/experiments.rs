//! The experiment page's frontier: quality against cost or latency.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

use super::{chart_failed, money, svg_response, Theme};
use app::state::AppState;

/// One run on the frontier chart.
pub struct RunPoint {
    pub name: String,
    pub x: f64,
    pub quality: f64,
    pub on_frontier: bool,
    pub recommended: bool,
    /// Made from another run: the parent's (x, quality) and the technique, drawn as a dashed
    /// line from the parent.
    pub from: Option<(f64, f64, String)>,
}

/// At most this many dominated runs are drawn; every frontier run always is.
const MAX_DOMINATED_DRAWN: usize = 2_000;

/// Quality (y) against cost or latency (x): dominated runs grey, the frontier joined by a line and
/// named, the recommended run ringed. The x axis is logarithmic when the values span two orders of
/// magnitude.
pub fn frontier_svg(
    points: &[RunPoint],
    x_label: &str,
    y_label: &str,
    format_x: fn(f64) -> String,
    theme: Theme,
) -> Result<String, String> {
    let palette = theme.palette();
    let dominated_colour = palette.axis;
    let xs = points.iter().map(|p| p.x).filter(|x| *x > 0.0);
    let (lo, hi) = xs.fold((f64::INFINITY, 0.0_f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo, hi)
    } else {
        (0.001, 1.0)
    };
    let qs = points.iter().map(|p| p.quality);
    let (q_lo, q_hi) = qs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), q| {
        (a.min(q), b.max(q))
    });
    let (q_lo, q_hi) = if q_lo.is_finite() && q_hi > q_lo {
        let pad = (q_hi - q_lo) * 0.12;
        (q_lo - pad, q_hi + pad)
    } else if q_lo.is_finite() {
        (q_lo - 0.05, q_lo + 0.05)
    } else {
        (0.0, 1.0)
    };
    let mut frontier: Vec<&RunPoint> = points.iter().filter(|p| p.on_frontier).collect();
    frontier.sort_by(|a, b| a.x.total_cmp(&b.x));
    let dominated: Vec<&RunPoint> = points.iter().filter(|p| !p.on_frontier).collect();
    let step = dominated.len().div_ceil(MAX_DOMINATED_DRAWN).max(1);
    let label_font = palette.font(14);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 360)).into_drawing_area();
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin_top(16)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(64);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                palette
                    .style_mesh(&mut chart.configure_mesh(), label_font.clone())
                    .x_desc(x_label)
                    .y_desc(y_label)
                    .x_labels(6)
                    .y_labels(6)
                    .x_label_formatter(&|x: &f64| format_x(*x))
                    .y_label_formatter(&|y: &f64| format!("{y:.3}"))
                    .draw()
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(dominated.iter().step_by(step).map(|p| {
                        Circle::new((p.x.max(lo), p.quality), 4, dominated_colour.filled())
                    }))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(LineSeries::new(
                        frontier.iter().map(|p| (p.x.max(lo), p.quality)),
                        palette.series.stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(
                        frontier.iter().map(|p| {
                            Circle::new((p.x.max(lo), p.quality), 5, palette.series.filled())
                        }),
                    )
                    .map_err(|e| e.to_string())?;
                // What compression bought: a dashed line from each parent to the run made from it,
                // the technique named halfway.
                for p in points.iter() {
                    let Some((px, pq, technique)) = &p.from else {
                        continue;
                    };
                    let (from, to) = ((px.max(lo), *pq), (p.x.max(lo), p.quality));
                    chart
                        .draw_series(DashedLineSeries::new(
                            [from, to],
                            5,
                            4,
                            palette.accent.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?;
                    let middle = if hi / lo > 100.0 {
                        ((from.0 * to.0).sqrt(), (from.1 + to.1) / 2.0)
                    } else {
                        ((from.0 + to.0) / 2.0, (from.1 + to.1) / 2.0)
                    };
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at(middle)
                                + Text::new(
                                    technique.clone(),
                                    (4, 4),
                                    ("sans-serif", 12).into_font().color(&palette.accent),
                                ),
                        ))
                        .map_err(|e| e.to_string())?;
                }
                // Names beside the points, when they fit: every run when there are few, else the
                // frontier's.
                let named: Vec<&&RunPoint> = if points.len() <= 12 {
                    frontier.iter().chain(dominated.iter()).collect()
                } else if frontier.len() <= 12 {
                    frontier.iter().collect()
                } else {
                    Vec::new()
                };
                chart
                    .draw_series(named.into_iter().map(|p| {
                        let colour = if p.on_frontier {
                            palette.text
                        } else {
                            dominated_colour
                        };
                        // A name that would run off the right edge is written to the left.
                        let share = if hi / lo > 100.0 {
                            (p.x.max(lo) / lo).ln() / (hi / lo).ln()
                        } else {
                            (p.x - lo) / (hi - lo).max(f64::EPSILON)
                        };
                        let width = p.name.chars().count() as i32 * 7;
                        let dx = if share > 0.7 { -width - 10 } else { 10 };
                        EmptyElement::at((p.x.max(lo), p.quality))
                            + Text::new(
                                p.name.clone(),
                                (dx, -16),
                                ("sans-serif", 13).into_font().color(&colour),
                            )
                    }))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(points.iter().filter(|p| p.recommended).map(|p| {
                        Circle::new(
                            (p.x.max(lo), p.quality),
                            10,
                            RGBColor(0x1a, 0x8f, 0x5a).stroke_width(3),
                        )
                    }))
                    .map_err(|e| e.to_string())?;
            }};
        }
        if hi / lo > 100.0 {
            draw!(builder
                .build_cartesian_2d((lo / 1.5..hi * 1.5).log_scale(), q_lo..q_hi)
                .map_err(|e| e.to_string())?);
        } else {
            let pad = (hi - lo).max(hi * 0.1) * 0.1;
            draw!(builder
                .build_cartesian_2d((lo - pad).max(0.0)..hi + pad, q_lo..q_hi)
                .map_err(|e| e.to_string())?);
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[derive(Deserialize)]
pub struct FrontierQuery {
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    theme: Theme,
}

/// `GET /charts/experiments/{id}/frontier.svg?x=cost|latency&theme=dark`, for signed-in people.
pub async fn frontier_chart(
    State(state): State<AppState>,
    Path((id, file)): Path<(uuid::Uuid, String)>,
    Query(query): Query<FrontierQuery>,
) -> Response {
    if file != "frontier.svg" {
        return (StatusCode::NOT_FOUND, "No such chart.").into_response();
    }
    let latency = query.x.as_deref() == Some("latency");
    let view = match app::experiments::store::view(&state.pool, id, usize::MAX).await {
        Ok(Some(view)) => view,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such experiment.").into_response(),
        Err(error) => return chart_failed("loading a chart's data failed", &error),
    };
    svg_response(experiment_frontier(&view, latency, query.theme))
}

/// An experiment's runs, quality against cost per 1,000 requests (or p95 latency).
pub fn experiment_frontier(
    view: &app::experiments::view::ExperimentView,
    latency: bool,
    theme: Theme,
) -> Result<String, String> {
    let points: Vec<RunPoint> = view
        .runs
        .iter()
        .filter_map(|run| {
            let x = if latency {
                run.p95_ms?
            } else {
                run.per_thousand?.to_f64()?
            };
            let on = if latency {
                run.on_latency_frontier?
            } else {
                run.on_cost_frontier?
            };
            let from = run.derived_from.as_ref().and_then(|d| {
                let parent = view.runs.iter().find(|r| r.run_key == d.parent)?;
                let x = if latency {
                    parent.p95_ms?
                } else {
                    parent.per_thousand?.to_f64()?
                };
                Some((x, parent.quality?, d.technique.label().to_owned()))
            });
            Some(RunPoint {
                name: run.name.clone(),
                x,
                quality: run.quality?,
                on_frontier: on,
                recommended: run.recommended,
                from,
            })
        })
        .collect();
    let e = &view.experiment;
    let y_label = format!(
        "{}{}",
        app::experiments::metric_label(&e.primary_metric),
        if e.direction == app::experiments::Direction::Lower {
            " (lower is better)"
        } else {
            ""
        }
    );
    let (x_label, format_x): (String, fn(f64) -> String) = if latency {
        ("p95 latency, ms".into(), |v| format!("{v:.0}"))
    } else {
        (format!("{} per 1k requests", e.currency), money)
    };
    frontier_svg(&points, &x_label, &y_label, format_x, theme)
}
