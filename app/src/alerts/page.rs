//! Alerts: what fired and where it was delivered, the budgets with this month's spend against
//! them, and the webhooks alerts go to.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    AcknowledgeAlert, AlertView, BudgetTargets, BudgetView, CreateBudget, CreateWebhook,
    DeleteBudget, DeleteWebhook, WebhookView,
};
use crate::auth::Role;
use crate::components::{
    action_error, reset_on_success, successes, ActionButton, Field, FieldMessage, FormActions,
    FormAlert, Loaded, PageHeader, Time, WithUser,
};
use crate::format::format_money;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let acknowledge = ServerAction::<AcknowledgeAlert>::new();
    let create_budget = ServerAction::<CreateBudget>::new();
    let delete_budget = ServerAction::<DeleteBudget>::new();
    let create_webhook = ServerAction::<CreateWebhook>::new();
    let delete_webhook = ServerAction::<DeleteWebhook>::new();
    let (a, b, c, d, e) = (
        successes(acknowledge),
        successes(create_budget),
        successes(delete_budget),
        successes(create_webhook),
        successes(delete_webhook),
    );
    let alerts = Resource::new(move || a.get(), |_| super::list_alerts());
    let budgets = Resource::new(move || (b.get(), c.get()), |_| super::list_budgets());
    let targets = Resource::new(|| (), |_| super::load_budget_targets());
    let webhooks = Resource::new(move || (d.get(), e.get()), |_| super::list_webhooks());
    view! {
        <Title text="Alerts · Pareto" />
        <PageHeader
            title="Alerts"
            lead="Budgets passed, month-end forecasts over budget, and deployments whose cost per 1,000 requests jumped. Each alert fires once per threshold and period, and goes to every webhook."
        />
        <WithUser children=move |user| {
            let is_member = user.can(Role::Member);
            let is_lead = user.can(Role::Lead);
            let is_admin = user.can(Role::Admin);
            view! {
                <section class="card" aria-labelledby="alerts-heading">
                    <h2 id="alerts-heading">"Alerts"</h2>
                    <FormAlert error=action_error(acknowledge) />
                    <Loaded
                        resource=alerts
                        children=move |alerts| {
                            view! {
                                <AlertList
                                    alerts=alerts
                                    acknowledge=is_member.then_some(acknowledge)
                                />
                            }
                        }
                    />
                </section>
                <section class="card" aria-labelledby="budgets-heading">
                    <h2 id="budgets-heading">"Budgets"</h2>
                    <p class="muted small">
                        "Spend is what the bills say: current bill lines the allocation rules gave to the team or model, charged this month. The forecast prices the rest of the month at this month's daily rate blended with last month's (a week of it, fading as the month goes on); forecast alerts wait for the fifth day."
                    </p>
                    <FormAlert error=action_error(delete_budget) />
                    <Loaded
                        resource=budgets
                        children=move |budgets| {
                            view! {
                                <BudgetTable
                                    budgets=budgets
                                    delete=delete_budget
                                    can_edit=is_lead
                                />
                            }
                        }
                    />
                    {is_lead.then(|| view! { <BudgetForm create=create_budget targets=targets /> })}
                </section>
                {is_lead
                    .then(|| {
                        view! {
                            <section class="card" aria-labelledby="webhooks-heading">
                                <h2 id="webhooks-heading">"Webhooks"</h2>
                                <p class="muted small">
                                    "Each alert is posted as JSON with a text field, so a chat webhook can take it; failed deliveries are retried with backoff, six times at most."
                                </p>
                                <FormAlert error=action_error(delete_webhook) />
                                <Loaded
                                    resource=webhooks
                                    children=move |webhooks| {
                                        view! {
                                            <WebhookList
                                                webhooks=webhooks
                                                delete=delete_webhook
                                                can_edit=is_admin
                                            />
                                        }
                                    }
                                />
                                {is_admin.then(|| view! { <WebhookForm create=create_webhook /> })}
                            </section>
                        }
                    })}
            }
        } />
    }
}

