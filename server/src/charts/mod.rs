//! Server-rendered SVG charts (plotters). Each chart is drawn once per colour scheme; the page picks
//! the one matching the reader's `prefers-color-scheme` with `<picture>`. This module holds the
//! drawing every chart shares (themes, the line chart, stacked bars, the SVG answer); each
//! feature's charts and their handlers are in a file of their own.

mod bills;
mod catalog;
pub mod drift;
mod experiments;
mod fleet;
mod pipelines;

pub use bills::bill_chart;
pub use catalog::model_chart;
pub use experiments::{experiment_frontier, frontier_chart, frontier_svg, RunPoint};
pub use fleet::deployment_chart;
pub use pipelines::{pipeline_chart, pipeline_frontier};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use plotters::chart::MeshStyle;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

pub(crate) struct Palette {
    pub(crate) text: RGBColor,
    pub(crate) grid: RGBColor,
    pub(crate) axis: RGBColor,
    pub(crate) series: RGBColor,
    /// What a chart points out beside its series: a run's derivation from its parent.
    pub(crate) accent: RGBColor,
}

impl Palette {
    /// Chart text at `size` pixels.
    pub(crate) fn font(&self, size: u32) -> TextStyle<'static> {
        ("sans-serif", size).into_font().color(&self.text)
    }

    /// What every chart's mesh shares: grid lines at the labelled values only, the palette's axes,
    /// and `font` for labels and axis descriptions.
    pub(crate) fn style_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
        &self,
        mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
        font: TextStyle<'b>,
    ) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
        mesh.light_line_style(self.grid.mix(0.0))
            .bold_line_style(self.grid)
            .axis_style(self.axis)
            .label_style(font.clone())
            .axis_desc_style(font)
    }
}

impl Theme {
    pub(crate) fn palette(self) -> Palette {
        match self {
            Theme::Light => Palette {
                text: RGBColor(0x5b, 0x66, 0x75),
                grid: RGBColor(0xe6, 0xea, 0xef),
                axis: RGBColor(0xc3, 0xca, 0xd3),
                series: RGBColor(0x1f, 0x5f, 0x8b),
                accent: RGBColor(0xb8, 0x5c, 0x12),
            },
            Theme::Dark => Palette {
                text: RGBColor(0xa3, 0xad, 0xba),
                grid: RGBColor(0x26, 0x2e, 0x39),
                axis: RGBColor(0x3d, 0x47, 0x55),
                series: RGBColor(0x5a, 0xa5, 0xda),
                accent: RGBColor(0xe8, 0x9a, 0x4e),
            },
        }
    }
}

/// A time series; `None` is a gap the line does not bridge.
pub struct Series {
    pub y_label: String,
    pub points: Vec<(DateTime<Utc>, Option<f64>)>,
    pub format: fn(f64) -> String,
    /// Labelled values drawn across the chart as dashed lines (tier thresholds); a line far
    /// above the data (over three times its highest point) is left out so the data stays readable.
    pub levels: Vec<(String, f64)>,
}

impl Series {
    /// The levels worth drawing with these points.
    fn levels_shown(&self) -> Vec<&(String, f64)> {
        let max = self
            .points
            .iter()
            .filter_map(|(_, y)| *y)
            .fold(0.0_f64, f64::max);
        self.levels
            .iter()
            .filter(|(_, value)| *value > 0.0 && (max <= 0.0 || *value <= max * 3.0))
            .collect()
    }
}

