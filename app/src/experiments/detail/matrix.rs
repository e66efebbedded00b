//! The decision matrix: the runs ranked by weights the reader moves, live in the browser.

use leptos::prelude::*;

use crate::experiments::select::{self, Weights};
use crate::experiments::view::RunRow;
use crate::experiments::Direction;

use super::{or_dash, SortKey};

#[component]
fn Slider(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    value: RwSignal<f64>,
) -> impl IntoView {
    view! {
        <div class="slider">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type="range"
                min="0"
                max="100"
                step="5"
                prop:value=move || (value.get() * 100.0).round().to_string()
                on:input=move |ev| {
                    value.set(event_target_value(&ev).parse::<f64>().unwrap_or(0.0) / 100.0)
                }
            />
            <output>{move || format!("{:.0}%", value.get() * 100.0)}</output>
        </div>
    }
}

#[component]
pub(super) fn Matrix(rows: Vec<RunRow>, direction: Direction) -> impl IntoView {
    let defaults = Weights::default();
    let quality = RwSignal::new(defaults.quality);
    let cost = RwSignal::new(defaults.cost);
    let latency = RwSignal::new(defaults.latency);
    let sort = RwSignal::new(SortKey::Total);
    let inputs: Vec<select::MatrixRow> = rows.iter().map(RunRow::matrix_row).collect();
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let ranked = Memo::new(move |_| {
        let weights = Weights {
            quality: quality.get(),
            cost: cost.get(),
            latency: latency.get(),
        };
        let scores = select::scores(&inputs, direction, weights);
        let mut order: Vec<usize> = (0..scores.len()).collect();
        let key = sort.get();
        let desc = |a: Option<f64>, b: Option<f64>| {
            b.unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.unwrap_or(f64::NEG_INFINITY))
        };
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&scores[a], &scores[b]);
            match key {
                SortKey::Total => sb.total.total_cmp(&sa.total),
                SortKey::Composite => sa
                    .composite
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&sb.composite.unwrap_or(f64::INFINITY)),
                SortKey::Quality => desc(sa.quality, sb.quality),
                SortKey::Cost => desc(sa.cost, sb.cost),
                SortKey::Latency => desc(sa.latency, sb.latency),
                SortKey::Name => std::cmp::Ordering::Equal,
            }
            .then_with(|| names[a].cmp(&names[b]))
        });
        order
            .into_iter()
            .map(|i| (names[i].clone(), scores[i]))
            .collect::<Vec<_>>()
    });
    let w = move || {
        let (q, c) = (quality.get(), cost.get());
        if q + c > 0.0 {
            q / (q + c)
        } else {
            0.5
        }
    };
    let header = move |key: SortKey, label: &'static str| {
        view! {
            <th
                scope="col"
                class="numeric"
                aria-sort=move || {
                    (sort.get() == key)
                        .then_some(
                            if key == SortKey::Composite { "ascending" } else { "descending" },
                        )
                }
            >
                <button type="button" class="sort" on:click=move |_| sort.set(key)>
                    {label}
                </button>
            </th>
        }
    };
    let score = |value: Option<f64>| or_dash(value, |v| format!("{v:.2}"));
    view! {
        <section class="card" aria-labelledby="matrix-title">
            <h2 id="matrix-title">"Decision matrix"</h2>
            <p class="muted small">
                "Each criterion is scaled 0 to 1 across the runs (1 is the best run); the weighted score is their weighted mean, a missing figure counting 0. "
                "The composite objective is w × quality loss + (1 − w) × normalized cost, lower is better, with w the quality weight's share of quality and cost."
            </p>
            <div class="sliders">
                <Slider id="weight-quality" label="Quality weight" value=quality />
                <Slider id="weight-cost" label="Cost weight" value=cost />
                <Slider id="weight-latency" label="Latency weight" value=latency />
                <p class="muted small">{move || format!("Composite w = {:.2}", w())}</p>
            </div>
            <div class="table-wrap">
                <table class="table matrix" data-testid="matrix">
                    <thead>
                        <tr>
                            <th scope="col" class="numeric">
                                "#"
                            </th>
                            <th scope="col">
                                <button
                                    type="button"
                                    class="sort"
                                    on:click=move |_| sort.set(SortKey::Name)
                                >
                                    "Run"
                                </button>
                            </th>
                            {header(SortKey::Quality, "Quality")}
                            {header(SortKey::Cost, "Cost")}
                            {header(SortKey::Latency, "Latency")}
                            {header(SortKey::Total, "Weighted score")}
                            {header(SortKey::Composite, "Composite")}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            ranked
                                .get()
                                .into_iter()
                                .enumerate()
                                .map(|(rank, (name, s))| {
                                    view! {
                                        <tr>
                                            <td class="numeric">{rank + 1}</td>
                                            <th scope="row" class="strong">
                                                {name}
                                            </th>
                                            <td class="numeric">{score(s.quality)}</td>
                                            <td class="numeric">{score(s.cost)}</td>
                                            <td class="numeric">{score(s.latency)}</td>
                                            <td class="numeric strong">{format!("{:.3}", s.total)}</td>
                                            <td class="numeric">
                                                {or_dash(s.composite, |v| format!("{v:.3}"))}
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
