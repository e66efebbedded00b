use leptos::prelude::*;
use leptos_meta::Title;

use super::{Advice, AdviceList, WINDOW_DAYS};
use crate::components::{format_money, Loaded, PageHeader};

#[component]
pub fn AdvicePage() -> impl IntoView {
    let save = ServerAction::<super::SaveAdviceSettings>::new();
    let saved = crate::components::successes(save);
    let advice = Resource::new(move || saved.get(), |_| super::load_advice());
    view! {
        <Title text="Advice · Pareto" />
        <PageHeader
            title="Advice"
            lead=format!(
                "What to change in the fleet, with what it would have saved over the last {WINDOW_DAYS} days at their traffic, largest saving first.",
            )
        />
        <Loaded resource=advice children=move |list| view! { <AdviceView list=list save=save /> } />
    }
}

#[component]
fn AdviceView(list: AdviceList, save: ServerAction<super::SaveAdviceSettings>) -> impl IntoView {
    let mut totals: Vec<(String, rust_decimal::Decimal)> = Vec::new();
    for advice in &list.advice {
        match totals.iter_mut().find(|(c, _)| *c == advice.currency) {
            Some((_, total)) => *total += advice.saving_per_month,
            None => totals.push((advice.currency.clone(), advice.saving_per_month)),
        }
    }
    let total = totals
        .iter()
        .map(|(currency, amount)| format_money(*amount, currency))
        .collect::<Vec<_>>()
        .join(" + ");
    let settings = list.settings;
    view! {
        <div class="stats">
            <div class="stat card">
                <span class="stat-value">
                    {if total.is_empty() { "—".to_owned() } else { total }}
                </span>
                <span class="stat-label">"a month at most, the pieces' savings added"</span>
            </div>
            <div class="stat card">
                <span class="stat-value">{list.advice.len()}</span>
                <span class="stat-label">
                    {format!("pieces of advice for {} deployments read", list.deployments)}
                </span>
            </div>
        </div>
        <section class="card">
            <details class="method">
                <summary>"How the advice is worked out"</summary>
                <p>
                    {format!(
                        "Each deployment's last {WINDOW_DAYS} days of hourly telemetry are replayed hour by hour. An hour whose GPUs were busy for B GPU-hours needs B ÷ {:.0}% GPUs, rounded up (at least one while it serves requests): the rest is headroom. ",
                        settings.max_utilization * 100.0,
                    )}
                    "Three plans are priced at the deployment's own price per GPU-hour: the most GPUs any hour needed, held all month; an autoscaler from one GPU to that most, following each hour's need and starting extra GPUs "
                    {format!("{:.0} minutes", settings.startup_minutes)}
                    " ahead; and, where there are hours without requests, scaling to none in them. The cheapest plan is the advice when it saves at least "
                    {format!("{:.0}%", settings.min_saving * 100.0)}
                    ". GPUs on which nothing ran are advised to be released. "
                    {format!(
                        "On-demand deployments are priced at the catalog's spot rate too: a batch job (its experiment serves in batch, or it counts no requests while its GPUs work) all on spot with {:.0}% more GPU-hours for work run again, real-time serving {:.0}% on spot with the rest on demand as its fallback. ",
                        settings.spot_rerun * 100.0,
                        settings.spot_share_real_time * 100.0,
                    )}
                    "Savings are stated for a month (720 hours) at the measured hours' traffic; two pieces of advice for one deployment overlap, so their savings do not simply add."
                </p>
            </details>
            <crate::components::WithUser children=move |user| {
                user.can(crate::auth::Role::Lead)
                    .then(|| view! { <SettingsForm settings=settings action=save /> })
            } />
        </section>
        {if list.advice.is_empty() {
            view! {
                <section class="card empty">
                    <h2>"Nothing to change"</h2>
                    <p class="muted">
                        "Every deployment with telemetry keeps its GPUs busy enough that no plan saves 5% or more."
                    </p>
                </section>
            }
                .into_any()
        } else {
            list.advice
                .into_iter()
                .map(|advice| view! { <AdviceCard advice=advice /> })
                .collect_view()
                .into_any()
        }}
        <section class="card" aria-labelledby="retraining-heading">
            <h2 id="retraining-heading">"Retraining"</h2>
            <p class="muted">
                "A deployment's measured quality over the last 90 days is fitted with a straight line. With quality falling r points a month, each point worth V a month and a training cost C, retraining every T months costs C/T + V·r·T/2 a month, least at T = √(2C/(V·r)): that is also when the value lost since monitoring began reaches the training cost, so the next retraining pays for itself then. The range comes from the fit's 95% interval. A point is a hundredth of a metric between 0 and 1. Training cost comes from the experiment run that evaluated the version; the value of a point from its lead (on the model's page), else from the value delivered entered on the Reports page, taken as proportional to the metric."
            </p>
        </section>
        {if list.retraining.is_empty() {
            view! {
                <section class="card empty">
                    <p class="muted">
                        "No deployment reports its measured quality yet: a monitoring job posting performance drift gives each one a retraining plan."
                    </p>
                </section>
            }
                .into_any()
        } else {
            list.retraining
                .into_iter()
                .map(|plan| view! { <RetrainingCard plan=plan /> })
                .collect_view()
                .into_any()
        }}
    }
}