/// Draws `series` between `from` and `to` as an SVG document.
pub fn line_chart(
    series: &Series,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    theme: Theme,
) -> Result<String, String> {
    let palette = theme.palette();
    let levels = series.levels_shown();
    let max = series
        .points
        .iter()
        .filter_map(|(_, y)| *y)
        .chain(levels.iter().map(|(_, v)| *v))
        .fold(0.0_f64, f64::max);
    let top = if max > 0.0 { max * 1.12 } else { 1.0 };
    let span_days = (to - from).num_days();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 240)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(12)
            .margin_right(16)
            .x_label_area_size(32)
            .y_label_area_size(84)
            .build_cartesian_2d(from..to, 0.0..top)
            .map_err(|e| e.to_string())?;
        let label_font = palette.font(15);
        let format = series.format;
        palette
            .style_mesh(&mut chart.configure_mesh(), label_font)
            .y_desc(series.y_label.as_str())
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|t: &DateTime<Utc>| {
                if span_days <= 1 {
                    t.format("%H:%M").to_string()
                } else {
                    t.format("%b %d").to_string()
                }
            })
            .y_label_formatter(&|y: &f64| format(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        let level_color = match theme {
            Theme::Light => RGBColor(0xc0, 0x6a, 0x1c),
            Theme::Dark => RGBColor(0xf0, 0x9a, 0x4e),
        };
        for (label, value) in &levels {
            chart
                .draw_series(DashedLineSeries::new(
                    [(from, *value), (to, *value)],
                    6,
                    4,
                    level_color.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            let (x, y) = chart.backend_coord(&(from, *value));
            root.draw(&Text::new(
                label.clone(),
                (x + 6, y - 16),
                ("sans-serif", 13).into_font().color(&level_color),
            ))
            .map_err(|e| e.to_string())?;
        }
        for run in runs(&series.points) {
            chart
                .draw_series(AreaSeries::new(run.clone(), 0.0, palette.series.mix(0.12)))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(LineSeries::new(run, palette.series.stroke_width(2)))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The unbroken stretches of a series.
fn runs(points: &[(DateTime<Utc>, Option<f64>)]) -> Vec<Vec<(DateTime<Utc>, f64)>> {
    let mut runs = vec![Vec::new()];
    for (at, value) in points {
        match (value, runs.last_mut()) {
            (Some(value), Some(run)) => run.push((*at, *value)),
            (None, Some(run)) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

pub(crate) fn money(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

fn count(value: f64) -> String {
    if value >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if value >= 1_000.0 {
        format!("{:.0}k", value / 1_000.0)
    } else {
        format!("{value:.0}")
    }
}

#[derive(Deserialize)]
pub struct ThemeQuery {
    #[serde(default)]
    theme: Theme,
}

/// Logs why a chart failed; the reader gets a plain 500.
pub(crate) fn chart_failed(what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "{what}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The chart could not be drawn.",
    )
        .into_response()
}

pub(crate) fn svg_response(svg: Result<String, String>) -> Response {
    match svg {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "private, max-age=60"),
            ],
            svg,
        )
            .into_response(),
        Err(error) => chart_failed("drawing a chart failed", &error),
    }
}

/// Colours for stacked series, distinguishable in light and dark.
pub(crate) const STACK_LIGHT: [RGBColor; 8] = [
    RGBColor(0x1f, 0x5f, 0x8b),
    RGBColor(0xd9, 0x7b, 0x29),
    RGBColor(0x3a, 0x8d, 0x5c),
    RGBColor(0x8e, 0x4b, 0x9e),
    RGBColor(0xc2, 0x41, 0x4b),
    RGBColor(0x2a, 0x9d, 0xa8),
    RGBColor(0xb5, 0x9a, 0x2a),
    RGBColor(0x8a, 0x93, 0x9e),
];
pub(crate) const STACK_DARK: [RGBColor; 8] = [
    RGBColor(0x5a, 0xa5, 0xda),
    RGBColor(0xf0, 0x9a, 0x4e),
    RGBColor(0x62, 0xc0, 0x88),
    RGBColor(0xbb, 0x86, 0xcc),
    RGBColor(0xe8, 0x6b, 0x74),
    RGBColor(0x52, 0xc7, 0xd1),
    RGBColor(0xd9, 0xc0, 0x55),
    RGBColor(0x8a, 0x93, 0x9e),
];

/// Stacked bars, one per column (a month, a team), one colour per group, with the legend on the
/// right; `columns` are the labels shown under the bars.
pub fn stacked_bars(
    columns: &[String],
    groups: &[app::bills::explore::GroupRow],
    currency: &str,
    theme: Theme,
) -> Result<String, String> {
    let palette = theme.palette();
    let colors = match theme {
        Theme::Light => STACK_LIGHT,
        Theme::Dark => STACK_DARK,
    };
    let value = |d: &rust_decimal::Decimal| d.to_f64().unwrap_or(0.0).max(0.0);
    let max = (0..columns.len())
        .map(|m| groups.iter().map(|g| value(&g.amounts[m])).sum::<f64>())
        .fold(0.0_f64, f64::max);
    let top = if max > 0.0 { max * 1.1 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        let (plot, legend) = root.split_horizontally(540);
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(12)
            .margin_right(8)
            .x_label_area_size(32)
            .y_label_area_size(84)
            .build_cartesian_2d(-0.5..(columns.len() as f64 - 0.5), 0.0..top)
            .map_err(|e| e.to_string())?;
        let label_font = palette.font(15);
        // At most about 10 labels under the bars, evenly spaced.
        let step = columns.len().div_ceil(10).max(1);
        let column_label = |x: &f64| {
            let index = x.round();
            if (x - index).abs() > 0.01 || index < 0.0 || !(index as usize).is_multiple_of(step) {
                return String::new();
            }
            columns.get(index as usize).cloned().unwrap_or_default()
        };
        palette
            .style_mesh(&mut chart.configure_mesh(), label_font.clone())
            .disable_x_mesh()
            .y_desc(currency)
            .y_labels(5)
            .x_labels(columns.len().max(1))
            .x_label_formatter(&column_label)
            .y_label_formatter(&|y: &f64| if *y == 0.0 { "0".into() } else { money(*y) })
            .draw()
            .map_err(|e| e.to_string())?;
        for m in 0..columns.len() {
            let x = m as f64;
            let mut base = 0.0;
            for (g, group) in groups.iter().enumerate() {
                let height = value(&group.amounts[m]);
                if height <= 0.0 {
                    continue;
                }
                let color = colors[g.min(colors.len() - 1)];
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.32, base), (x + 0.32, base + height)],
                        color.filled(),
                    )))
                    .map_err(|e| e.to_string())?;
                base += height;
            }
        }
        for (g, group) in groups.iter().enumerate() {
            let y = 20 + i32::try_from(g).unwrap_or(0) * 24;
            let color = colors[g.min(colors.len() - 1)];
            legend
                .draw(&Rectangle::new([(12, y), (24, y + 12)], color.filled()))
                .map_err(|e| e.to_string())?;
            let mut label = group.label.clone();
            if label.chars().count() > 20 {
                label = label.chars().take(19).collect::<String>() + "…";
            }
            legend
                .draw(&Text::new(label, (30, y - 1), label_font.clone()))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time") + TimeDelta::hours(hours)
    }

    #[test]
    fn a_chart_is_an_svg_with_its_axis_label() {
        let series = Series {
            y_label: "requests".into(),
            points: (0..24).map(|h| (at(h), Some(h as f64 * 10.0))).collect(),
            format: count,
            levels: vec![
                ("Tier 1 ≤ 200".into(), 200.0),
                ("far above".into(), 10_000.0),
            ],
        };
        let svg = line_chart(&series, at(0), at(24), Theme::Dark).expect("svg");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("requests"));
        assert!(
            svg.contains("#5AA5DA") || svg.contains("#5aa5da"),
            "the dark palette's series colour"
        );
        assert!(
            svg.contains("Tier 1 ≤ 200"),
            "a level near the data is drawn"
        );
        assert!(!svg.contains("far above"), "a level far above it is not");
    }

    #[test]
    fn gaps_split_the_line() {
        let points = vec![
            (at(0), Some(1.0)),
            (at(1), Some(2.0)),
            (at(2), None),
            (at(3), Some(3.0)),
        ];
        let runs = runs(&points);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 2);
        assert_eq!(runs[1].len(), 1);
        assert!(super::runs(&[(at(0), None)]).is_empty());
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(money(1234.6), "1235");
        assert_eq!(money(2.5), "2.50");
        assert_eq!(money(0.00375), "0.0037");
        assert_eq!(count(2_500_000.0), "2.5M");
        assert_eq!(count(12_000.0), "12k");
    }
}
