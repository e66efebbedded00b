//! One experiment: the recommendation, the runs with their checks, the decision matrix (live in the
//! browser), the frontier chart, the volume what-if, the cascade simulator, and the forms that add
//! runs.

use leptos::prelude::*;
use leptos_meta::Title;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::select::{self, CascadeInput, Weights, WHAT_IF_VOLUMES};
use super::view::{ExperimentView, RunRow, ScenarioRow};
use super::{
    AddRun, DeleteCascade, DeleteRun, Direction, SaveCascade, SetExperimentStatus, Status,
    UploadRuns,
};
use crate::auth::Role;
use crate::components::{
    action_error, format_count, format_money, successes, FieldMessage, FormActions, FormAlert,
    Loaded, Notice, PageHeader, Toggle, WithUser,
};
use crate::error::AppError;
use crate::format::format_number;

/// "—" for a figure that is missing.
fn or_dash<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| "—".to_owned(), show)
}

fn volume_label(volume: u64) -> String {
    match volume {
        v if v >= 1_000_000 && v % 1_000_000 == 0 => format!("{}M", v / 1_000_000),
        v if v >= 1_000 && v % 1_000 == 0 => format!("{}k", v / 1_000),
        v => format_count(i64::try_from(v).unwrap_or(i64::MAX)),
    }
}

#[component]
pub fn ExperimentPage() -> impl IntoView {
    let id = crate::components::id_from_route();
    // The page's resources are made once, here, outside any suspense: made inside one, they would
    // be made (and loaded) again each time it renders, and the browser would not find them.
    let actions = Actions {
        add: ServerAction::new(),
        upload: ServerAction::new(),
        delete: ServerAction::new(),
        status: ServerAction::new(),
        save_cascade: ServerAction::new(),
        delete_cascade: ServerAction::new(),
    };
    let (added, uploaded, deleted) = (
        successes(actions.add),
        successes(actions.upload),
        successes(actions.delete),
    );
    let (status, saved_cascade, deleted_cascade) = (
        successes(actions.status),
        successes(actions.save_cascade),
        successes(actions.delete_cascade),
    );
    let figures = Resource::new(
        move || {
            (
                id.get(),
                added.get(),
                uploaded.get(),
                deleted.get(),
                status.get(),
                saved_cascade.get(),
                deleted_cascade.get(),
            )
        },
        |(id, ..)| super::load_experiment(id),
    );
    let versions: VersionsResource = Resource::new(|| (), |_| crate::fleet::list_model_versions());
    view! {
        <Title text="Experiment · Pareto"/>
        <p class="breadcrumb"><a href="/experiments">"Experiments"</a> " / "</p>
        <WithUser children=move |user| {
            let can_edit = user.can(Role::Member);
            view! {
                <Loaded resource=figures children=move |view| view! {
                    <Detail view=view can_edit=can_edit actions=actions versions=versions/>
                }/>
            }
        }/>
    }
}

type VersionsResource = Resource<Result<Vec<crate::fleet::ModelVersion>, AppError>>;

/// Every action of the page, so that any of them reloads the figures.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddRun>,
    upload: ServerAction<UploadRuns>,
    delete: ServerAction<DeleteRun>,
    status: ServerAction<SetExperimentStatus>,
    save_cascade: ServerAction<SaveCascade>,
    delete_cascade: ServerAction<DeleteCascade>,
}

