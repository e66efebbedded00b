//! The evaluation report of an experiment, as Markdown for a repository: the question and its SLA,
//! the candidates with their quality, latency and cost, the decision matrix at the default weights,
//! the recommendation, when another candidate would win (the volume at which self-hosting pays,
//! the cascades), the assumptions (prices, volume, mode) and the sign-off from the review gate.

use chrono::{DateTime, Utc};
use std::fmt::Write;

use super::select::{scores, Weights};
use super::view::ExperimentView;
use crate::format::{format_count, format_money, format_number};
use crate::reviews::PromotionRequest;

/// A cell of a Markdown table: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The report for `view`, with the review-gate requests of the recommended run's version and
/// the recommendation were it served the other way (`other_mode`, batch against real time).
pub fn markdown(
    view: &ExperimentView,
    sign_off: Option<&PromotionRequest>,
    other_mode: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let e = &view.experiment;
    let currency = e.currency.as_str();
    let mut out = String::new();
    let _ = writeln!(out, "# Evaluation: {}\n", e.name);
    let _ = writeln!(
        out,
        "_{} experiment of {}, written by Pareto on {}. Every figure is as of that date._\n",
        e.task_type.label(),
        e.team,
        now.format("%Y-%m-%d")
    );
    let _ = writeln!(out, "## The question\n");
    if !e.dataset.is_empty() {
        let _ = writeln!(out, "Evaluated on: {}\n", e.dataset);
    }
    let _ = writeln!(
        out,
        "Which candidate meets the SLA at the least cost, for {} requests a month served {}, judged on {}?\n",
        format_count(i64::try_from(e.monthly_volume).unwrap_or(i64::MAX)),
        e.mode.label(),
        super::metric_label(&e.primary_metric)
    );
    if e.constraints.is_empty() {
        let _ = writeln!(out, "The SLA sets no constraint.\n");
    } else {
        let _ = writeln!(out, "The SLA:\n");
        for constraint in &e.constraints {
            let _ = writeln!(out, "- {}", constraint.describe(currency));
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## The candidates\n");
    let metric = super::metric_label(&e.primary_metric);
    let _ = writeln!(
        out,
        "| Candidate | {metric} | p50 | p95 | Per 1,000 requests | A month | Meets the SLA |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
    let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{} ms", format_number(v)));
    for run in &view.runs {
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} |",
            cell(&run.name),
            if run.recommended {
                " (recommended)"
            } else {
                ""
            },
            run.quality.map_or("—".to_owned(), format_number),
            ms(run.p50_ms),
            ms(run.p95_ms),
            run.per_thousand
                .map_or("—".to_owned(), |v| format_money(v, currency)),
            run.monthly
                .map_or("—".to_owned(), |v| format_money(v, currency)),
            if run.meets_all { "yes" } else { "no" },
        );
    }
    if view.total_runs > view.runs.len() {
        let _ = writeln!(
            out,
            "\n{} more candidates are not listed; every one was considered.",
            view.total_runs - view.runs.len()
        );
    }
    out.push('\n');

    let weights = Weights::default();
    let rows: Vec<_> = view.runs.iter().map(|r| r.matrix_row()).collect();
    let scored = scores(&rows, e.direction, weights);
    let _ = writeln!(
        out,
        "## The decision matrix\n\nEach figure scaled from 0 (worst candidate) to 1 (best), weighted {:.0}% quality, {:.0}% cost and {:.0}% latency.\n",
        weights.quality * 100.0,
        weights.cost * 100.0,
        weights.latency * 100.0
    );
    let _ = writeln!(out, "| Candidate | Quality | Cost | Latency | Score |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let mut ranked: Vec<(usize, f64)> = scored.iter().map(|s| s.total).enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let part = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2}"));
    for (index, total) in ranked {
        let s = &scored[index];
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {total:.2} |",
            cell(&view.runs[index].name),
            part(s.quality),
            part(s.cost),
            part(s.latency)
        );
    }
    out.push('\n');

    let _ = writeln!(out, "## The recommendation\n\n{}\n", view.recommendation);
    for (run, reasons) in &view.blockers {
        let _ = writeln!(out, "- {}: {}", cell(run), reasons.join("; "));
    }
    if !view.blockers.is_empty() {
        out.push('\n');
    }

    let _ = writeln!(out, "## When another candidate wins\n");
    let mut any = false;
    if let Some(sentence) = other_mode {
        any = true;
        let _ = writeln!(out, "- {sentence}");
    }
    for crossover in &view.crossovers {
        any = true;
        let _ = match crossover.volume {
            Some(volume) => writeln!(
                out,
                "- {} costs no more than {} from {} requests a month.",
                crossover.self_hosted,
                crossover.api,
                format_count(i64::try_from(volume).unwrap_or(i64::MAX))
            ),
            None => writeln!(
                out,
                "- {} never costs less than {} at any volume.",
                crossover.self_hosted, crossover.api
            ),
        };
    }
    for scenario in &view.scenarios {
        if let Some(outcome) = &scenario.outcome {
            any = true;
            let _ = writeln!(
                out,
                "- The cascade “{}” ({} first, then {}): {} a month, {} less than {} alone.",
                scenario.scenario.name,
                scenario.cheap,
                scenario.expensive,
                format_money(outcome.monthly, currency),
                format_money(outcome.saving, currency),
                scenario.expensive
            );
        }
    }
    if !any {
        let _ = writeln!(
            out,
            "No volume crossover or saved cascade changes the choice."
        );
    }
    out.push('\n');

    if !view.compression.is_empty() {
        let _ = writeln!(out, "## What compression bought\n");
        let metric = crate::experiments::metric_label(&e.primary_metric);
        let _ = writeln!(
            out,
            "| Technique | Run, from its parent | Saved a month | {} (points) | p95 |",
            cell(&metric)
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|");
        for row in &view.compression {
            let _ = writeln!(
                out,
                "| {} | {} ← {} | {} | {} | {} |",
                row.technique.label(),
                cell(&row.run),
                cell(&row.parent),
                row.saving_monthly
                    .map_or("—".to_owned(), |s| format_money(s, currency)),
                row.quality_delta.map_or("—".to_owned(), |d| format!(
                    "{:+}",
                    (d * 10_000.0).round() / 100.0
                )),
                row.p95_delta_ms
                    .map_or("—".to_owned(), |d| format!("{d:+.0} ms")),
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Assumptions\n");
    let _ = writeln!(
        out,
        "- Volume: {} requests a month, served {}; costs in {currency}.",
        format_count(i64::try_from(e.monthly_volume).unwrap_or(i64::MAX)),
        e.mode.label()
    );
    for run in &view.runs {
        let _ = writeln!(
            out,
            "- {}: {}{}",
            cell(&run.name),
            run.basis,
            if run.price_source.is_empty() {
                String::new()
            } else {
                format!(" (price: {})", run.price_source)
            }
        );
    }
    out.push('\n');

    let _ = writeln!(out, "## Sign-off\n");
    match sign_off {
        Some(request) => {
            let _ = writeln!(
                out,
                "{} {} was asked for production by {} on {}: {}.",
                request.model,
                request.version,
                request.requested_by,
                request.created_at.format("%Y-%m-%d"),
                request.status_line()
            );
            for review in &request.reviews {
                let _ = writeln!(
                    out,
                    "- {} {} on {}{}",
                    review.reviewer,
                    if review.approve {
                        "approved"
                    } else {
                        "rejected"
                    },
                    review.at.format("%Y-%m-%d"),
                    if review.comment.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", review.comment)
                    }
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "Not yet asked for production: the recommended candidate's version has no request at the review gate."
            );
        }
    }
    out
}
