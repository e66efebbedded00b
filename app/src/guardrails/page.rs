//! The guardrails page: the breaches as of now (leads waive them), the rules (admins write them).

use leptos::prelude::*;
use leptos_meta::Title;

use super::{Breach, CreateGuardrail, DeleteGuardrail, Guardrail, GuardrailsView, WaiveBreach};
use crate::auth::Role;
use crate::catalog::tier::Tier;
use crate::components::{
    action_error, reset_on_success, successes, ActionButton, Field, FieldMessage, FormActions,
    FormAlert, Loaded, PageHeader, WithUser,
};
use crate::error::AppError;
use crate::experiments::{Mode, TaskType};
use crate::format::deployment_href;

#[component]
pub fn GuardrailsPage() -> impl IntoView {
    view! {
        <Title text="Guardrails · Pareto" />
        <PageHeader
            title="Guardrails"
            lead="Rules the platform keeps about its deployments, read against each one's last 30 days. Every rule whose scope covers a deployment applies; a breach is listed with the figure that broke the rule, raises one alert a week, and makes the review gate ask a lead, until the figure mends or a lead waives it."
        />
        <WithUser children=|user| {
            view! { <Guardrails can_waive=user.can(Role::Lead) can_edit=user.can(Role::Admin) /> }
        } />
    }
}

#[component]
fn Guardrails(can_waive: bool, can_edit: bool) -> impl IntoView {
    let create = ServerAction::<CreateGuardrail>::new();
    let delete = ServerAction::<DeleteGuardrail>::new();
    let waive = ServerAction::<WaiveBreach>::new();
    let (a, b, c) = (successes(create), successes(delete), successes(waive));
    let view_data = Resource::new(
        move || (a.get(), b.get(), c.get()),
        |_| super::load_guardrails(),
    );
    let delete_error = action_error(delete);
    view! {
        <Loaded
            resource=view_data
            children=move |data: GuardrailsView| {
                let open = data.breaches.iter().filter(|b| b.waiver.is_none()).count();
                let waived = data.breaches.len() - open;
                let teams = data.teams.clone();
                view! {
                    <div class="stats">
                        <div class="stat card">
                            <span class="stat-value">{data.rules.len()}</span>
                            <span class="stat-label">"guardrails"</span>
                        </div>
                        <div class="stat card">
                            <span class="stat-value">{open}</span>
                            <span class="stat-label">"breaches open"</span>
                        </div>
                        <div class="stat card">
                            <span class="stat-value">{waived}</span>
                            <span class="stat-label">"breaches waived"</span>
                        </div>
                    </div>
                    <section class="card">
                        <h2>"Breaches"</h2>
                        <BreachList
                            breaches=data.breaches
                            waive=can_waive.then_some(waive)
                            empty="No deployment breaks a guardrail."
                        />
                    </section>
                    <section class="card">
                        <h2>"Rules"</h2>
                        <FormAlert error=delete_error />
                        <RuleTable rules=data.rules can_edit=can_edit delete=delete />
                    </section>
                    <Show when=move || can_edit>
                        <RuleForm create=create teams=teams.clone() />
                    </Show>
                }
            }
        />
    }
}