#[component]
fn Detail(
    view: ExperimentView,
    can_edit: bool,
    actions: Actions,
    versions: VersionsResource,
) -> impl IntoView {
    let e = view.experiment.clone();
    let currency = e.currency.clone();
    let metric_label = super::metric_label(&e.primary_metric);
    let lead = format!(
        "{} · {} · {} ({}) · {} · {} requests/month · {}",
        e.team,
        e.task_type.label(),
        metric_label,
        e.direction.label(),
        e.mode.label(),
        format_count(i64::try_from(e.monthly_volume).unwrap_or(i64::MAX)),
        e.currency
    );
    let id = e.experiment_id;
    let runs = view.runs.clone();
    let shown_note = (view.total_runs > view.runs.len()).then(|| {
        format!(
            "Showing the first {} of {} runs (those meeting the SLA first, cheapest first); the recommendation and the frontier cover all of them.",
            view.runs.len(),
            format_count(i64::try_from(view.total_runs).unwrap_or(i64::MAX))
        )
    });
    view! {
        <Title text=format!("{} · Pareto", e.name)/>
        <PageHeader title=e.name.clone() lead=lead/>
        {e.is_demo.then(|| view! {
            <Notice kind="info">"Demo data: these figures illustrate how Pareto works; they are not measurements."</Notice>
        })}
        <div class="chips" aria-label="Service level">
            <span class=format!("badge status-{}", e.status.as_str())>{e.status.label()}</span>
            {if e.constraints.is_empty() {
                view! { <span class="chip">"No SLA constraints: the cheapest run wins"</span> }.into_any()
            } else {
                e.constraints
                    .iter()
                    .map(|c| view! { <span class="chip">{c.describe(&e.currency)}</span> })
                    .collect_view()
                    .into_any()
            }}
            {(!e.dataset.is_empty()).then(|| view! { <span class="chip muted">"Data: " {e.dataset.clone()}</span> })}
        </div>
        <Recommendation view=view.clone()/>
        <section class="card">
            <div class="card-head">
                <h2>"Runs"</h2>
                <p class="muted small">
                    {format!("{} of {} meet every constraint.", view.passing_runs, view.total_runs)}
                </p>
            </div>
            {shown_note.map(|note| view! { <p class="muted small">{note}</p> })}
            <RunTable view=view.clone() can_edit=can_edit delete=actions.delete/>
        </section>
        <Show when={
            let many = runs.len() >= 2;
            move || many
        }>
            <Matrix rows=runs.clone() direction=e.direction/>
            <Frontier id=id/>
        </Show>
        <WhatIf view=view.clone()/>
        <Cascade view=view.clone() can_edit=can_edit save=actions.save_cascade delete=actions.delete_cascade/>
        <Show when=move || can_edit>
            <AddRunForm id=id currency=currency.clone() add=actions.add versions=versions/>
            <UploadForm id=id upload=actions.upload/>
            <StatusForm id=id status=e.status action=actions.status/>
        </Show>
    }
}

#[component]
fn Recommendation(view: ExperimentView) -> impl IntoView {
    let chosen = view.runs.iter().any(|r| r.recommended);
    let class = if chosen {
        "card recommendation"
    } else {
        "card recommendation none"
    };
    view! {
        <section class=class aria-labelledby="recommendation-title">
            <h2 id="recommendation-title">{if chosen { "Recommendation" } else { "No recommendation yet" }}</h2>
            <p class="decision" data-testid="recommendation">{view.recommendation.clone()}</p>
            {(!view.blockers.is_empty()).then(|| view! {
                <details>
                    <summary>"What blocks each candidate"</summary>
                    <ul class="blockers">
                        {view.blockers
                            .iter()
                            .map(|(name, reasons)| view! {
                                <li><strong>{name.clone()}</strong> ": " {reasons.join("; ")}</li>
                            })
                            .collect_view()}
                    </ul>
                </details>
            })}
        </section>
    }
}

