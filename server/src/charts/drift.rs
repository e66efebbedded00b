//! Drift versus cost: one point per deployment (cost per 1,000 across, drift over its alert level
//! up, each point a link to its model), and one deployment's drift and cost over time with its
//! thresholds drawn.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

use super::{chart_failed, money, svg_response, Theme};
use app::drift::stats::downsample;
use app::drift::{
    cost_split, drift_metric_label, format_statistic, DriftRow, DriftState, Range, SeriesPoint,
    Threshold, PERFORMANCE, QUADRANTS,
};
use app::experiments::{default_direction, Direction};
use app::state::AppState;

/// Most points a series is drawn with.
pub const MAX_POINTS: usize = 2_000;
/// Scores above this are drawn at the top edge.
const SCORE_CAP: f64 = 4.0;

#[derive(Deserialize)]
pub struct DriftChartQuery {
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
    metric: Option<String>,
    /// `model` for the spend chart by model; by team otherwise.
    by: Option<String>,
    #[serde(default)]
    feature: String,
    #[serde(default)]
    theme: Theme,
}

impl DriftChartQuery {
    fn range(&self) -> Range {
        Range::from_query(
            self.range.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        )
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Puts a title and a description for screen readers first inside the SVG, and `extra` last.
fn annotate(svg: String, title: &str, description: &str, extra: &str) -> String {
    let Some(open_end) = svg.find('>') else {
        return svg;
    };
    let (head, rest) = svg.split_at(open_end + 1);
    let body = rest.trim_end().strip_suffix("</svg>").unwrap_or(rest);
    format!(
        "{head}<title>{}</title><desc>{}</desc>{body}{extra}</svg>",
        xml_escape(title),
        xml_escape(description)
    )
}

fn state_color(state: DriftState, theme: Theme) -> RGBColor {
    match (state, theme) {
        (DriftState::Drifting, Theme::Light) => RGBColor(0xc2, 0x41, 0x4b),
        (DriftState::Drifting, Theme::Dark) => RGBColor(0xe8, 0x6b, 0x74),
        (DriftState::Warning, Theme::Light) => RGBColor(0xc0, 0x6a, 0x1c),
        (DriftState::Warning, Theme::Dark) => RGBColor(0xf0, 0x9a, 0x4e),
        (DriftState::Healthy, Theme::Light) => RGBColor(0x2e, 0x7d, 0x4f),
        (DriftState::Healthy, Theme::Dark) => RGBColor(0x62, 0xc0, 0x88),
        (DriftState::Unmeasured, _) => RGBColor(0x8a, 0x93, 0x9e),
    }
}

fn hex(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// The quadrant chart of the priced deployments in `rows`.
pub fn quadrant_svg(rows: &[DriftRow], range_label: &str, theme: Theme) -> Result<String, String> {
    let palette = theme.palette();
    let points: Vec<(&DriftRow, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let cost = r.per_1k?.to_f64().filter(|c| *c > 0.0)?;
            Some((r, cost, r.score.unwrap_or(0.0).clamp(0.0, SCORE_CAP)))
        })
        .collect();
    let split = cost_split(rows).unwrap_or(1.0).max(1e-6);
    let low = points.iter().map(|p| p.1).fold(split, f64::min) / 2.0;
    let high = points.iter().map(|p| p.1).fold(split, f64::max) * 2.0;
    let top = points
        .iter()
        .map(|p| p.2)
        .fold(1.5_f64, f64::max)
        .min(SCORE_CAP)
        * 1.1;
    let currency = rows
        .iter()
        .find_map(|r| r.currency.clone())
        .unwrap_or_else(|| "cost".into());
    let mut svg = String::new();
    let mut marks = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(16)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((low..high).log_scale(), 0.0..top)
            .map_err(|e| e.to_string())?;
        let label_font = palette.font(14);
        palette
            .style_mesh(&mut chart.configure_mesh(), label_font.clone())
            .x_desc(format!("{currency} per 1,000 requests (log scale)"))
            .y_desc("drift ÷ alert level")
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|x: &f64| money(*x))
            .y_label_formatter(&|y: &f64| format!("{y:.1}"))
            .draw()
            .map_err(|e| e.to_string())?;
        let line = palette.axis.stroke_width(2);
        chart
            .draw_series(LineSeries::new([(split, 0.0), (split, top)], line))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new([(low, 1.0), (high, 1.0)], line))
            .map_err(|e| e.to_string())?;
        let (left, right) = (low * 1.08, high / 1.08);
        for (i, label) in QUADRANTS.iter().enumerate() {
            let x = if i % 2 == 0 { left } else { right };
            // Healthy corners just under the alert line, where few points sit; drifting at the top.
            let y = if i < 2 { 0.9 } else { 0.95 * top };
            let (px, py) = chart.backend_coord(&(x, y));
            let anchor = if i % 2 == 0 { "start" } else { "end" };
            marks.push_str(&format!(
                r#"<text x="{px}" y="{py}" text-anchor="{anchor}" dominant-baseline="middle" font-family="sans-serif" font-size="13" font-weight="600" fill="{}" opacity="0.75">{}</text>"#,
                hex(palette.text),
                xml_escape(label)
            ));
        }
        // The points are links, so they are written by hand at the positions plotters maps them to.
        for (row, cost, score) in &points {
            let (px, py) = chart.backend_coord(&(*cost, *score));
            let color = hex(state_color(row.state, theme));
            let href = row.model_id.map_or_else(
                || app::format::drift_href(&row.key),
                |id| format!("/models/{id}"),
            );
            let what = format!(
                "{}: {} per 1,000, {}{}",
                row.key,
                money(*cost),
                row.state.label().to_lowercase(),
                row.findings
                    .first()
                    .map(|f| format!(" ({})", f.text))
                    .unwrap_or_default()
            );
            // Only the deployments that need a look are named; every point has its name on hover.
            let label = if matches!(row.state, DriftState::Drifting | DriftState::Warning) {
                format!(
                    r#"<text x="{}" y="{}" font-family="sans-serif" font-size="12" fill="{}">{}</text>"#,
                    px + 10,
                    py + 4,
                    hex(palette.text),
                    xml_escape(&row.key)
                )
            } else {
                String::new()
            };
            marks.push_str(&format!(
                r#"<a href="{href}" target="_top"><title>{}</title><circle cx="{px}" cy="{py}" r="7" fill="{color}" fill-opacity="0.85" stroke="{color}" stroke-width="2"/>{label}</a>"#,
                xml_escape(&what),
            ));
        }
        root.present().map_err(|e| e.to_string())?;
    }
    let description = format!(
        "{} deployments {range_label}: cost per 1,000 requests across (the vertical line is the median, {} {currency}), drift over its alert level up (the horizontal line is the alert level). Each point links to its model.",
        points.len(),
        money(split)
    );
    // Embedded as a document, the chart says which scheme it is drawn for, so that the browser
    // does not paint a light backdrop behind the dark one.
    let scheme = match theme {
        Theme::Light => "light",
        Theme::Dark => "dark",
    };
    let svg = svg.replacen(
        "<svg ",
        &format!("<svg style=\"color-scheme: {scheme}\" "),
        1,
    );
    Ok(annotate(
        svg,
        "Drift versus cost across deployments",
        &description,
        &marks,
    ))
}

