//! The evaluation report of a pipeline, as Markdown for a repository: the question (stages,
//! traffic, end-to-end SLA), each stage's candidates priced at the traffic it sees, the
//! recommendation with its bottleneck, the frontier of cost against quality, what was measured end
//! to end, and the assumptions the figures rest on.

use chrono::{DateTime, Utc};
use std::fmt::Write;

use super::search::Combination;
use super::PipelineView;
use crate::format::{format_count, format_number};

/// A cell of a Markdown table: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn money(value: f64, currency: &str) -> String {
    format!(
        "{} {currency}",
        format_number((value * 10_000.0).round() / 10_000.0)
    )
}

/// One pick per stage, as "stage: run".
fn picks(view: &PipelineView, combination: &Combination) -> String {
    combination
        .picks
        .iter()
        .zip(&view.stages)
        .map(|(pick, stage)| {
            format!(
                "{}: {}",
                stage.stage.name, stage.stage.candidates[*pick].name
            )
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn bottleneck(view: &PipelineView, combination: &Combination) -> String {
    view.stages
        .get(combination.bottleneck)
        .map(|s| s.stage.name.clone())
        .unwrap_or_default()
}

/// The report for `view`, its figures as of `now`.
pub fn markdown(view: &PipelineView, now: DateTime<Utc>) -> String {
    let currency = view.currency.as_str();
    let metric = crate::experiments::metric_label(&view.metric);
    let mut out = String::new();
    let _ = writeln!(out, "# Pipeline evaluation: {}\n", view.name);
    let _ = writeln!(
        out,
        "_Pipeline of {} in {} stages, written by Pareto on {}. Every figure is as of that date._\n",
        view.team,
        view.stages.len(),
        now.format("%Y-%m-%d")
    );
    let _ = writeln!(out, "## The question\n");
    if !view.description.is_empty() {
        let _ = writeln!(out, "{}\n", view.description);
    }
    let _ = writeln!(
        out,
        "Which candidate of each stage, together, serves {} requests a month most cheaply within the end-to-end SLA?\n",
        format_count(i64::try_from(view.monthly_volume).unwrap_or(i64::MAX))
    );
    if view.sla.is_empty() {
        let _ = writeln!(out, "The SLA sets no constraint.\n");
    } else {
        let _ = writeln!(out, "The SLA:\n");
        for (_, shown) in &view.sla {
            let _ = writeln!(out, "- {shown}");
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## The stages\n");
    for (index, stage) in view.stages.iter().enumerate() {
        let _ = writeln!(
            out,
            "### Stage {}: {}\n\nFrom experiment {}: {:.0}% of requests reach it, {} scored each, {} items a month.\n",
            index + 1,
            stage.stage.name,
            stage.experiment,
            stage.stage.share * 100.0,
            if stage.stage.fan_out == 1.0 {
                "1 item".to_owned()
            } else {
                format!("{} items", format_number(stage.stage.fan_out))
            },
            format_count(i64::try_from(stage.items_per_month).unwrap_or(i64::MAX))
        );
        let _ = writeln!(
            out,
            "| Candidate | Per 1,000 items | p50 | p95 | {} |",
            cell(&metric)
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for c in &stage.stage.candidates {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} ms | {:.0} ms | {} |",
                cell(&c.name),
                money(c.cost_per_1k, currency),
                c.p50_ms,
                c.p95_ms,
                c.quality.map_or("—".to_owned(), format_number)
            );
        }
        if !stage.left_out.is_empty() {
            let _ = writeln!(out, "\nLeft out: {}.", stage.left_out.join("; "));
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## The recommendation\n");
    match (&view.problem, &view.found) {
        (Some(problem), _) => {
            let _ = writeln!(out, "The pipeline cannot be searched: {problem}\n");
        }
        (None, Some(found)) => {
            match &found.best {
                Some(best) => {
                    let _ = writeln!(
                        out,
                        "**{}**: {} per 1,000 requests, {} a month; p50 {:.0} ms and p95 {:.0} ms end to end (at most {:.0} ms if every stage is slow at once); {metric} {}. Its bottleneck is the {} stage.\n",
                        picks(view, best),
                        money(best.cost_per_1k, currency),
                        money(best.monthly.round(), currency),
                        best.p50_ms,
                        best.p95_ms,
                        best.p95_upper_ms,
                        best.quality.map_or("—".to_owned(), format_number),
                        bottleneck(view, best)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "No combination meets the SLA. The frontier below shows what each budget buys within its latency and money bounds.\n"
                    );
                }
            }
            let _ = writeln!(
                out,
                "{} combinations; {} searched after leaving out candidates another of their stage beats on cost, p50 and p95.\n",
                format_count(i64::try_from(found.combinations).unwrap_or(i64::MAX)),
                format_count(i64::try_from(found.searched).unwrap_or(i64::MAX))
            );
            let _ = writeln!(out, "## The frontier\n");
            if found.frontier.is_empty() {
                let _ = writeln!(
                    out,
                    "No combination with a measured quality keeps the SLA's latency and money bounds.\n"
                );
            } else {
                let _ = writeln!(
                    out,
                    "Each combination below is the cheapest for its {metric}: more quality costs more.\n"
                );
                let _ = writeln!(
                    out,
                    "| Combination | Per 1,000 | A month | p95 (upper bound) | {} | Bottleneck |",
                    cell(&metric)
                );
                let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
                for c in &found.frontier {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {:.0} ms ({:.0}) | {} | {} |",
                        cell(&picks(view, c)),
                        money(c.cost_per_1k, currency),
                        money(c.monthly.round(), currency),
                        c.p95_ms,
                        c.p95_upper_ms,
                        c.quality.map_or("—".to_owned(), format_number),
                        cell(&bottleneck(view, c))
                    );
                }
                out.push('\n');
            }
        }
        (None, None) => {}
    }
    if !view.measured.is_empty() {
        let _ = writeln!(out, "## Measured end to end\n");
        for (names, value) in &view.measured {
            let _ = writeln!(
                out,
                "- {}: {metric} {}",
                names.join(" → "),
                format_number(*value)
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Assumptions\n");
    let _ = writeln!(
        out,
        "- Volume: {} requests a month; costs in {currency}. Each stage is priced at the items it scores a month (requests × share × fan-out), its runs' cost per 1,000 at that volume, as their experiments price them.",
        format_count(i64::try_from(view.monthly_volume).unwrap_or(i64::MAX))
    );
    let _ = writeln!(
        out,
        "- Latency: each stage's latency is taken as log-normal from its p50 and p95, and the stages are summed by their means and variances (Fenton–Wilkinson); a stage reached by a share of requests adds to that share only. The summed p95s, every stage slow at once, is the upper bound. A run without a p50 is taken to always take its p95."
    );
    let _ = writeln!(
        out,
        "- Quality: the last stage's {metric}, unless the combination was measured end to end, which wins."
    );
    out.push('\n');
    let _ = writeln!(out, "## Sign-off\n");
    let _ = writeln!(
        out,
        "A pipeline has no review of its own: each stage's chosen version goes through the review gate, and its experiment's report carries that sign-off."
    );
    out
}