#[component]
fn RunTable(
    view: ExperimentView,
    can_edit: bool,
    delete: ServerAction<DeleteRun>,
) -> impl IntoView {
    if view.runs.is_empty() {
        return view! {
            <p class="muted">
                "No runs yet. Add one below, upload a CSV, or post runs to "
                <code>{format!("/api/v1/experiments/{}/runs", view.experiment.experiment_id)}</code> "."
            </p>
        }
        .into_any();
    }
    let id = view.experiment.experiment_id;
    let currency = view.experiment.currency.clone();
    let metric = view.experiment.primary_metric.clone();
    let others: Vec<(String, String)> = view
        .metric_columns
        .iter()
        .filter(|(name, _)| *name != metric)
        .take(3)
        .cloned()
        .collect();
    let selected = RwSignal::new(Vec::<Uuid>::new());
    let compare_href = move || {
        let ids: Vec<String> = selected.get().iter().map(Uuid::to_string).collect();
        format!("/experiments/{id}/compare?runs={}", ids.join(","))
    };
    let can_compare = move || (2..=5).contains(&selected.get().len());
    let delete_error = action_error(delete);
    view! {
        <FormAlert error=delete_error/>
        <div class="table-wrap">
            <table class="table runs">
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Compare"</span></th>
                        <th scope="col">"Run"</th>
                        <th scope="col" class="numeric">{super::metric_label(&metric)}</th>
                        {others.iter().map(|(_, label)| view! { <th scope="col" class="numeric">{label.clone()}</th> }).collect_view()}
                        <th scope="col" class="numeric">"p95"</th>
                        <th scope="col" class="numeric">"Per 1k requests"</th>
                        <th scope="col" class="numeric">"Per month"</th>
                        <th scope="col" class="numeric">"Training"</th>
                        <th scope="col">"SLA"</th>
                        {can_edit.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {view.runs
                        .into_iter()
                        .map(|run| {
                            let run_id = run.run_id;
                            let frontier = run.on_cost_frontier == Some(true);
                            let failing: Vec<String> = run.checks.iter().filter(|c| !c.passed).map(|c| c.reason.clone()).collect();
                            let passing: Vec<String> = run.checks.iter().filter(|c| c.passed).map(|c| c.reason.clone()).collect();
                            let currency = currency.clone();
                            view! {
                                <tr class:recommended=run.recommended class:fails=!run.meets_all>
                                    <td>
                                        <input
                                            type="checkbox"
                                            aria-label=format!("Compare {}", run.name)
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| {
                                                    s.retain(|r| *r != run_id);
                                                    if on { s.push(run_id); }
                                                });
                                            }
                                        />
                                    </td>
                                    <th scope="row" class="run-name">
                                        <span class="strong">{run.name.clone()}</span>
                                        {run.recommended.then(|| view! { " " <span class="badge badge-success">"recommended"</span> })}
                                        {frontier.then(|| view! { " " <span class="badge">"frontier"</span> })}
                                        <span class="muted small block">
                                            {run.inference.clone()}
                                            {(!run.hardware.is_empty()).then(|| format!(" · {}", run.hardware))}
                                            {run.model_version.clone().map(|v| format!(" · {v}"))}
                                        </span>
                                    </th>
                                    <td class="numeric">{or_dash(run.quality, format_number)}</td>
                                    {others.iter().map(|(name, _)| view! { <td class="numeric">{or_dash(run.metrics.get(name).copied(), format_number)}</td> }).collect_view()}
                                    <td class="numeric nowrap">{or_dash(run.p95_ms, |v| format!("{} ms", format_number(v)))}</td>
                                    <td class="numeric nowrap" title=run.basis.clone()>{or_dash(run.per_thousand, |v| format_money(v, &currency))}</td>
                                    <td class="numeric nowrap" title=run.basis.clone()>{or_dash(run.monthly, |v| format_money(v, &currency))}</td>
                                    <td class="numeric nowrap">{or_dash(run.training_cost, |v| format_money(v, &currency))}</td>
                                    <td class="checks">
                                        {if run.checks.is_empty() && run.curve.is_some() {
                                            view! { <span class="muted">"—"</span> }.into_any()
                                        } else if run.meets_all {
                                            view! {
                                                <details>
                                                    <summary><span class="pass">"✓ meets all"</span></summary>
                                                    <ul>{passing.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                                                </details>
                                            }.into_any()
                                        } else {
                                            let mut reasons = failing;
                                            if run.curve.is_none() { reasons.insert(0, run.basis.clone()); }
                                            view! {
                                                <span class="fail">{format!("✗ {}", reasons.first().cloned().unwrap_or_default())}</span>
                                                {(reasons.len() > 1).then(|| view! {
                                                    <details>
                                                        <summary>{format!("{} more", reasons.len() - 1)}</summary>
                                                        <ul>{reasons[1..].iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
                                                    </details>
                                                })}
                                            }.into_any()
                                        }}
                                    </td>
                                    {can_edit.then(|| view! {
                                        <td>
                                            <ActionForm action=delete attr:class="inline-form">
                                                <input type="hidden" name="experiment_id" value=id.to_string()/>
                                                <input type="hidden" name="run_id" value=run_id.to_string()/>
                                                <button type="submit" class="button small ghost" aria-label=format!("Delete run {}", run.name)>"Delete"</button>
                                            </ActionForm>
                                        </td>
                                    })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <div class="table-actions">
            <a
                class="button small"
                class:disabled=move || !can_compare()
                aria-disabled=move || (!can_compare()).then_some("true")
                href=compare_href
            >
                "Compare selected"
            </a>
            <span class="muted small">"Tick 2 to 5 runs to see them side by side."</span>
        </div>
    }
    .into_any()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Total,
    Composite,
    Quality,
    Cost,
    Latency,
    Name,
}

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
                on:input=move |ev| value.set(event_target_value(&ev).parse::<f64>().unwrap_or(0.0) / 100.0)
            />
            <output>{move || format!("{:.0}%", value.get() * 100.0)}</output>
        </div>
    }
}

#[component]
fn Matrix(rows: Vec<RunRow>, direction: Direction) -> impl IntoView {
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
            <th scope="col" class="numeric" aria-sort=move || (sort.get() == key).then_some(if key == SortKey::Composite { "ascending" } else { "descending" })>
                <button type="button" class="sort" on:click=move |_| sort.set(key)>{label}</button>
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
                <Slider id="weight-quality" label="Quality weight" value=quality/>
                <Slider id="weight-cost" label="Cost weight" value=cost/>
                <Slider id="weight-latency" label="Latency weight" value=latency/>
                <p class="muted small">{move || format!("Composite w = {:.2}", w())}</p>
            </div>
            <div class="table-wrap">
                <table class="table matrix" data-testid="matrix">
                    <thead>
                        <tr>
                            <th scope="col" class="numeric">"#"</th>
                            <th scope="col"><button type="button" class="sort" on:click=move |_| sort.set(SortKey::Name)>"Run"</button></th>
                            {header(SortKey::Quality, "Quality")}
                            {header(SortKey::Cost, "Cost")}
                            {header(SortKey::Latency, "Latency")}
                            {header(SortKey::Total, "Weighted score")}
                            {header(SortKey::Composite, "Composite")}
                        </tr>
                    </thead>
                    <tbody>
                        {move || ranked
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(rank, (name, s))| view! {
                                <tr>
                                    <td class="numeric">{rank + 1}</td>
                                    <th scope="row" class="strong">{name}</th>
                                    <td class="numeric">{score(s.quality)}</td>
                                    <td class="numeric">{score(s.cost)}</td>
                                    <td class="numeric">{score(s.latency)}</td>
                                    <td class="numeric strong">{format!("{:.3}", s.total)}</td>
                                    <td class="numeric">{or_dash(s.composite, |v| format!("{v:.3}"))}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Frontier(id: Uuid) -> impl IntoView {
    let axis = RwSignal::new("cost");
    let base = move || format!("/charts/experiments/{id}/frontier.svg?x={}", axis.get());
    let description = move || {
        if axis.get() == "cost" {
            "Quality against cost per 1,000 requests: runs on the frontier are joined by the line; dominated runs are grey; the recommended run is ringed."
        } else {
            "Quality against p95 latency: runs on the frontier are joined by the line; dominated runs are grey; the recommended run is ringed."
        }
    };
    view! {
        <figure class="card chart frontier">
            <figcaption>
                <div class="card-head">
                    <h2>"Pareto frontier"</h2>
                    <Toggle label="Against" value=axis options=&[("cost", "Cost"), ("latency", "Latency")]/>
                </div>
                <p class="muted small">{description}</p>
            </figcaption>
            <picture>
                <source media="(prefers-color-scheme: dark)" srcset=move || format!("{}&theme=dark", base())/>
                <img src=move || format!("{}&theme=light", base()) alt=description width="720" height="360" loading="lazy"/>
            </picture>
        </figure>
    }
}

#[component]
fn WhatIf(view: ExperimentView) -> impl IntoView {
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
                            {WHAT_IF_VOLUMES.iter().map(|v| view! { <th scope="col" class="numeric">{format!("{} / month", volume_label(*v))}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {priced
                            .into_iter()
                            .map(|run| {
                                let currency = currency.clone();
                                view! {
                                    <tr>
                                        <th scope="row" class="strong">{run.name.clone()}</th>
                                        {run.what_if.iter().map(|m| view! { <td class="numeric nowrap">{or_dash(*m, |v| format_money(v, &currency))}</td> }).collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {(!view.crossovers.is_empty()).then(|| view! {
                <h3>"Crossovers"</h3>
                <ul class="crossovers">
                    {view.crossovers
                        .iter()
                        .map(|c| view! {
                            <li>
                                {match c.volume {
                                    Some(v) => format!(
                                        "{} becomes cheaper than {} from {} requests a month.",
                                        c.self_hosted,
                                        c.api,
                                        format_count(i64::try_from(v).unwrap_or(i64::MAX))
                                    ),
                                    None => format!("{} stays cheaper than {} at every volume.", c.api, c.self_hosted),
                                }}
                            </li>
                        })
                        .collect_view()}
                </ul>
            })}
        </section>
    }
    .into_any()
}

fn optional_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[component]
fn Cascade(
    view: ExperimentView,
    can_edit: bool,
    save: ServerAction<SaveCascade>,
    delete: ServerAction<DeleteCascade>,
) -> impl IntoView {
    let id = view.experiment.experiment_id;
    let volume = view.experiment.monthly_volume;
    let currency = view.experiment.currency.clone();
    let priced: Vec<RunRow> = view
        .runs
        .iter()
        .filter(|r| r.curve.is_some())
        .cloned()
        .collect();
    if priced.len() < 2 {
        return view! {
            <section class="card" aria-labelledby="cascade-title">
                <h2 id="cascade-title">"Cascade simulator"</h2>
                <p class="muted">"A cascade needs two priced runs: a cheap one that answers what it is confident on, and an expensive one for the rest."</p>
            </section>
        }
        .into_any();
    }
    let cheapest = priced
        .iter()
        .min_by(|a, b| a.monthly.cmp(&b.monthly))
        .map(|r| r.run_id)
        .unwrap_or_default();
    let direction = view.experiment.direction;
    let best = priced
        .iter()
        .filter(|r| r.run_id != cheapest)
        .max_by(|a, b| {
            let (qa, qb) = (a.quality.unwrap_or(f64::NAN), b.quality.unwrap_or(f64::NAN));
            if direction.better(qa, qb) {
                std::cmp::Ordering::Greater
            } else if direction.better(qb, qa) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .map(|r| r.run_id)
        .unwrap_or_default();
    // Start from the first saved scenario, else the cheapest run in front of the best one.
    let saved = view.scenarios.first().map(|s| &s.scenario);
    let cheap_id = RwSignal::new(saved.map_or(cheapest, |s| s.cheap_run_id).to_string());
    let expensive_id = RwSignal::new(saved.map_or(best, |s| s.expensive_run_id).to_string());
    let share = RwSignal::new(saved.map_or(70.0, |s| (s.input.share_kept * 100.0).round()));
    let kept_quality = RwSignal::new(String::new());
    let passed_quality = RwSignal::new(String::new());
    let rows = StoredValue::new(priced.clone());
    let outcome = Memo::new(move |_| {
        let find = |id: String| {
            rows.with_value(|rows| {
                rows.iter()
                    .find(|r| r.run_id.to_string() == id)
                    .and_then(RunRow::cascade_side)
            })
        };
        let (cheap, expensive) = (find(cheap_id.get())?, find(expensive_id.get())?);
        if cheap_id.get() == expensive_id.get() {
            return None;
        }
        Some(select::cascade(
            &cheap,
            &expensive,
            &CascadeInput {
                share_kept: share.get() / 100.0,
                kept_quality: optional_number(&kept_quality.get()),
                passed_quality: optional_number(&passed_quality.get()),
            },
            volume,
        ))
    });
    let options = move |selected: RwSignal<String>| {
        priced
            .iter()
            .map(|r| {
                let value = r.run_id.to_string();
                let is = value.clone();
                view! { <option value=value selected=move || selected.get() == is>{r.name.clone()}</option> }
            })
            .collect_view()
    };
    let cheap_options = options(cheap_id);
    let expensive_options = options(expensive_id);
    let error = action_error(save);
    let delete_error = action_error(delete);
    let field_error = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(name)))
    };
    let money = {
        let currency = currency.clone();
        move |amount: Decimal| format_money(amount, &currency)
    };
    let shown = {
        let money = money.clone();
        move || match outcome.get() {
            None => view! { <p class="muted">"Choose two different runs."</p> }.into_any(),
            Some(o) => {
                let saving_class = if o.saving >= Decimal::ZERO {
                    "figure good"
                } else {
                    "figure bad"
                };
                view! {
                    <dl class="figures" data-testid="cascade-outcome">
                        <div><dt>"Blended cost per 1k"</dt><dd class="figure">{money(o.per_thousand)}</dd></div>
                        <div><dt>"Per month"</dt><dd class="figure">{money(o.monthly)}</dd></div>
                        <div>
                            <dt>"Saving vs the expensive alone"</dt>
                            <dd class=saving_class>{money(o.saving)}</dd>
                        </div>
                        <div><dt>"Blended p95"</dt><dd class="figure" title=o.p95_basis.clone()>{or_dash(o.p95_ms, |v| format!("{} ms", format_number(v)))}</dd></div>
                        <div>
                            <dt>{if o.quality_estimated { "Blended quality (estimated)" } else { "Blended quality" }}</dt>
                            <dd class="figure">{or_dash(o.quality, format_number)}</dd>
                        </div>
                    </dl>
                    <p class="muted small">{o.p95_basis.clone()} "."
                        {o.quality_estimated.then_some(" Quality: each model's overall figure stands in for a slice not measured.")}
                    </p>
                }
                .into_any()
            }
        }
    };
    view! {
        <section class="card" aria-labelledby="cascade-title">
            <h2 id="cascade-title">"Cascade simulator"</h2>
            <p class="muted small">
                "The cheap model answers every request it is confident on and passes the rest to the expensive one. "
                "Every request costs the cheap model; the passed share also costs the expensive one."
            </p>
            <ActionForm action=save attr:class="form grid-form" attr:novalidate="true">
                <FormAlert error=error/>
                <input type="hidden" name="experiment_id" value=id.to_string()/>
                <div class="field">
                    <label for="cheap_run_id">"Cheap model"</label>
                    <select id="cheap_run_id" name="cheap_run_id" on:change=move |ev| cheap_id.set(event_target_value(&ev))>{cheap_options}</select>
                    <FieldMessage id="cheap_run_id-error" message=field_error("cheap_run_id")/>
                </div>
                <div class="field">
                    <label for="expensive_run_id">"Expensive model"</label>
                    <select id="expensive_run_id" name="expensive_run_id" on:change=move |ev| expensive_id.set(event_target_value(&ev))>{expensive_options}</select>
                    <FieldMessage id="expensive_run_id-error" message=field_error("expensive_run_id")/>
                </div>
                <div class="field slider wide">
                    <label for="share_kept_pct">"Share the cheap model keeps"</label>
                    <input
                        id="share_kept_pct"
                        name="share_kept_pct"
                        type="range"
                        min="0"
                        max="100"
                        step="1"
                        prop:value=move || share.get().to_string()
                        on:input=move |ev| share.set(event_target_value(&ev).parse().unwrap_or(0.0))
                    />
                    <output>{move || format!("{:.0}%", share.get())}</output>
                </div>
                <div class="field">
                    <label for="threshold">"Confidence threshold"</label>
                    <p class="hint">"Optional: the threshold that gives this share."</p>
                    <input id="threshold" name="threshold" inputmode="decimal"/>
                    <FieldMessage id="threshold-error" message=field_error("threshold")/>
                </div>
                <div class="field">
                    <label for="kept_quality">"Quality on the kept slice"</label>
                    <p class="hint">"Optional: the cheap model's figure on what it keeps."</p>
                    <input id="kept_quality" name="kept_quality" inputmode="decimal" on:input=move |ev| kept_quality.set(event_target_value(&ev))/>
                    <FieldMessage id="kept_quality-error" message=field_error("kept_quality")/>
                </div>
                <div class="field">
                    <label for="passed_quality">"Quality on the passed slice"</label>
                    <p class="hint">"Optional: the expensive model's figure on what it gets."</p>
                    <input id="passed_quality" name="passed_quality" inputmode="decimal" on:input=move |ev| passed_quality.set(event_target_value(&ev))/>
                    <FieldMessage id="passed_quality-error" message=field_error("passed_quality")/>
                </div>
                <div class="wide">{shown}</div>
                {can_edit.then(|| view! {
                    <div class="field">
                        <label for="scenario-name">"Scenario name"</label>
                        <input id="scenario-name" name="name" placeholder="e.g. 70% on the cheap model"/>
                        <FieldMessage id="name-error" message=field_error("name")/>
                    </div>
                    <FormActions label="Save scenario" pending=save.pending()/>
                })}
            </ActionForm>
            <ScenarioTable scenarios=view.scenarios.clone() id=id currency=currency can_edit=can_edit delete=delete/>
            <FormAlert error=delete_error/>
        </section>
    }
    .into_any()
}

#[component]
fn ScenarioTable(
    scenarios: Vec<ScenarioRow>,
    id: Uuid,
    currency: String,
    can_edit: bool,
    delete: ServerAction<DeleteCascade>,
) -> impl IntoView {
    if scenarios.is_empty() {
        return ().into_any();
    }
    view! {
        <h3>"Saved scenarios"</h3>
        <div class="table-wrap">
            <table class="table" data-testid="scenarios">
                <thead>
                    <tr>
                        <th scope="col">"Scenario"</th>
                        <th scope="col">"Cheap → expensive"</th>
                        <th scope="col" class="numeric">"Kept"</th>
                        <th scope="col" class="numeric">"Per 1k"</th>
                        <th scope="col" class="numeric">"Per month"</th>
                        <th scope="col" class="numeric">"Saving"</th>
                        <th scope="col" class="numeric">"p95"</th>
                        <th scope="col" class="numeric">"Quality"</th>
                        {can_edit.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {scenarios
                        .into_iter()
                        .map(|row| {
                            let o = row.outcome.clone();
                            let money = |v: Decimal| format_money(v, &currency);
                            view! {
                                <tr>
                                    <th scope="row" class="strong">{row.scenario.name.clone()}</th>
                                    <td>{format!("{} → {}", row.cheap, row.expensive)}</td>
                                    <td class="numeric">{format!("{:.0}%", row.scenario.input.share_kept * 100.0)}</td>
                                    <td class="numeric nowrap">{or_dash(o.as_ref().map(|o| o.per_thousand), money)}</td>
                                    <td class="numeric nowrap">{or_dash(o.as_ref().map(|o| o.monthly), money)}</td>
                                    <td class="numeric nowrap">{or_dash(o.as_ref().map(|o| o.saving), money)}</td>
                                    <td class="numeric nowrap">{or_dash(o.as_ref().and_then(|o| o.p95_ms), |v| format!("{} ms", format_number(v)))}</td>
                                    <td class="numeric">{or_dash(o.as_ref().and_then(|o| o.quality), format_number)}</td>
                                    {can_edit.then(|| view! {
                                        <td>
                                            <ActionForm action=delete attr:class="inline-form">
                                                <input type="hidden" name="experiment_id" value=id.to_string()/>
                                                <input type="hidden" name="scenario_id" value=row.scenario.scenario_id.to_string()/>
                                                <button type="submit" class="button small ghost" aria-label=format!("Delete scenario {}", row.scenario.name)>"Delete"</button>
                                            </ActionForm>
                                        </td>
                                    })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// One input of the run form, named as the CSV column it fills.
#[component]
fn RunField(
    #[prop(into)] column: String,
    #[prop(into)] label: String,
    #[prop(into, optional)] hint: Option<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("run-{}", column.replace(':', "-"));
    let error_id = format!("{id}-error");
    let message = {
        let column = column.clone();
        Signal::derive(move || error.get().and_then(|e| e.field_message(&column)))
    };
    view! {
        <div class="field" class:has-error=move || message.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <input
                id=id
                name=format!("fields[{column}]")
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
            />
            <FieldMessage id=error_id.clone() message=message/>
        </div>
    }
}

#[component]
fn AddRunForm(
    id: Uuid,
    currency: String,
    add: ServerAction<AddRun>,
    versions: VersionsResource,
) -> impl IntoView {
    let error = action_error(add);
    let form = crate::components::reset_on_success(add);
    let pricing_error =
        Signal::derive(move || error.get().and_then(|e| e.field_message("pricing")));
    view! {
        <section class="card" aria-labelledby="add-run-title">
            <h2 id="add-run-title">"Add a run"</h2>
            <p class="muted small">
                {format!("Amounts in {currency}. Fill what you measured; the pricing decides which cost fields are needed.")}
            </p>
            <ActionForm action=add node_ref=form attr:class="form" attr:novalidate="true">
                <FormAlert error=error/>
                <input type="hidden" name="experiment_id" value=id.to_string()/>
                <fieldset class="grid-form">
                    <legend>"Model and quality"</legend>
                    <RunField column="name" label="Model" hint="As people call it, e.g. DistilBERT" error=error/>
                    <RunField column="run_key" label="Run key" hint="Optional; defaults to the name. The same key is never stored twice." error=error/>
                    <div class="field">
                        <label for="run-model_version_id">"Registry version"</label>
                        <Loaded resource=versions children=|versions| {
                            // The options are one list, the select's only child, so that hydration
                            // finds them where the server put them.
                            let options = std::iter::once((String::new(), "None: the name above is enough".to_owned()))
                                .chain(versions.into_iter().map(|v| (v.model_version_id.to_string(), v.label)))
                                .map(|(value, label)| view! { <option value=value>{label}</option> })
                                .collect_view();
                            view! { <select id="run-model_version_id" name="fields[model_version_id]">{options}</select> }
                        }/>
                    </div>
                    <RunField column="metrics" label="Metrics" hint="name=value, comma-separated: f1=0.91, auc=0.95, mape=7.5" error=error/>
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Latency and throughput"</legend>
                    <RunField column="latency_p50_ms" label="p50 (ms)" error=error/>
                    <RunField column="latency_p95_ms" label="p95 (ms)" error=error/>
                    <RunField column="latency_p99_ms" label="p99 (ms)" error=error/>
                    <RunField column="batch_latency_p95_ms" label="Batch p95 (ms)" error=error/>
                    <RunField column="throughput_rps" label="Throughput (requests/s)" hint="What one machine sustains." error=error/>
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Inference pricing"</legend>
                    <div class="field" class:has-error=move || pricing_error.get().is_some()>
                        <label for="run-pricing">"Pricing"</label>
                        <select id="run-pricing" name="fields[pricing]">
                            {super::InferenceKind::ALL
                                .iter()
                                .map(|k| view! { <option value=k.as_str()>{k.label()}</option> })
                                .collect_view()}
                        </select>
                        <FieldMessage id="run-pricing-error" message=pricing_error/>
                    </div>
                    <RunField column="gpu_model" label="GPU model" hint="Priced from the catalog when no price is typed." error=error/>
                    <RunField column="gpu_count" label="GPUs" error=error/>
                    <RunField column="cpu_instance" label="or CPU instance" error=error/>
                    <RunField column="hourly_price" label="Price per hour" hint="The whole machine." error=error/>
                    <RunField column="deployment" label="Deployment key" hint="Measured pricing: its last 30 days of telemetry." error=error/>
                    <RunField column="input_price_per_1k_tokens" label="Input price per 1k tokens" error=error/>
                    <RunField column="output_price_per_1k_tokens" label="Output price per 1k tokens" error=error/>
                    <RunField column="avg_input_tokens" label="Average input tokens" error=error/>
                    <RunField column="avg_output_tokens" label="Average output tokens" error=error/>
                    <RunField column="price_per_request" label="Price per request" error=error/>
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Training and effort"</legend>
                    <RunField column="training_gpu_hours" label="Training GPU-hours" error=error/>
                    <RunField column="training_price_per_gpu_hour" label="Price per GPU-hour" hint="Empty: the hardware's." error=error/>
                    <RunField column="training_cost" label="or training cost" error=error/>
                    <RunField column="engineering_hours" label="Engineering hours" error=error/>
                </fieldset>
                <FormActions label="Add run" pending=add.pending()/>
            </ActionForm>
        </section>
    }
}

#[component]
fn UploadForm(id: Uuid, upload: ServerAction<UploadRuns>) -> impl IntoView {
    let error = action_error(upload);
    let text = RwSignal::new(String::new());
    let problems = move || match error.get() {
        Some(AppError::Validation(problems)) => problems.into_iter().map(|p| p.message).collect(),
        _ => Vec::new(),
    };
    let other_error = Signal::derive(move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Validation(_)))
    });
    let done = move || {
        upload.value().get().and_then(Result::ok).map(|o| {
            format!(
                "Stored {} run{}{}.",
                o.added,
                if o.added == 1 { "" } else { "s" },
                if o.duplicates > 0 {
                    format!("; {} already stored", o.duplicates)
                } else {
                    String::new()
                }
            )
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = upload.value().get() {
            text.set(String::new());
        }
    });
    view! {
        <section class="card" aria-labelledby="upload-title">
            <h2 id="upload-title">"Upload runs as CSV"</h2>
            <p class="muted small">
                "One run per line; the header names the columns: " <code>"name"</code> ", metric columns ("
                <code>"f1"</code> ", " <code>"auc"</code> ", " <code>"mape"</code> ", … or " <code>"metric:ndcg@10"</code> "), "
                <code>"latency_p95_ms"</code> ", " <code>"throughput_rps"</code> ", " <code>"gpu_model"</code> ", " <code>"hourly_price"</code> ", "
                <code>"pricing"</code> ", " <code>"price_per_request"</code> " and the other fields of the form above. "
                "If any line is wrong, nothing is stored."
            </p>
            <ActionForm action=upload attr:class="form" attr:novalidate="true">
                <input type="hidden" name="experiment_id" value=id.to_string()/>
                <div class="field">
                    <label for="csv-file">"File"</label>
                    <input id="csv-file" type="file" accept=".csv,text/csv" on:change=move |ev| read_file(ev, text)/>
                </div>
                <div class="field">
                    <label for="csv">"or paste the CSV"</label>
                    <textarea id="csv" name="csv" rows="6" class="mono" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </div>
                <FormAlert error=other_error/>
                <Show when=move || !problems().is_empty()>
                    <div class="notice notice-error" role="alert">
                        <p>"Nothing was stored. Fix these lines and upload again:"</p>
                        <ul class="line-errors">{move || problems().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    </div>
                </Show>
                <Show when=move || done().is_some()>
                    <div class="notice notice-success" role="status">{done}</div>
                </Show>
                <FormActions label="Upload runs" pending=upload.pending()/>
            </ActionForm>
        </section>
    }
}

/// Reads the chosen file into the text box, in the browser.
fn read_file(ev: leptos::ev::Event, text: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(value) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                text.set(value.as_string().unwrap_or_default());
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, text);
    }
}

#[component]
fn StatusForm(
    id: Uuid,
    status: Status,
    action: ServerAction<SetExperimentStatus>,
) -> impl IntoView {
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="status-title">
            <h2 id="status-title">"Status"</h2>
            <ActionForm action=action attr:class="form inline-fields">
                <input type="hidden" name="experiment_id" value=id.to_string()/>
                <div class="field compact">
                    <label for="status">"This experiment is"</label>
                    <select id="status" name="status">
                        {Status::ALL
                            .iter()
                            .map(|s| view! { <option value=s.as_str() selected=*s == status>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <FormActions label="Save" pending=action.pending()/>
                <FormAlert error=error/>
            </ActionForm>
        </section>
    }
}