/// What a line across the drift chart marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Experiment,
    Warn,
    Alert,
}

/// One deployment's drift series (left axis, with its levels) and cost per 1,000 (right axis).
pub struct OverTime<'a> {
    pub title: String,
    pub drift_label: String,
    pub drift: &'a [SeriesPoint],
    pub cost: &'a [SeriesPoint],
    pub currency: &'a str,
    /// Lines drawn across: warning and alert levels, the experiment's figure.
    pub levels: Vec<(String, f64, Level)>,
    /// Draw the left axis around the values rather than from 0 (performance metrics).
    pub zoom: bool,
}

pub fn over_time_svg(
    chart_data: &OverTime<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    theme: Theme,
) -> Result<String, String> {
    let palette = theme.palette();
    let to_points = |series: &[SeriesPoint]| -> Vec<(DateTime<Utc>, f64)> {
        let all: Vec<(DateTime<Utc>, f64)> = series.iter().map(|p| (p.at, p.value)).collect();
        downsample(&all, MAX_POINTS)
    };
    let drift = to_points(chart_data.drift);
    let cost = to_points(chart_data.cost);
    // Room above the lines for the legend; a performance metric is drawn around its values (an
    // F1 of 0.91 against 0.93 is the story, not its distance from 0), a statistic from 0.
    let values: Vec<f64> = drift
        .iter()
        .map(|p| p.1)
        .chain(chart_data.levels.iter().map(|l| l.1))
        .collect();
    let high = values.iter().copied().fold(f64::MIN, f64::max);
    let low = values.iter().copied().fold(f64::MAX, f64::min);
    let (drift_bottom, drift_top) = if values.is_empty() {
        (0.0, 1.0)
    } else if chart_data.zoom {
        let span = (high - low).max(high.abs() * 0.02).max(1e-9);
        (low - span * 0.3, high + span * 0.9)
    } else if high > 0.0 {
        (0.0, high * 1.6)
    } else {
        (0.0, 1.0)
    };
    let cost_top = cost.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let cost_top = if cost_top > 0.0 { cost_top * 1.6 } else { 1.0 };
    let drift_color = palette.series;
    let cost_color = match theme {
        Theme::Light => RGBColor(0x8e, 0x4b, 0x9e),
        Theme::Dark => RGBColor(0xbb, 0x86, 0xcc),
    };
    let span_days = (to - from).num_days();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(12)
            .margin_right(8)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .right_y_label_area_size(72)
            .build_cartesian_2d(from..to, drift_bottom..drift_top)
            .map_err(|e| e.to_string())?
            .set_secondary_coord(from..to, 0.0..cost_top);
        let label_font = palette.font(14);
        palette
            .style_mesh(&mut chart.configure_mesh(), label_font.clone())
            .y_desc(chart_data.drift_label.as_str())
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|t: &DateTime<Utc>| {
                if span_days <= 2 {
                    t.format("%H:%M").to_string()
                } else {
                    t.format("%b %d").to_string()
                }
            })
            .y_label_formatter(&|y: &f64| format_statistic(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .configure_secondary_axes()
            .axis_style(palette.axis)
            .label_style(label_font.clone())
            .axis_desc_style(label_font.clone())
            .y_desc(format!("{} per 1,000", chart_data.currency))
            .y_labels(5)
            .y_label_formatter(&|y: &f64| money(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        for (label, value, level) in &chart_data.levels {
            let color = match level {
                Level::Experiment => palette.text,
                Level::Warn => state_color(DriftState::Warning, theme),
                Level::Alert => state_color(DriftState::Drifting, theme),
            };
            chart
                .draw_series(DashedLineSeries::new(
                    [(from, *value), (to, *value)],
                    6,
                    4,
                    color.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .draw_series(LineSeries::new(drift, drift_color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(chart_data.drift_label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], drift_color.stroke_width(2))
            });
        chart
            .draw_secondary_series(LineSeries::new(cost, cost_color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!("{} per 1,000 requests", chart_data.currency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], cost_color.stroke_width(2))
            });
        let background = match theme {
            Theme::Light => RGBColor(0xff, 0xff, 0xff),
            Theme::Dark => RGBColor(0x16, 0x1b, 0x22),
        };
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(background.mix(0.85))
            .border_style(palette.grid)
            .label_font(label_font)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let description = format!(
        "{} ({} points) and cost per 1,000 requests ({} points) from {} to {}; dashed lines: {}.",
        chart_data.drift_label,
        chart_data.drift.len(),
        chart_data.cost.len(),
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d"),
        chart_data
            .levels
            .iter()
            .map(|(l, v, _)| format!("{l} {}", format_statistic(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(annotate(svg, &chart_data.title, &description, ""))
}

/// The lines drawn across a series: a statistic's warning and alert levels, or for a performance
/// metric the experiment's figure and the values its drop levels correspond to.
pub fn levels(
    metric: &str,
    feature: &str,
    thresholds: &[Threshold],
    baseline: Option<f64>,
) -> Vec<(String, f64, Level)> {
    if feature.is_empty() {
        let (Some(baseline), Some(t)) = (
            baseline,
            thresholds.iter().find(|t| t.metric == PERFORMANCE),
        ) else {
            return Vec::new();
        };
        let at = |pct: f64| match default_direction(metric) {
            Direction::Higher => baseline * (1.0 - pct / 100.0),
            Direction::Lower => baseline * (1.0 + pct / 100.0),
        };
        return vec![
            ("experiment".into(), baseline, Level::Experiment),
            (format!("warn (−{}%)", t.warn), at(t.warn), Level::Warn),
            (format!("alert (−{}%)", t.alert), at(t.alert), Level::Alert),
        ];
    }
    thresholds
        .iter()
        .find(|t| t.metric == metric)
        .map(|t| {
            vec![
                ("warn".into(), t.warn, Level::Warn),
                ("alert".into(), t.alert, Level::Alert),
            ]
        })
        .unwrap_or_default()
}

/// `GET /charts/drift/quadrant.svg?range=30d&theme=dark`, for signed-in people.
pub async fn quadrant_chart(
    State(state): State<AppState>,
    Query(query): Query<DriftChartQuery>,
) -> Response {
    let range = query.range();
    let (from, to) = range.bounds(app::clock::now());
    match app::drift::store::rows(&state.pool, from, to, None).await {
        Ok(rows) => {
            let mut response = svg_response(quadrant_svg(&rows, &range.label(), query.theme));
            // The page embeds this chart as a document (its points are links), which the site's
            // `DENY` would refuse; only Pareto's own pages may embed it.
            response.headers_mut().insert(
                axum::http::header::X_FRAME_OPTIONS,
                axum::http::HeaderValue::from_static("SAMEORIGIN"),
            );
            response
        }
        Err(error) => chart_failed("loading the drift chart's data failed", &error),
    }
}

/// `GET /charts/drift/spend.svg?range=30d&by=team|model&theme=dark`: spend stacked by team or
/// model, by day (by week past 31 days).
pub async fn spend_chart(
    State(state): State<AppState>,
    Query(query): Query<DriftChartQuery>,
) -> Response {
    let (from, to) = query.range().bounds(app::clock::now());
    let by_model = query.by.as_deref() == Some("model");
    let spend = match app::drift::store::spend(&state.pool, from, to, by_model).await {
        Ok(spend) => spend,
        Err(error) => return chart_failed("loading the spend chart's data failed", &error),
    };
    let columns: Vec<String> = spend
        .columns
        .iter()
        .map(|at| at.format("%b %d").to_string())
        .collect();
    let groups: Vec<app::bills::explore::GroupRow> = spend
        .groups
        .into_iter()
        .map(|(label, amounts)| app::bills::explore::GroupRow {
            label,
            total: amounts.iter().copied().sum(),
            amounts,
        })
        .collect();
    svg_response(super::stacked_bars(
        &columns,
        &groups,
        &spend.currency,
        query.theme,
    ))
}

/// `GET /charts/drift/deployments/{key}.svg?range=30d&metric=psi&feature=amount_usd&theme=dark`.
pub async fn deployment_chart(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<DriftChartQuery>,
) -> Response {
    let Some(key) = file.strip_suffix(".svg") else {
        return (StatusCode::NOT_FOUND, "No such chart.").into_response();
    };
    let Some(metric) = query.metric.clone() else {
        return (StatusCode::BAD_REQUEST, "Say which metric to draw.").into_response();
    };
    let pool = &state.pool;
    let id = match app::drift::store::deployment_id(pool, key).await {
        Ok(Some(id)) => id,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such deployment.").into_response(),
        Err(error) => return chart_failed("loading a chart's data failed", &error),
    };
    let range = query.range();
    let (from, to) = range.bounds(app::clock::now());
    let loaded = async {
        let series = app::drift::store::series(pool, id, &metric, &query.feature, from, to).await?;
        let thresholds = app::drift::store::thresholds(pool, id).await?;
        let baseline = if query.feature.is_empty() {
            app::drift::store::baseline(pool, id, &metric).await?
        } else {
            None
        };
        Ok::<_, sqlx::Error>((series, thresholds, baseline))
    };
    let (series, thresholds, baseline) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return chart_failed("loading a chart's data failed", &error),
    };
    let drift_label = if query.feature.is_empty() {
        drift_metric_label(&metric)
    } else {
        format!("{} of {}", drift_metric_label(&metric), query.feature)
    };
    let chart = OverTime {
        title: format!("{key}: {drift_label} and cost per 1,000 requests"),
        drift_label,
        drift: &series.drift,
        cost: &series.cost,
        currency: series.currency.as_deref().unwrap_or("cost"),
        levels: levels(&metric, &query.feature, &thresholds, baseline),
        zoom: query.feature.is_empty(),
    };
    svg_response(over_time_svg(&chart, from, to, query.theme))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn row(key: &str, per_1k: &str, state: DriftState, score: f64) -> DriftRow {
        DriftRow {
            deployment_id: uuid::Uuid::nil(),
            key: key.into(),
            model_id: Some(uuid::Uuid::nil()),
            model: Some("m".into()),
            version: Some("1".into()),
            team: None,
            state,
            score: Some(score),
            findings: Vec::new(),
            currency: Some("USD".into()),
            cost: None,
            requests: 1,
            per_1k: per_1k.parse::<Decimal>().ok(),
            per_1k_change_pct: None,
            monthly: None,
        }
    }

    #[test]
    fn the_quadrant_chart_links_each_point_and_describes_itself() {
        let rows = vec![
            row("cheap-ok", "0.01", DriftState::Healthy, 0.2),
            row("dear-drifting", "2.5", DriftState::Drifting, 1.8),
            row("<odd & name>", "0.3", DriftState::Warning, 0.7),
        ];
        let svg = quadrant_svg(&rows, "last 30 days", Theme::Dark).expect("svg");
        assert!(svg.starts_with("<svg"));
        assert!(
            svg.contains("<title>Drift versus cost across deployments</title><desc>3 deployments")
        );
        assert_eq!(svg.matches("<a href=\"/models/").count(), 3);
        assert!(svg.contains("&lt;odd &amp; name&gt;"), "names are escaped");
        assert!(svg.contains("Expensive and drifting"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn the_over_time_chart_draws_its_levels_and_keeps_under_the_point_budget() {
        let start = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).expect("time");
        let drift: Vec<SeriesPoint> = (0..5000)
            .map(|i| SeriesPoint {
                at: start + chrono::TimeDelta::minutes(i),
                value: if i == 2500 { 0.9 } else { 0.05 },
            })
            .collect();
        let cost = vec![SeriesPoint {
            at: start,
            value: 0.2,
        }];
        let chart = OverTime {
            title: "fraud: PSI".into(),
            drift_label: "PSI of amount".into(),
            drift: &drift,
            cost: &cost,
            currency: "USD",
            levels: levels("psi", "amount", &app::drift::default_thresholds(), None),
            zoom: false,
        };
        let svg = over_time_svg(
            &chart,
            start,
            start + chrono::TimeDelta::days(4),
            Theme::Light,
        )
        .expect("svg");
        assert!(svg.contains("<title>fraud: PSI</title>"));
        assert!(
            svg.contains("warn 0.100, alert 0.250"),
            "levels are described"
        );
        assert!(svg.contains("USD per 1,000"));
    }

    #[test]
    fn performance_levels_sit_below_the_experiment_figure() {
        let levels = levels("f1", "", &app::drift::default_thresholds(), Some(0.9));
        assert_eq!(levels.len(), 3);
        assert!((levels[2].1 - 0.855).abs() < 1e-9, "5% below 0.9");
        let levels = super::levels("mape", "", &app::drift::default_thresholds(), Some(0.1));
        assert!((levels[2].1 - 0.105).abs() < 1e-9, "MAPE rises");
    }
}
