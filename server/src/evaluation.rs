//! Evaluation reports, worked out at the moment of the download: an experiment's
//! (`/experiments/{id}/report.md|html`, with the sign-off of the recommended version from the
//! review gate) and a pipeline's (`/pipelines/{id}/report.md|html`). Markdown for a repository;
//! HTML with the frontier chart inline and a print stylesheet that makes a clean A4 PDF.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::charts::{experiment_frontier, pipeline_frontier, Theme};
use app::state::AppState;

/// A report as written: its Markdown and the chart the HTML shows before `chart_before` (a
/// heading of the rendered report).
struct Report {
    title: String,
    file_stem: String,
    markdown: String,
    chart: Option<String>,
    chart_caption: String,
    chart_before: &'static str,
}

pub async fn experiment_markdown(
    State(state): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    respond(experiment_report(&state, id).await, false)
}

pub async fn experiment_html(
    State(state): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    respond(experiment_report(&state, id).await, true)
}

pub async fn pipeline_markdown(
    State(state): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    respond(pipeline_report(&state, id).await, false)
}

pub async fn pipeline_html(State(state): State<AppState>, Path(id): Path<uuid::Uuid>) -> Response {
    respond(pipeline_report(&state, id).await, true)
}

fn respond(report: Result<Option<Report>, sqlx::Error>, html: bool) -> Response {
    match report {
        Ok(Some(report)) if html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned())],
            print_html(&report),
        )
            .into_response(),
        Ok(Some(report)) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.md\"", report.file_stem),
                ),
            ],
            report.markdown,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "Nothing has this id.").into_response(),
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

fn slug(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.trim_matches('-').to_owned()
}

async fn experiment_report(
    state: &AppState,
    experiment_id: uuid::Uuid,
) -> Result<Option<Report>, sqlx::Error> {
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
    let other_mode = app::experiments::store::other_mode(pool, experiment_id).await?;
    let markdown = app::experiments::report::markdown(
        &view,
        sign_off.as_ref(),
        other_mode.as_deref(),
        app::clock::now(),
    );
    Ok(Some(Report {
        title: format!("Evaluation: {}", view.experiment.name),
        file_stem: format!("evaluation-{}", slug(&view.experiment.name)),
        markdown,
        chart: experiment_frontier(&view, false, Theme::Light).ok(),
        chart_caption: "Quality against cost per 1,000 requests: the frontier joined by the line, the recommended run ringed.".into(),
        chart_before: "<h2>The decision matrix</h2>",
    }))
}

async fn pipeline_report(
    state: &AppState,
    pipeline_id: uuid::Uuid,
) -> Result<Option<Report>, sqlx::Error> {
    let Some(view) = app::pipelines::store::view(&state.pool, pipeline_id).await? else {
        return Ok(None);
    };
    Ok(Some(Report {
        title: format!("Pipeline evaluation: {}", view.name),
        file_stem: format!("pipeline-{}", slug(&view.name)),
        markdown: app::pipelines::report::markdown(&view, app::clock::now()),
        chart: view
            .found
            .as_ref()
            .and_then(|_| pipeline_frontier(&view, Theme::Light).ok()),
        chart_caption: "Quality against the end-to-end cost per 1,000 requests of the frontier's combinations; the cheapest within the SLA ringed.".into(),
        chart_before: "<h2>Measured end to end</h2>",
    }))
}

/// The report as a page to read or print: the Markdown rendered (and sanitized, since names come
/// from people), the chart placed before its heading (else after the frontier's or at the end).
fn print_html(report: &Report) -> String {
    let mut body = app::cards::readme::render(&report.markdown);
    if let Some(svg) = &report.chart {
        let figure = format!(
            "<figure role=\"img\" aria-label=\"{caption}\">{svg}<figcaption>{caption}</figcaption></figure>",
            caption = report.chart_caption
        );
        let at = body
            .find(report.chart_before)
            .or_else(|| body.find("<h2>Assumptions</h2>"))
            .unwrap_or(body.len());
        body.insert_str(at, &figure);
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · Pareto</title><style>{PRINT_CSS}</style></head><body><main><p class=\"brand\">Pareto</p><p class=\"hint\">Print this page, or save it as PDF, for a clean A4 copy.</p>{body}</main></body></html>",
        escape(&report.title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Readable on screen and on A4 paper: tables never cut through a row, a figure never split,
/// headings kept with what follows them.
const PRINT_CSS: &str = r#"
:root { color-scheme: light; --text: #1c2430; --muted: #5b6675; --border: #dde2e8; --accent: #1f5f8b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--text); background: #f6f8fa; }
main { max-width: 880px; margin: 0 auto; padding: 32px 28px; background: #fff; }
.brand { margin: 0; font-weight: 700; color: var(--accent); letter-spacing: .02em; }
.hint { margin: 0 0 12px; color: var(--muted); font-size: 12px; }
h1 { margin: 4px 0 8px; font-size: 24px; }
h2 { margin: 28px 0 8px; font-size: 17px; border-bottom: 1px solid var(--border); padding-bottom: 4px; }
h3 { margin: 20px 0 6px; font-size: 15px; }
em { color: var(--muted); }
figure { margin: 16px 0; }
figure svg { width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 8px 0 12px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--border); text-align: left; }
th[style*="right"], td[style*="right"] { text-align: right; white-space: nowrap; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--border); }
@media (max-width: 700px) { main { padding: 16px 12px; } table { display: block; overflow-x: auto; } }
@page { size: A4 portrait; margin: 16mm 14mm; }
@media print {
  body { background: #fff; font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .hint { display: none; }
  h2, h3 { break-after: avoid; }
  tr, figure { break-inside: avoid; }
  thead { display: table-header-group; }
}
"#;
