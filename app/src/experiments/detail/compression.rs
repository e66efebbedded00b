//! What compression bought: each run made from another (quantized, pruned, distilled, compiled)
//! against its parent, by technique: the saving a month and the quality it cost.

use leptos::prelude::*;

use crate::components::format_money;
use crate::experiments::view::ExperimentView;
use crate::format::format_number;

#[component]
pub(super) fn Compression(view: ExperimentView) -> impl IntoView {
    if view.compression.is_empty() {
        return ().into_any();
    }
    let currency = view.experiment.currency.clone();
    let metric = crate::experiments::metric_label(&view.experiment.primary_metric);
    let lower_is_better = view.experiment.direction == crate::experiments::Direction::Lower;
    view! {
        <section class="card" aria-labelledby="compression-title" data-testid="compression">
            <h2 id="compression-title">"What compression bought"</h2>
            <p class="muted small">
                {format!(
                    "Each run made from another of this experiment, against its parent at {} requests a month: what the technique saves and what it costs in {metric} (in points, hundredths of the metric) and in p95 latency. The frontier draws each as a dashed line from its parent.",
                    crate::format::format_count(
                        i64::try_from(view.experiment.monthly_volume).unwrap_or(i64::MAX),
                    ),
                )}
            </p>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Technique"</th>
                            <th scope="col">"Run, from its parent"</th>
                            <th scope="col" class="numeric">
                                "Saved a month"
                            </th>
                            <th scope="col" class="numeric">
                                {metric.clone()}
                            </th>
                            <th scope="col" class="numeric">
                                "p95"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .compression
                            .iter()
                            .map(|row| {
                                let saved = row
                                    .saving_monthly
                                    .map_or(
                                        "—".to_owned(),
                                        |s| {
                                            let pct = row
                                                .saving_pct
                                                .map(|p| format!(" ({p:.0}%)"))
                                                .unwrap_or_default();
                                            format!("{}{pct}", format_money(s, &currency))
                                        },
                                    );
                                let quality = row
                                    .quality_delta
                                    .map_or(
                                        "—".to_owned(),
                                        |d| {
                                            let points = d * 100.0;
                                            let worse = if lower_is_better { d > 0.0 } else { d < 0.0 };
                                            format!(
                                                "{}{} points{}",
                                                if points > 0.0 { "+" } else { "" },
                                                format_number((points * 100.0).round() / 100.0),
                                                if worse { " (lost)" } else { "" },
                                            )
                                        },
                                    );
                                let p95 = row
                                    .p95_delta_ms
                                    .map_or(
                                        "—".to_owned(),
                                        |d| format!("{}{d:.0} ms", if d > 0.0 { "+" } else { "" }),
                                    );
                                view! {
                                    <tr>
                                        <td>{row.technique.label()}</td>
                                        <td>{format!("{} ← {}", row.run, row.parent)}</td>
                                        <td class="numeric">{saved}</td>
                                        <td class="numeric">{quality}</td>
                                        <td class="numeric">{p95}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}
