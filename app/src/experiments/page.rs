//! The experiments list, with its filters and the form that starts a new experiment.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::{
    Constraint, CreateExperiment, ExperimentSummary, Mode, Status, TaskType, STANDARD_METRICS,
};
use crate::auth::Role;
use crate::components::{
    action_error, format_count, Field, FieldMessage, FormActions, FormAlert, Loaded, PageHeader,
    Time, WithUser,
};
use crate::teams::{own_teams, TeamChoicesResource};

#[component]
pub fn ExperimentsPage() -> impl IntoView {
    // Made once, here, outside the user's suspense (see the experiment page).
    let experiments = Resource::new(|| (), |_| super::list_experiments());
    let teams: TeamChoicesResource = Resource::new(|| (), |_| own_teams());
    view! {
        <Title text="Experiments · Pareto" />
        <PageHeader
            title="Experiments"
            lead="Candidate models evaluated on the same data, and the cheapest one that meets the service level."
        />
        <WithUser children=move |user| {
            let can_create = user.can(Role::Member);
            view! {
                <Loaded
                    resource=experiments
                    children=move |list| view! { <ExperimentList list=list /> }
                />
                <Show when=move || can_create>
                    <NewExperiment teams=teams />
                </Show>
            }
        } />
    }
}

/// A select whose first option means "any".
#[component]
fn Filter(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="field compact">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">"Any"</option>
                {options
                    .into_iter()
                    .map(|(value, label)| view! { <option value=value>{label}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
fn ExperimentList(list: Vec<ExperimentSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <section class="card empty">
                <h2>"No experiments yet"</h2>
                <p class="muted">
                    "Start one below, upload runs as CSV, or post them from a training pipeline to "
                    <code>"POST /api/v1/experiments/{id}/runs"</code> "."
                </p>
            </section>
        }
        .into_any();
    }
    let team = RwSignal::new(String::new());
    let task = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let mut teams: Vec<String> = list.iter().map(|e| e.team.clone()).collect();
    teams.sort();
    teams.dedup();
    let list = StoredValue::new(list);
    let shown = move || {
        list.get_value()
            .into_iter()
            .filter(|e| team.with(|t| t.is_empty() || *t == e.team))
            .filter(|e| task.with(|t| t.is_empty() || t == e.task_type.as_str()))
            .filter(|e| status.with(|s| s.is_empty() || s == e.status.as_str()))
            .collect::<Vec<_>>()
    };
    view! {
        <section class="card">
            <div class="filters" role="search" aria-label="Filter experiments">
                <Filter
                    id="filter-team"
                    label="Team"
                    options=teams.into_iter().map(|t| (t.clone(), t)).collect()
                    value=team
                />
                <Filter
                    id="filter-task"
                    label="Task"
                    options=TaskType::ALL
                        .iter()
                        .map(|t| (t.as_str().to_owned(), t.label().to_owned()))
                        .collect()
                    value=task
                />
                <Filter
                    id="filter-status"
                    label="Status"
                    options=Status::ALL
                        .iter()
                        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
                        .collect()
                    value=status
                />
            </div>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Experiment"</th>
                            <th scope="col">"Team"</th>
                            <th scope="col">"Task"</th>
                            <th scope="col">"SLA"</th>
                            <th scope="col" class="numeric">
                                "Volume / month"
                            </th>
                            <th scope="col" class="numeric">
                                "Runs"
                            </th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Updated"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=shown key=|e| e.experiment_id let:e>
                            <tr>
                                <td class="strong">
                                    <a href=format!(
                                        "/experiments/{}",
                                        e.experiment_id,
                                    )>{e.name.clone()}</a>
                                    {e
                                        .is_demo
                                        .then(|| {
                                            view! {
                                                " "
                                                <span class="badge badge-warning">"demo data"</span>
                                            }
                                        })}
                                </td>
                                <td class="nowrap">{e.team.clone()}</td>
                                <td class="nowrap">{e.task_type.label()}</td>
                                <td class="small">
                                    {if e.constraints.is_empty() {
                                        "none".to_owned()
                                    } else {
                                        e.constraints
                                            .iter()
                                            .map(|c| {
                                                c.parse::<Constraint>()
                                                    .map_or_else(|_| c.clone(), |c| c.describe(&e.currency))
                                            })
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    }}
                                </td>
                                <td class="numeric">
                                    {format_count(
                                        i64::try_from(e.monthly_volume).unwrap_or(i64::MAX),
                                    )}
                                </td>
                                <td class="numeric">{e.runs}</td>
                                <td>
                                    <span class=format!(
                                        "badge status-{}",
                                        e.status.as_str(),
                                    )>{e.status.label()}</span>
                                </td>
                                <td class="nowrap small">
                                    <Time time=e.updated_at />
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || shown().is_empty()>
                <p class="muted">"No experiment matches these filters."</p>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn NewExperiment(teams: TeamChoicesResource) -> impl IntoView {
    let create = ServerAction::<CreateExperiment>::new();
    let error = action_error(create);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/experiments/{id}"), Default::default());
        }
    });
    let field_error = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(name)))
    };
    view! {
        <section class="card">
            <h2>"Start an experiment"</h2>
            <p class="muted">
                "Say what the candidates must achieve; Pareto then finds the cheapest run that does, at the volume you expect."
            </p>
            <ActionForm action=create attr:class="form grid-form" attr:novalidate="true">
                <FormAlert error=error />
                <Field
                    name="name"
                    label="Name"
                    hint="e.g. Review sentiment, Q4"
                    required=true
                    error=error
                />
                <div class="field" class:has-error=move || field_error("team_id").get().is_some()>
                    <label for="team_id">"Owner team"</label>
                    <Loaded
                        resource=teams
                        children=|own| {
                            if own.teams.is_empty() {
                                return view! {
                                    <p class="hint">
                                        "An experiment belongs to a team. " {own.none_message()} " "
                                        <a href="/settings/teams">"Teams"</a>
                                    </p>
                                }
                                    .into_any();
                            }
                            view! {
                                <select
                                    id="team_id"
                                    name="team_id"
                                    aria-describedby="team_id-error"
                                >
                                    {own
                                        .teams
                                        .into_iter()
                                        .map(|(id, name)| {
                                            view! { <option value=id.to_string()>{name}</option> }
                                        })
                                        .collect_view()}
                                </select>
                            }
                                .into_any()
                        }
                    />
                    <FieldMessage id="team_id-error" message=field_error("team_id") />
                </div>
                <div class="field">
                    <label for="task_type">"Task"</label>
                    <select id="task_type" name="task_type">
                        {TaskType::ALL
                            .iter()
                            .map(|t| view! { <option value=t.as_str()>{t.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div
                    class="field"
                    class:has-error=move || field_error("primary_metric").get().is_some()
                >
                    <label for="primary_metric">"Primary metric"</label>
                    <p class="hint" id="primary_metric-hint">
                        "A standard one, or your own name such as ndcg@10."
                    </p>
                    <input
                        id="primary_metric"
                        name="primary_metric"
                        list="standard-metrics"
                        value="f1"
                        aria-describedby="primary_metric-hint primary_metric-error"
                    />
                    <datalist id="standard-metrics">
                        {STANDARD_METRICS
                            .iter()
                            .map(|(name, label, _)| view! { <option value=*name>{*label}</option> })
                            .collect_view()}
                    </datalist>
                    <FieldMessage id="primary_metric-error" message=field_error("primary_metric") />
                </div>
                <div class="field">
                    <label for="direction">"Better when"</label>
                    <select id="direction" name="direction">
                        <option value="">"the metric's usual way"</option>
                        <option value="higher">"higher"</option>
                        <option value="lower">"lower"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="mode">"Serving"</label>
                    <select id="mode" name="mode">
                        {Mode::ALL
                            .iter()
                            .map(|m| view! { <option value=m.as_str()>{m.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <Field
                    name="monthly_volume"
                    label="Requests per month"
                    hint="Empty: 1,000,000."
                    error=error
                />
                <Field name="currency" label="Currency" hint="Empty: USD." error=error />
                <div
                    class="field wide"
                    class:has-error=move || field_error("constraints").get().is_some()
                >
                    <label for="constraints">"Service level"</label>
                    <p class="hint" id="constraints-hint">
                        "One per line: "
                        <code>"f1 >= 0.90"</code>
                        ", "
                        <code>"mape <= 8%"</code>
                        ", "
                        <code>"p95 <= 120 ms"</code>
                        ", "
                        <code>"cost_per_1k <= 0.40"</code>
                        ", "
                        <code>"monthly <= 5000"</code>
                    </p>
                    <textarea
                        id="constraints"
                        name="constraints"
                        rows="4"
                        aria-describedby="constraints-hint constraints-error"
                    ></textarea>
                    <FieldMessage id="constraints-error" message=field_error("constraints") />
                </div>
                <div class="field wide">
                    <label for="dataset">"Dataset"</label>
                    <textarea
                        id="dataset"
                        name="dataset"
                        rows="2"
                        placeholder="What the candidates were evaluated on, e.g. 12,000 labelled reviews, held out by month"
                    ></textarea>
                </div>
                <FormActions label="Create experiment" pending=create.pending() />
            </ActionForm>
        </section>
    }
}