/// Breaches, one row each: the rule, the deployment and its model, the figures that broke it, and
/// the waiver in force or (for a lead) the form that gives one.
#[component]
pub fn BreachList(
    breaches: Vec<Breach>,
    waive: Option<ServerAction<WaiveBreach>>,
    #[prop(into)] empty: String,
) -> impl IntoView {
    if breaches.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    let waive_error = waive.map(|action| {
        Signal::derive(move || match action_error(action).get() {
            Some(AppError::Validation(errors)) => Some(
                errors
                    .into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            other => other.map(|e| e.to_string()),
        })
    });
    view! {
        {waive_error
            .map(|message| {
                view! {
                    <Show when=move || message.get().is_some()>
                        <div class="notice notice-error" role="alert">
                            {move || message.get()}
                        </div>
                    </Show>
                }
            })}
        <div class="table-wrap">
            <table class="table breaches">
                <thead>
                    <tr>
                        <th scope="col">"Guardrail"</th>
                        <th scope="col">"Deployment"</th>
                        <th scope="col">"Broken by"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {breaches
                        .into_iter()
                        .map(|breach| view! { <BreachRow breach=breach waive=waive /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn BreachRow(breach: Breach, waive: Option<ServerAction<WaiveBreach>>) -> impl IntoView {
    let status = match &breach.waiver {
        Some(waiver) => view! {
            <span class="badge badge-muted">"waived"</span>
            <span class="waiver">
                {format!(
                    " until {} by {}: {}",
                    waiver.until.format("%Y-%m-%d"),
                    waiver.by,
                    waiver.reason,
                )}
            </span>
        }
        .into_any(),
        None => view! { <span class="badge badge-danger">"open"</span> }.into_any(),
    };
    let form = waive.filter(|_| breach.waiver.is_none()).map(|action| {
        let id = format!("{}-{}", breach.guardrail_id, breach.deployment_id);
        let label = format!("Waive {} for {}", breach.guardrail, breach.deployment);
        view! {
            <details class="inline-details">
                <summary>"Waive"</summary>
                <ActionForm action=action attr:class="form inline-waiver" attr:novalidate="true">
                    <input
                        type="hidden"
                        name="guardrail_id"
                        value=breach.guardrail_id.to_string()
                    />
                    <input
                        type="hidden"
                        name="deployment_id"
                        value=breach.deployment_id.to_string()
                    />
                    <div class="field">
                        <label for=format!("reason-{id}")>"Reason"</label>
                        <input id=format!("reason-{id}") name="reason" type="text" />
                    </div>
                    <div class="field">
                        <label for=format!("until-{id}")>"Until"</label>
                        <input id=format!("until-{id}") name="until" type="date" />
                    </div>
                    <div class="form-actions">
                        <button
                            type="submit"
                            class="button small"
                            aria-label=label
                            disabled=move || action.pending().get()
                        >
                            "Waive"
                        </button>
                    </div>
                </ActionForm>
            </details>
        }
    });
    let model = breach
        .model
        .clone()
        .unwrap_or_else(|| "not linked to a model".into());
    view! {
        <tr>
            <td class="strong">{breach.guardrail.clone()}</td>
            <td>
                <a href=deployment_href(&breach.deployment)>{breach.deployment.clone()}</a>
                <span class="muted block">{model}</span>
            </td>
            <td>
                {breach
                    .broken
                    .iter()
                    .map(|line| view! { <span class="block">{line.clone()}</span> })
                    .collect_view()}
            </td>
            <td>{status} {form}</td>
        </tr>
    }
}

#[component]
fn RuleTable(
    rules: Vec<Guardrail>,
    can_edit: bool,
    delete: ServerAction<DeleteGuardrail>,
) -> impl IntoView {
    if rules.is_empty() {
        return view! { <p class="muted">"No guardrails yet: an admin writes them below."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Guardrail"</th>
                        <th scope="col">"Applies to"</th>
                        <th scope="col">"Requires"</th>
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
                    {rules
                        .into_iter()
                        .map(|rule| {
                            let id = rule.guardrail_id.to_string();
                            let label = format!("Delete {}", rule.name);
                            view! {
                                <tr>
                                    <td class="strong">{rule.name.clone()}</td>
                                    <td>{rule.scope.describe()}</td>
                                    <td>{rule.describe()}</td>
                                    {can_edit
                                        .then(|| {
                                            view! {
                                                <td class="table-actions">
                                                    <ActionButton
                                                        action=delete
                                                        fields=vec![("guardrail_id", id)]
                                                        text="Delete"
                                                        label=label
                                                        danger=true
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
    }
    .into_any()
}

#[component]
fn RuleForm(
    create: ServerAction<CreateGuardrail>,
    teams: Vec<(uuid::Uuid, String)>,
) -> impl IntoView {
    let error = action_error(create);
    let form = reset_on_success(create);
    let conditions_error =
        Signal::derive(move || error.get().and_then(|e| e.field_message("conditions")));
    let choice = move |name: &'static str, label: &'static str, options: Vec<(String, String)>| {
        let message = Signal::derive(move || error.get().and_then(|e| e.field_message(name)));
        view! {
            <div class="field">
                <label for=format!("guardrail-{name}")>{label}</label>
                <select id=format!("guardrail-{name}") name=name>
                    {options
                        .into_iter()
                        .map(|(value, text)| view! { <option value=value>{text}</option> })
                        .collect_view()}
                </select>
                <FieldMessage id=format!("guardrail-{name}-error") message=message />
            </div>
        }
    };
    let any = |what: &str| (String::new(), format!("Any {what}"));
    let tiers = std::iter::once(any("tier"))
        .chain(Tier::ALL.map(|t| (t.number().to_string(), t.label().to_owned())))
        .collect();
    let team_choices = std::iter::once(any("team"))
        .chain(teams.into_iter().map(|(id, name)| (id.to_string(), name)))
        .collect();
    let tasks = std::iter::once(any("task"))
        .chain(
            TaskType::ALL
                .iter()
                .map(|t| (t.as_str().to_owned(), t.label().to_owned())),
        )
        .collect();
    let modes = std::iter::once(any("mode"))
        .chain([Mode::RealTime, Mode::Batch].map(|m| (m.as_str().to_owned(), m.label().to_owned())))
        .collect();
    view! {
        <section class="card">
            <h2>"Add a guardrail"</h2>
            <ActionForm
                action=create
                node_ref=form
                attr:class="form grid-form"
                attr:novalidate="true"
            >
                <FormAlert error=error />
                <Field
                    name="name"
                    label="Name"
                    hint="e.g. Real-time GPUs kept busy"
                    required=true
                    error=error
                    id_prefix="guardrail-"
                />
                <div class="field wide">
                    <label for="guardrail-conditions">"Conditions"</label>
                    <p class="hint" id="guardrail-conditions-hint">
                        "One per line, all must hold: mean_utilization >= 30%, pricing = spot, cost_per_1k <= 0.05, monthly_cost <= 20000, team_monthly_cost <= 20000, p95_ms <= 150, retrain_interval >= 7d, f1 >= 0.9"
                    </p>
                    <textarea
                        id="guardrail-conditions"
                        name="conditions"
                        rows="3"
                        aria-describedby="guardrail-conditions-hint"
                    ></textarea>
                    <FieldMessage id="guardrail-conditions-error" message=conditions_error />
                </div>
                {choice("tier", "Tier", tiers)}
                {choice("team_id", "Team", team_choices)}
                {choice("task", "Task", tasks)}
                {choice("mode", "Serving mode", modes)}
                <FormActions label="Add guardrail" pending=create.pending() />
            </ActionForm>
        </section>
    }
}
