//! Two to five runs side by side: one column per run, one row per figure.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::view::{ExperimentView, RunRow};
use crate::components::{format_money, Loaded, PageHeader};
use crate::format::format_number;

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let id = crate::components::id_from_route();
    let runs = Memo::new(move |_| {
        query
            .read()
            .get("runs")
            .unwrap_or_default()
            .split(',')
            .filter_map(|r| Uuid::parse_str(r.trim()).ok())
            .collect::<Vec<_>>()
    });
    let compared = Resource::new(
        move || (id.get(), runs.get()),
        |(id, runs)| super::compare_runs(id, runs),
    );
    view! {
        <Title text="Compare runs · Pareto" />
        <p class="breadcrumb">
            <a href="/experiments">"Experiments"</a>
            " / "
            <a href=move || format!("/experiments/{}", id.get())>"Experiment"</a>
            " / "
        </p>
        <PageHeader
            title="Compare runs"
            lead="The chosen runs side by side, with every figure and check."
        />
        <Loaded resource=compared children=|view| view! { <Comparison view=view /> } />
    }
}

/// One row of the comparison: a label and a cell per run.
fn row(
    label: impl Into<String>,
    runs: &[RunRow],
    cell: impl Fn(&RunRow) -> String,
) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{label.into()}</th>
            {runs.iter().map(|r| view! { <td class="numeric">{cell(r)}</td> }).collect_view()}
        </tr>
    }
}

#[component]
fn Comparison(view: ExperimentView) -> impl IntoView {
    let currency = view.experiment.currency.clone();
    let runs = view.runs.clone();
    let money = move |v: Option<rust_decimal::Decimal>| {
        v.map_or_else(|| "—".to_owned(), |v| format_money(v, &currency))
    };
    let number = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), format_number);
    let ms =
        |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{} ms", format_number(v)));
    let constraints: Vec<String> = view
        .experiment
        .constraints
        .iter()
        .map(|c| c.describe(&view.experiment.currency))
        .collect();
    view! {
        <section class="card">
            <h2>{view.experiment.name.clone()}</h2>
            <p class="decision">{view.recommendation.clone()}</p>
            <div class="table-wrap">
                <table class="table compare">
                    <thead>
                        <tr>
                            <th scope="col">
                                <span class="visually-hidden">"Figure"</span>
                            </th>
                            {runs
                                .iter()
                                .map(|r| {
                                    view! {
                                        <th scope="col" class="numeric">
                                            {r.name.clone()}
                                            {r
                                                .recommended
                                                .then(|| {
                                                    view! {
                                                        " "
                                                        <span class="badge badge-success">"best"</span>
                                                    }
                                                })}
                                        </th>
                                    }
                                })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {row("Pricing", &runs, |r| r.inference.clone())}
                        {row(
                            "Hardware",
                            &runs,
                            |r| {
                                if r.hardware.is_empty() {
                                    "—".into()
                                } else {
                                    r.hardware.clone()
                                }
                            },
                        )}
                        {view
                            .metric_columns
                            .iter()
                            .map(|(name, label)| {
                                let name = name.clone();
                                row(
                                    label.clone(),
                                    &runs,
                                    move |r| number(r.metrics.get(&name).copied()),
                                )
                            })
                            .collect_view()} {row("p50", &runs, move |r| ms(r.p50_ms))}
                        {row("p95", &runs, move |r| ms(r.p95_ms))}
                        {row("p99", &runs, move |r| ms(r.p99_ms))}
                        {row("Batch p95", &runs, move |r| ms(r.batch_p95_ms))}
                        {row("Throughput (requests/s)", &runs, move |r| number(r.throughput_rps))}
                        {row(
                            "Cost per 1,000 requests",
                            &runs,
                            {
                                let money = money.clone();
                                move |r| money(r.per_thousand)
                            },
                        )}
                        {row(
                            "Per month",
                            &runs,
                            {
                                let money = money.clone();
                                move |r| money(r.monthly)
                            },
                        )}
                        {row(
                            "Training",
                            &runs,
                            {
                                let money = money.clone();
                                move |r| money(r.training_cost)
                            },
                        )} {row("Engineering hours", &runs, move |r| number(r.engineering_hours))}
                        {row("How the cost was worked out", &runs, |r| r.basis.clone())}
                        {constraints
                            .iter()
                            .enumerate()
                            .map(|(i, label)| {
                                row(
                                    label.clone(),
                                    &runs,
                                    move |r| {
                                        r.checks
                                            .get(i)
                                            .map_or_else(
                                                String::new,
                                                |c| {
                                                    format!(
                                                        "{} {}",
                                                        if c.passed { "✓" } else { "✗" },
                                                        c.reason,
                                                    )
                                                },
                                            )
                                    },
                                )
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