/// Alerts with where each was delivered; with `acknowledge`, open ones get the button.
#[component]
pub fn AlertList(
    alerts: Vec<AlertView>,
    acknowledge: Option<ServerAction<AcknowledgeAlert>>,
) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="muted">"No alerts: spend is within every budget."</p> }
            .into_any();
    }
    view! {
        <ul class="alert-list">
            {alerts
                .into_iter()
                .map(|alert| {
                    let open = alert.acknowledged.is_none();
                    let id = alert.alert_id.to_string();
                    view! {
                        <li class="alert-item" class:alert-open=open>
                            <div class="alert-main">
                                <span class="badge" class:badge-warning=open>
                                    {alert.kind.label()}
                                </span>
                                <span class="alert-message">{alert.message.clone()}</span>
                            </div>
                            <div class="small muted">
                                <Time time=alert.created_at />
                                {alert
                                    .acknowledged
                                    .clone()
                                    .map(|(by, at)| {
                                        view! {
                                            " · acknowledged by "
                                            {by}
                                            " "
                                            <Time time=at />
                                        }
                                    })}
                                {alert
                                    .deliveries
                                    .iter()
                                    .map(|d| {
                                        let state = if d.delivered {
                                            format!("delivered to {}", d.webhook)
                                        } else if d.gave_up {
                                            format!(
                                                "gave up on {} after {} attempts ({})",
                                                d.webhook,
                                                d.attempts,
                                                d.last_error.clone().unwrap_or_default(),
                                            )
                                        } else if d.attempts > 0 {
                                            format!(
                                                "retrying {} (attempt {}: {})",
                                                d.webhook,
                                                d.attempts,
                                                d.last_error.clone().unwrap_or_default(),
                                            )
                                        } else {
                                            format!("sending to {}", d.webhook)
                                        };
                                        view! {
                                            " · "
                                            {state}
                                        }
                                    })
                                    .collect_view()}
                            </div>
                            {acknowledge
                                .filter(|_| open)
                                .map(|acknowledge| {
                                    view! {
                                        <ActionForm action=acknowledge attr:class="inline-form">
                                            <input type="hidden" name="alert_id" value=id.clone() />
                                            <button type="submit" class="button small">
                                                "Acknowledge"
                                            </button>
                                        </ActionForm>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn BudgetTable(
    budgets: Vec<BudgetView>,
    delete: ServerAction<DeleteBudget>,
    can_edit: bool,
) -> impl IntoView {
    if budgets.is_empty() {
        return view! { <p class="muted">"No budgets yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Budget"</th>
                        <th scope="col" class="numeric">
                            "Monthly"
                        </th>
                        <th scope="col">"Spent this month"</th>
                        <th scope="col" class="numeric">
                            "Forecast"
                        </th>
                        <th scope="col">"Alerts at"</th>
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
                    {budgets
                        .into_iter()
                        .map(|b| {
                            let pct = b.spent_pct();
                            let over = pct >= 100.0;
                            let width = format!("width: {:.0}%", pct.clamp(0.0, 100.0));
                            let id = b.budget_id.to_string();
                            let label = format!("Delete the budget of {}", b.target);
                            let forecast_over = b.forecast > b.monthly_amount;
                            view! {
                                <tr>
                                    <td>
                                        <span class="strong">{b.target.clone()}</span>
                                        <div class="muted small">
                                            {b.scope.label()} " · " {b.month.clone()}
                                        </div>
                                    </td>
                                    <td class="numeric">
                                        {format_money(b.monthly_amount, &b.currency)}
                                    </td>
                                    <td class="budget-cell">
                                        <div
                                            class="meter"
                                            class:meter-over=over
                                            role="meter"
                                            aria-valuemin="0"
                                            aria-valuemax="100"
                                            aria-valuenow=format!("{pct:.0}")
                                            aria-label=format!("{pct:.0}% of the budget spent")
                                        >
                                            <span style=width></span>
                                        </div>
                                        <span class="small">
                                            {format!(
                                                "{} · {pct:.0}%",
                                                format_money(b.spent, &b.currency),
                                            )}
                                        </span>
                                    </td>
                                    <td class="numeric" class:warning-text=forecast_over>
                                        {format_money(b.forecast, &b.currency)}
                                    </td>
                                    <td>
                                        {b
                                            .thresholds
                                            .iter()
                                            .map(|t| format!("{t}%"))
                                            .collect::<Vec<_>>()
                                            .join(", ")}
                                    </td>
                                    {can_edit
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <ActionButton
                                                        action=delete
                                                        fields=vec![("budget_id", id.clone())]
                                                        text="Delete"
                                                        label=label.clone()
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
fn BudgetForm(
    create: ServerAction<CreateBudget>,
    targets: Resource<Result<BudgetTargets, crate::error::AppError>>,
) -> impl IntoView {
    let error = action_error(create);
    let form = reset_on_success(create);
    let target_error = Signal::derive(move || error.get().and_then(|e| e.field_message("target")));
    view! {
        <details class="inline-details">
            <summary>"Add a budget"</summary>
            <ActionForm
                action=create
                node_ref=form
                attr:class="form grid-form"
                attr:novalidate="true"
            >
                <FormAlert error=error />
                <div class="field">
                    <label for="budget-target">"For"</label>
                    <Loaded
                        resource=targets
                        children=|targets| {
                            view! {
                                <select id="budget-target" name="target">
                                    <optgroup label="Teams">
                                        {targets
                                            .teams
                                            .into_iter()
                                            .map(|(id, name)| {
                                                view! { <option value=format!("team:{id}")>{name}</option> }
                                            })
                                            .collect_view()}
                                    </optgroup>
                                    <optgroup label="Tiers">
                                        <option value="tier:1">"Tier 1"</option>
                                        <option value="tier:2">"Tier 2"</option>
                                        <option value="tier:3">"Tier 3"</option>
                                    </optgroup>
                                    <optgroup label="Models">
                                        {targets
                                            .models
                                            .into_iter()
                                            .map(|(id, name)| {
                                                view! {
                                                    <option value=format!("model:{id}")>{name}</option>
                                                }
                                            })
                                            .collect_view()}
                                    </optgroup>
                                </select>
                            }
                        }
                    />
                    <FieldMessage id="budget-target-error" message=target_error />
                </div>
                <Field
                    name="monthly_amount"
                    label="Monthly amount"
                    hint="e.g. 12000"
                    required=true
                    error=error
                    id_prefix="budget-"
                />
                <Field
                    name="currency"
                    label="Currency"
                    hint="e.g. USD"
                    required=true
                    error=error
                    id_prefix="budget-"
                />
                <Field
                    name="thresholds"
                    label="Alert at (% of the budget)"
                    hint="Empty: 50, 80, 100"
                    error=error
                    id_prefix="budget-"
                />
                <FormActions label="Add budget" pending=create.pending() />
            </ActionForm>
        </details>
    }
}

#[component]
fn WebhookList(
    webhooks: Vec<WebhookView>,
    delete: ServerAction<DeleteWebhook>,
    can_edit: bool,
) -> impl IntoView {
    if webhooks.is_empty() {
        return view! { <p class="muted">"No webhooks: alerts are shown here only."</p> }
            .into_any();
    }
    view! {
        <ul class="link-list">
            {webhooks
                .into_iter()
                .map(|w| {
                    let id = w.webhook_id.to_string();
                    let label = format!("Delete the webhook {}", w.name);
                    view! {
                        <li>
                            <span class="strong">{w.name.clone()}</span>
                            " "
                            <span class="mono small">{w.shown_url.clone()}</span>
                            " "
                            <span class="muted small">"added " <Time time=w.created_at /></span>
                            {can_edit
                                .then(|| {
                                    view! {
                                        <ActionButton
                                            action=delete
                                            fields=vec![("webhook_id", id.clone())]
                                            text="Delete"
                                            label=label.clone()
                                        />
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn WebhookForm(create: ServerAction<CreateWebhook>) -> impl IntoView {
    let error = action_error(create);
    let form = reset_on_success(create);
    view! {
        <details class="inline-details">
            <summary>"Add a webhook"</summary>
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
                    hint="e.g. #ml-costs"
                    required=true
                    error=error
                    id_prefix="webhook-"
                />
                <Field
                    name="url"
                    label="Address"
                    hint="https://… (a chat incoming webhook, or any JSON receiver)"
                    required=true
                    error=error
                    id_prefix="webhook-"
                />
                <FormActions label="Add webhook" pending=create.pending() />
            </ActionForm>
        </details>
    }
}
