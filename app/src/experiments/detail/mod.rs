//! One experiment: the recommendation, the runs with their checks, the decision matrix (live in the
//! browser), the frontier chart, the volume what-if, the cascade simulator, and the forms that add
//! runs.

mod cascade;
mod compression;
mod forms;
mod frontier;
mod matrix;
mod what_if;

use cascade::Cascade;
use compression::Compression;
use forms::{AddRunForm, MlflowForm, StatusForm, UploadForm};
use frontier::Frontier;
use matrix::Matrix;
use what_if::WhatIf;

use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::view::ExperimentView;
use super::{
    AddRun, DeleteCascade, DeleteRun, ImportMlflow, SaveCascade, SetExperimentStatus, UploadRuns,
};
use crate::auth::Role;
use crate::components::{
    action_error, format_count, format_money, successes, ActionButton, Explain, FormAlert, Loaded,
    Notice, PageHeader, WithUser,
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
        import_mlflow: ServerAction::new(),
        delete: ServerAction::new(),
        status: ServerAction::new(),
        save_cascade: ServerAction::new(),
        delete_cascade: ServerAction::new(),
    };
    let (added, uploaded, deleted, imported) = (
        successes(actions.add),
        successes(actions.upload),
        successes(actions.delete),
        successes(actions.import_mlflow),
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
                imported.get(),
                status.get(),
                saved_cascade.get(),
                deleted_cascade.get(),
            )
        },
        |(id, ..)| super::load_experiment(id),
    );
    let versions: VersionsResource = Resource::new(|| (), |_| crate::fleet::list_model_versions());
    view! {
        <Title text="Experiment · Pareto" />
        <p class="breadcrumb">
            <a href="/experiments">"Experiments"</a>
            " / "
        </p>
        <WithUser children=move |user| {
            let can_edit = user.can(Role::Member);
            let can_import = user.can(Role::Lead);
            view! {
                <Loaded
                    resource=figures
                    children=move |view| {
                        view! {
                            <Detail
                                view=view
                                can_edit=can_edit
                                can_import=can_import
                                actions=actions
                                versions=versions
                            />
                        }
                    }
                />
            }
        } />
    }
}

type VersionsResource = Resource<Result<Vec<crate::fleet::ModelVersion>, AppError>>;

/// Every action of the page, so that any of them reloads the figures.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddRun>,
    upload: ServerAction<UploadRuns>,
    import_mlflow: ServerAction<ImportMlflow>,
    delete: ServerAction<DeleteRun>,
    status: ServerAction<SetExperimentStatus>,
    save_cascade: ServerAction<SaveCascade>,
    delete_cascade: ServerAction<DeleteCascade>,
}

