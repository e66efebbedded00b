//! The what-if: each run's monthly cost at other volumes, and where the ranking changes.

use leptos::prelude::*;

use crate::components::{format_count, format_money};
use crate::experiments::select::WHAT_IF_VOLUMES;
use crate::experiments::view::{ExperimentView, RunRow};
use crate::format::format_short_count;

use super::{or_dash, volume_label};

#[component]
pub(super) fn WhatIf(view: ExperimentView) -> impl IntoView {
    let currency = view.experiment.currency.clone();
    let priced: Vec<RunRow> = view
        .runs
        .iter()
        .filter(|r| r.curve.is_some())
        .take(20)
        .cloned()
        .collect();
    if priced.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="card" aria-labelledby="whatif-title">
            <h2 id="whatif-title">"Volume what-if"</h2>
            <p class="muted small">
                "Monthly inference cost at other volumes. Real-time self-hosted runs keep one machine on all month, then scale with the traffic; API-priced runs pay per request."
            </p>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Run"</th>
                            {WHAT_IF_VOLUMES
                                .iter()
                                .map(|v| {
                                    view! {
                                        <th scope="col" class="numeric">
                                            {format!("{} / month", volume_label(*v))}
                                        </th>
                                    }
                                })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {priced
                            .into_iter()
                            .map(|run| {
                                let currency = currency.clone();
                                view! {
                                    <tr>
                                        <th scope="row" class="strong">
                                            {run.name.clone()}
                                        </th>
                                        {run
                                            .what_if
                                            .iter()
                                            .map(|m| {
                                                view! {
                                                    <td class="numeric nowrap">
                                                        {or_dash(*m, |v| format_money(v, &currency))}
                                                    </td>
                                                }
                                            })
                                            .collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {(!view.crossovers.is_empty())
                .then(|| {
                    view! {
                        <h3>"Crossovers"</h3>
                        <ul class="crossovers">
                            {view
                                .crossovers
                                .iter()
                                .map(|c| {
                                    view! {
                                        <li>
                                            {match c.volume {
                                                Some(v) => {
                                                    let tokens = c
                                                        .output_tokens
                                                        .map(|t| {
                                                            format!(
                                                                " ({} output tokens)",
                                                                format_short_count(i64::try_from(t).unwrap_or(i64::MAX)),
                                                            )
                                                        })
                                                        .unwrap_or_default();
                                                    format!(
                                                        "{} becomes cheaper than {} from {} requests{tokens} a month.",
                                                        c.self_hosted,
                                                        c.api,
                                                        format_count(i64::try_from(v).unwrap_or(i64::MAX)),
                                                    )
                                                }
                                                None => {
                                                    format!(
                                                        "{} stays cheaper than {} at every volume.",
                                                        c.api,
                                                        c.self_hosted,
                                                    )
                                                }
                                            }}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
    .into_any()
}