/// One deployment's retraining plan: the finding, the fit with its range, and what it weighed.
#[component]
pub fn RetrainingCard(plan: super::retrain::Retraining) -> impl IntoView {
    let href = crate::format::deployment_href(&plan.deployment);
    let badge = if plan.due {
        view! { <span class="badge badge-danger">"Retraining due"</span> }.into_any()
    } else {
        view! { <span class="badge badge-muted">"Retraining"</span> }.into_any()
    };
    view! {
        <section class="card advice" data-testid="retraining">
            <div class="advice-head">
                <div>
                    {badge} " " <a href=href class="strong">
                        <code>{plan.deployment.clone()}</code>
                    </a>
                    {plan
                        .model
                        .clone()
                        .map(|m| view! { <span class="muted small">{format!(" · {m}")}</span> })}
                    <h2>{plan.finding.clone()}</h2>
                </div>
            </div>
            <ul class="advice-figures">
                {plan.figures.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
            </ul>
        </section>
    }
}

/// One piece of advice: what to change and its saving, the figures it used and its risk.
#[component]
pub fn AdviceCard(advice: Advice) -> impl IntoView {
    let href = crate::format::deployment_href(&advice.deployment);
    view! {
        <section class="card advice" data-testid="advice">
            <div class="advice-head">
                <div>
                    <span class="badge badge-muted">{advice.kind.label()}</span>
                    " "
                    <a href=href class="strong">
                        <code>{advice.deployment.clone()}</code>
                    </a>
                    {advice
                        .model
                        .clone()
                        .map(|m| view! { <span class="muted small">{format!(" · {m}")}</span> })}
                    <h2>{advice.action.clone()}</h2>
                </div>
                <div class="advice-saving">
                    <span class="stat-value" data-testid="saving">
                        {format_money(advice.saving_per_month, &advice.currency)}
                    </span>
                    <span class="muted small">
                        {format!(
                            "a month less, of {}",
                            format_money(advice.cost_per_month, &advice.currency),
                        )}
                    </span>
                </div>
            </div>
            <ul class="advice-figures">
                {advice.figures.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
            </ul>
            <p class="small warning-text">{format!("Risk: {}", advice.risk)}</p>
        </section>
    }
}

/// What holds a deployment back (compute, memory or waiting) and what that implies.
#[component]
pub fn DiagnosisCard(diagnosis: super::bottleneck::Diagnosis) -> impl IntoView {
    let badge = match diagnosis.bound {
        super::bottleneck::Bound::Compute | super::bottleneck::Bound::Memory => {
            "badge badge-warning"
        }
        super::bottleneck::Bound::Waiting => "badge badge-muted",
        super::bottleneck::Bound::Balanced => "badge badge-success",
    };
    let measured = match diagnosis.memory_pct {
        Some(memory) => format!(
            "Busy {:.0}% of the GPU-time held; at most {memory:.0}% of the card's memory in any hour (last 30 days).",
            diagnosis.busy_pct
        ),
        None => format!(
            "Busy {:.0}% of the GPU-time held (last 30 days); the card's memory is not known.",
            diagnosis.busy_pct
        ),
    };
    view! {
        <section class="card" aria-labelledby="diagnosis-heading">
            <div class="card-head">
                <h2 id="diagnosis-heading">"What holds it back"</h2>
                <span class=badge>{diagnosis.bound.label()}</span>
            </div>
            <p>{measured}</p>
            <p class="muted">{diagnosis.implication}</p>
        </section>
    }
}

/// How the advice reads a deployment's serving: whether it survives interruptions and the p95 it
/// is held to, with (for a lead) the controls that change them.
#[component]
pub fn ServingCard(
    key: String,
    serving: super::Serving,
    tolerance: ServerAction<super::SetInterruptionTolerant>,
    target: ServerAction<super::SetP95Target>,
) -> impl IntoView {
    let tolerance_error = crate::components::action_error(tolerance);
    let target_error = crate::components::action_error(target);
    let tolerant = serving.interruption_tolerant;
    let said = if tolerant {
        "Tolerates interruptions (it checkpoints, or its callers retry): the advice prices it on spot like a batch job."
    } else {
        "Not marked as tolerating interruptions: the advice prices only a share of it on spot, with on-demand fallback, unless its experiment serves in batch."
    };
    let (text, label) = if tolerant {
        (
            "Mark as not tolerating interruptions",
            format!("Mark {key} as not tolerating interruptions"),
        )
    } else {
        (
            "Mark as tolerating interruptions",
            format!("Mark {key} as tolerating interruptions"),
        )
    };
    let target_said = match &serving.p95_target {
        Some(found) => format!(
            "Held to a p95 of {} ms ({}): the advice keeps each GPU as busy as that target allows, at most the headroom on the Advice page.",
            crate::format::format_number(found.ms),
            found.source
        ),
        None => "No p95 target: neither a lead nor its experiment's SLA sets one, so the advice keeps each GPU within the headroom on the Advice page.".to_owned(),
    };
    let current = serving
        .lead_p95_target_ms
        .map(crate::format::format_number)
        .unwrap_or_default();
    let fields = vec![("key", key.clone()), ("tolerant", (!tolerant).to_string())];
    let target_message = Signal::derive(move || {
        target_error
            .get()
            .and_then(|e| e.field_message("target_ms"))
    });
    view! {
        <section class="card" aria-labelledby="serving-heading">
            <h2 id="serving-heading">"Serving, as the advice reads it"</h2>
            <crate::components::FormAlert error=tolerance_error />
            <p class="muted">{said}</p>
            <p class="muted">{target_said}</p>
            <crate::components::WithUser children=move |user| {
                let key = key.clone();
                let current = current.clone();
                user.can(crate::auth::Role::Lead)
                    .then(|| {
                        view! {
                            <crate::components::ActionButton
                                action=tolerance
                                fields=fields.clone()
                                text=text
                                label=label.clone()
                            />
                            <ActionForm
                                action=target
                                attr:class="form grid-form"
                                attr:novalidate="true"
                            >
                                <crate::components::FormAlert error=target_error />
                                <input type="hidden" name="key" value=key />
                                <div class="field">
                                    <label for="serving-target">"p95 target (ms)"</label>
                                    <input
                                        id="serving-target"
                                        name="target_ms"
                                        inputmode="decimal"
                                        value=current
                                        placeholder="its experiment's SLA"
                                        aria-describedby="serving-target-hint"
                                    />
                                    <p class="hint" id="serving-target-hint">
                                        "Empty: its experiment's SLA applies."
                                    </p>
                                    <crate::components::FieldMessage
                                        id="serving-target-error"
                                        message=target_message
                                    />
                                </div>
                                <crate::components::FormActions
                                    label="Save target"
                                    pending=target.pending()
                                />
                            </ActionForm>
                        }
                    })
            } />
        </section>
    }
}

/// The settings the advice is simulated at, for a lead to change.
#[component]
fn SettingsForm(
    settings: super::simulate::Settings,
    action: ServerAction<super::SaveAdviceSettings>,
) -> impl IntoView {
    let error = crate::components::action_error(action);
    let field = move |name: &'static str, label: &'static str, value: f64, unit: &'static str| {
        let message = Signal::derive(move || error.get().and_then(|e| e.field_message(name)));
        view! {
            <div class="field">
                <label for=format!("advice-{name}")>{label}</label>
                <input
                    id=format!("advice-{name}")
                    name=name
                    inputmode="decimal"
                    value=format!("{value:.0}")
                />
                <p class="hint">{unit}</p>
                <crate::components::FieldMessage
                    id=format!("advice-{name}-error")
                    message=message
                />
            </div>
        }
    };
    view! {
        <details class="inline-details">
            <summary>"Change the settings"</summary>
            <ActionForm action=action attr:class="form grid-form" attr:novalidate="true">
                <crate::components::FormAlert error=error />
                {field(
                    "max_utilization_pct",
                    "Busiest a GPU may be kept",
                    settings.max_utilization * 100.0,
                    "percent; the rest is headroom",
                )}
                {field(
                    "startup_minutes",
                    "A new replica serves after",
                    settings.startup_minutes,
                    "minutes",
                )}
                {field(
                    "min_saving_pct",
                    "Least saving worth advising",
                    settings.min_saving * 100.0,
                    "percent of the cost",
                )}
                {field(
                    "spot_rerun_pct",
                    "Work run again after spot interruptions",
                    settings.spot_rerun * 100.0,
                    "percent more GPU-hours",
                )}
                {field(
                    "spot_share_real_time_pct",
                    "Share of real-time serving on spot",
                    settings.spot_share_real_time * 100.0,
                    "percent, the rest on demand as the fallback",
                )}
                <crate::components::FormActions label="Save settings" pending=action.pending() />
            </ActionForm>
        </details>
    }
}