#[component]
fn Detail(
    view: ExperimentView,
    can_edit: bool,
    can_import: bool,
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
        <Title text=format!("{} · Pareto", e.name) />
        <PageHeader title=e.name.clone() lead=lead />
        {e
            .is_demo
            .then(|| {
                view! {
                    <Notice kind="info">
                        "Demo data: these figures illustrate how Pareto works; they are not measurements."
                    </Notice>
                }
            })}
        <div class="chips" aria-label="Service level">
            <span class=format!("badge status-{}", e.status.as_str())>{e.status.label()}</span>
            {if e.constraints.is_empty() {
                view! { <span class="chip">"No SLA constraints: the cheapest run wins"</span> }
                    .into_any()
            } else {
                e.constraints
                    .iter()
                    .map(|c| view! { <span class="chip">{c.describe(&e.currency)}</span> })
                    .collect_view()
                    .into_any()
            }}
            {(!e.dataset.is_empty())
                .then(|| view! { <span class="chip muted">"Data: " {e.dataset.clone()}</span> })}
        </div>
        <p>
            "Evaluation report, "
            <a href=format!("/experiments/{}/report.html", e.experiment_id) target="_blank">
                "to print (A4)"
            </a> " or " <a href=format!("/experiments/{}/report.md", e.experiment_id) download="">
                "as Markdown"
            </a>
            ": the question, the candidates, the matrix, the frontier, the recommendation, when another wins, the assumptions and the sign-off."
        </p>
        <Recommendation view=view.clone() />
        <section class="card">
            <div class="card-head">
                <h2>"Runs"</h2>
                <p class="muted small">
                    {format!("{} of {} meet every constraint.", view.passing_runs, view.total_runs)}
                </p>
            </div>
            {shown_note.map(|note| view! { <p class="muted small">{note}</p> })}
            <RunTable view=view.clone() can_edit=can_edit delete=actions.delete />
        </section>
        <Show when={
            let many = runs.len() >= 2;
            move || many
        }>
            <Matrix rows=runs.clone() direction=e.direction />
            <Frontier id=id />
        </Show>
        <WhatIf view=view.clone() />
        <Compression view=view.clone() />
        <Cascade
            view=view.clone()
            can_edit=can_edit
            save=actions.save_cascade
            delete=actions.delete_cascade
        />
        <Show when=move || can_edit>
            <AddRunForm id=id currency=currency.clone() add=actions.add versions=versions />
            <UploadForm id=id upload=actions.upload />
        </Show>
        <Show when=move || can_import>
            <MlflowForm id=id import=actions.import_mlflow />
        </Show>
        <Show when=move || can_edit>
            <StatusForm id=id status=e.status action=actions.status />
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
            <h2 id="recommendation-title">
                {if chosen { "Recommendation" } else { "No recommendation yet" }}
            </h2>
            <p class="decision" data-testid="recommendation">
                {view.recommendation.clone()}
            </p>
            {(!view.blockers.is_empty())
                .then(|| {
                    view! {
                        <details>
                            <summary>"What blocks each candidate"</summary>
                            <ul class="blockers">
                                {view
                                    .blockers
                                    .iter()
                                    .map(|(name, reasons)| {
                                        view! {
                                            <li>
                                                <strong>{name.clone()}</strong>
                                                ": "
                                                {reasons.join("; ")}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </details>
                    }
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
                <code>{format!("/api/v1/experiments/{}/runs", view.experiment.experiment_id)}</code>
                "."
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
        <FormAlert error=delete_error />
        <div class="table-wrap">
            <table class="table runs">
                <thead>
                    <tr>
                        <th scope="col">
                            <span class="visually-hidden">"Compare"</span>
                        </th>
                        <th scope="col">"Run"</th>
                        <th scope="col" class="numeric">
                            {super::metric_label(&metric)}
                        </th>
                        {others
                            .iter()
                            .map(|(_, label)| {
                                view! {
                                    <th scope="col" class="numeric">
                                        {label.clone()}
                                    </th>
                                }
                            })
                            .collect_view()}
                        <th scope="col" class="numeric">
                            "p95"
                        </th>
                        <th scope="col" class="numeric">
                            "Per 1k requests"
                        </th>
                        <th scope="col" class="numeric">
                            "Per month"
                        </th>
                        <th scope="col" class="numeric">
                            "Training"
                        </th>
                        <th scope="col">"SLA"</th>
                        {can_edit
                            .then(|| {
                                view! {
                                    <th scope="col">
                                        <span class="visually-hidden">"Actions"</span>
                                    </th>
                                }
                            })}
                    </tr>
                </thead>
                <tbody>
                    {view
                        .runs
                        .into_iter()
                        .map(|run| {
                            let run_id = run.run_id;
                            let frontier = run.on_cost_frontier == Some(true);
                            let failing: Vec<String> = run
                                .checks
                                .iter()
                                .filter(|c| !c.passed)
                                .map(|c| c.reason.clone())
                                .collect();
                            let passing: Vec<String> = run
                                .checks
                                .iter()
                                .filter(|c| c.passed)
                                .map(|c| c.reason.clone())
                                .collect();
                            let currency = currency.clone();
                            view! {
                                <tr class:recommended=run.recommended class:fails=!run.meets_all>
                                    <td>
                                        <input
                                            type="checkbox"
                                            aria-label=format!("Compare {}", run.name)
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected
                                                    .update(|s| {
                                                        s.retain(|r| *r != run_id);
                                                        if on {
                                                            s.push(run_id);
                                                        }
                                                    });
                                            }
                                        />
                                    </td>
                                    <th scope="row" class="run-name">
                                        <span class="strong">{run.name.clone()}</span>
                                        {run
                                            .recommended
                                            .then(|| {
                                                view! {
                                                    " "
                                                    <span class="badge badge-success">"recommended"</span>
                                                }
                                            })}
                                        {frontier
                                            .then(|| {
                                                view! {
                                                    " "
                                                    <span class="badge">"frontier"</span>
                                                }
                                            })}
                                        <span class="muted small block">
                                            {run.inference.clone()}
                                            {(!run.hardware.is_empty())
                                                .then(|| format!(" · {}", run.hardware))}
                                            {run.model_version.clone().map(|v| format!(" · {v}"))}
                                            {run
                                                .derived_from
                                                .as_ref()
                                                .map(|d| {
                                                    format!(" · {} of {}", d.technique.label(), d.parent)
                                                })}
                                        </span>
                                    </th>
                                    <td class="numeric">{or_dash(run.quality, format_number)}</td>
                                    {others
                                        .iter()
                                        .map(|(name, _)| {
                                            view! {
                                                <td class="numeric">
                                                    {or_dash(run.metrics.get(name).copied(), format_number)}
                                                </td>
                                            }
                                        })
                                        .collect_view()}
                                    <td class="numeric nowrap">
                                        {or_dash(
                                            run.p95_ms,
                                            |v| format!("{} ms", format_number(v)),
                                        )}
                                    </td>
                                    <td class="numeric nowrap" title=run.basis.clone()>
                                        {or_dash(run.per_thousand, |v| format_money(v, &currency))}
                                        {run
                                            .per_thousand
                                            .is_some()
                                            .then(|| {
                                                view! { <Explain text=run.explanation.clone() /> }
                                            })}
                                        {run
                                            .per_million_output_tokens
                                            .map(|v| {
                                                view! {
                                                    <span class="muted small block">
                                                        {format!(
                                                            "{} / 1M out tokens, all-in",
                                                            format_money(v, &currency),
                                                        )}
                                                    </span>
                                                }
                                            })}
                                    </td>
                                    <td class="numeric nowrap" title=run.basis.clone()>
                                        {or_dash(run.monthly, |v| format_money(v, &currency))}
                                    </td>
                                    <td class="numeric nowrap">
                                        {or_dash(run.training_cost, |v| format_money(v, &currency))}
                                    </td>
                                    <td class="checks">
                                        {if run.checks.is_empty() && run.curve.is_some() {
                                            view! { <span class="muted">"—"</span> }.into_any()
                                        } else if run.meets_all {
                                            view! {
                                                <details>
                                                    <summary>
                                                        <span class="pass">"✓ meets all"</span>
                                                    </summary>
                                                    <ul>
                                                        {passing
                                                            .into_iter()
                                                            .map(|r| view! { <li>{r}</li> })
                                                            .collect_view()}
                                                    </ul>
                                                </details>
                                            }
                                                .into_any()
                                        } else {
                                            let mut reasons = failing;
                                            if run.curve.is_none() {
                                                reasons.insert(0, run.basis.clone());
                                            }
                                            view! {
                                                <span class="fail">
                                                    {format!(
                                                        "✗ {}",
                                                        reasons.first().cloned().unwrap_or_default(),
                                                    )}
                                                </span>
                                                {(reasons.len() > 1)
                                                    .then(|| {
                                                        view! {
                                                            <details>
                                                                <summary>{format!("{} more", reasons.len() - 1)}</summary>
                                                                <ul>
                                                                    {reasons[1..]
                                                                        .iter()
                                                                        .map(|r| view! { <li>{r.clone()}</li> })
                                                                        .collect_view()}
                                                                </ul>
                                                            </details>
                                                        }
                                                    })}
                                            }
                                                .into_any()
                                        }}
                                    </td>
                                    {can_edit
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <ActionButton
                                                        action=delete
                                                        fields=vec![
                                                            ("experiment_id", id.to_string()),
                                                            ("run_id", run_id.to_string()),
                                                        ]
                                                        text="Delete"
                                                        label=format!("Delete run {}", run.name)
                                                    />
                                                </td>
                                            }
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
