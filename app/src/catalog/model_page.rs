//! One model: its tier and why, versions, deployments, and its cost week by week.

use leptos::prelude::*;
use leptos_meta::Title;

use super::page::{task_select, team_select};
use super::tier::Tier;
use super::{
    format_parameter_count, AddModelVersion, ModelDetail, ModelPageData, ModelStatus,
    SetTierOverride, SetVersionStatus, UpdateModel, WINDOW_DAYS,
};
use crate::auth::{CurrentUser, Role};
use crate::components::{
    action_error, id_from_route, successes, Explain, Field, FieldMessage, FormActions, FormAlert,
    Loaded, Notice, Time, WithUser,
};
use crate::format::{format_count, format_latency, format_money, format_money_or_dash};
use crate::reviews::{PromotionOutcome, RequestPromotion, ReviewState};

#[component]
pub fn ModelPage() -> impl IntoView {
    let id = id_from_route();
    let update = ServerAction::<UpdateModel>::new();
    let add_version = ServerAction::<AddModelVersion>::new();
    let set_status = ServerAction::<SetVersionStatus>::new();
    let set_override = ServerAction::<SetTierOverride>::new();
    let promote = ServerAction::<RequestPromotion>::new();
    let point_value = ServerAction::<crate::advice::SetPointValue>::new();
    let (a, b, c, d, e, f) = (
        successes(update),
        successes(add_version),
        successes(set_status),
        successes(set_override),
        successes(promote),
        successes(point_value),
    );
    let model = Resource::new(
        move || {
            (
                id.get(),
                a.get(),
                b.get(),
                c.get(),
                d.get(),
                e.get(),
                f.get(),
            )
        },
        |(id, ..)| super::load_model(id),
    );
    let teams = Resource::new(|| (), |_| crate::teams::own_teams());
    let actions = Actions {
        update,
        add_version,
        set_status,
        set_override,
        promote,
        point_value,
    };
    view! {
        <p class="breadcrumb">
            <a href="/catalog">"Catalog"</a>
            " / "
        </p>
        <Loaded
            resource=model
            children=move |page| {
                view! {
                    <WithUser children=move |user| {
                        view! {
                            <ModelView page=page.clone() user=user actions=actions teams=teams />
                        }
                    } />
                }
            }
        />
    }
}

#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateModel>,
    add_version: ServerAction<AddModelVersion>,
    set_status: ServerAction<SetVersionStatus>,
    set_override: ServerAction<SetTierOverride>,
    promote: ServerAction<RequestPromotion>,
    point_value: ServerAction<crate::advice::SetPointValue>,
}

type Teams = crate::teams::TeamChoicesResource;

#[component]
fn ModelView(
    page: ModelPageData,
    user: CurrentUser,
    actions: Actions,
    teams: Teams,
) -> impl IntoView {
    let ModelPageData {
        detail,
        reviews,
        alerts,
        breaches,
        advice,
        retraining,
    } = page;
    let model = detail.model.clone();
    let currency = model.figures.currency.clone().unwrap_or_default();
    let money = |value| format_money_or_dash(value, &currency);
    let tier_class = format!("badge tier-badge tier-{}", model.placement.tier.number());
    let is_member = user.can(Role::Member);
    let is_lead = user.can(Role::Lead);
    view! {
        <Title text=format!("{} · Catalog · Pareto", model.name) />
        <div class="page-header">
            <h1>
                {model.name.clone()} " "
                <span class=tier_class>{model.placement.tier.label()}</span>
            </h1>
            <p class="lead">
                {model.task.label()} {model.team.clone().map(|team| format!(" · owned by {team}"))}
                {(!model.description.is_empty()).then(|| format!(" · {}", model.description))}
            </p>
        </div>
        <div class="stats">
            <div class="card stat">
                <span class="stat-label">"Cost per 1,000 requests"</span>
                <span class="stat-value">{money(model.figures.cost_per_1k)}</span>
                <Explain text=format!(
                    "What its deployments' GPU-hours (and machine-hours) cost over the last {WINDOW_DAYS} days, each hour at the price catalog's rate in force then (reserved: the whole device, busy or not), ÷ the requests they served × 1,000: {} ÷ the window's requests × 1,000.",
                    money(model.figures.monthly_cost),
                ) />
                {model
                    .figures
                    .cost_per_1m_output
                    .map(|v| {
                        view! {
                            <span class="stat-label">
                                {format!("{} per 1M output tokens", money(Some(v)))}
                            </span>
                        }
                    })}
            </div>
            <div class="card stat">
                <span class="stat-label">"p95 latency"</span>
                <span class="stat-value">{format_latency(model.figures.p95_ms)}</span>
                <Explain text=format!(
                    "Each hour's p95 as its deployments' servers report it, weighted by that hour's requests, over the last {WINDOW_DAYS} days.",
                ) />
            </div>
            <div class="card stat">
                <span class="stat-label">"Quality"</span>
                <span class="stat-value">{super::format_quality(model.quality.as_ref())}</span>
                <Explain text="The primary metric of the experiment run that evaluated its production version (else its newest), as that run recorded it." />
            </div>
            <div class="card stat">
                <span class="stat-label">{format!("Spend, last {WINDOW_DAYS} days")}</span>
                <span class="stat-value">{money(model.figures.monthly_cost)}</span>
            </div>
        </div>
        <section class="card" aria-labelledby="tier-heading">
            <h2 id="tier-heading">"Tier"</h2>
            <p class="placement">{model.placement.reason.clone()}</p>
            {model
                .placement
                .overridden
                .as_ref()
                .map(|o| {
                    view! {
                        <p class="muted small">
                            "The rules alone would give " {model.placement.ruled_tier.label()}
                            ". Overridden " <Time time=o.at /> "."
                        </p>
                    }
                })}
            <p class="muted small">
                "Figures: the last " {WINDOW_DAYS}
                " days of telemetry from the model's deployments, priced by the GPU price catalog (every GPU-hour held); quality from the experiment run that evaluated its production version. "
                <a href="/catalog/tiers">"The tier rules"</a> "."
            </p>
            {is_lead
                .then(|| {
                    view! {
                        <OverrideForm
                            action=actions.set_override
                            model_id=model.model_id
                            current=model.placement.overridden.as_ref().map(|o| o.tier)
                        />
                    }
                })}
        </section>
        <Versions detail=detail.clone() reviews=reviews actions=actions can_edit=is_member />
        <Deployments detail=detail.clone() />
        <LinkedSection
            id="guardrails"
            title="Guardrails broken"
            href="/guardrails"
            link="All guardrails"
            shown=!breaches.is_empty()
        >
            <crate::guardrails::BreachList breaches=breaches.clone() waive=None empty="" />
        </LinkedSection>
        // Its budget passed, or a deployment's cost per 1,000 requests jumped.
        <LinkedSection
            id="alerts"
            title="Alerts"
            href="/alerts"
            link="All alerts"
            shown=!alerts.is_empty()
        >
            <crate::alerts::AlertList alerts=alerts.clone() acknowledge=None />
        </LinkedSection>
        {advice
            .into_iter()
            .map(|advice| view! { <crate::advice::AdviceCard advice=advice /> })
            .collect_view()}
        {retraining
            .into_iter()
            .map(|plan| view! { <crate::advice::RetrainingCard plan=plan /> })
            .collect_view()}
        {is_lead
            .then(|| {
                view! {
                    <PointValueForm
                        action=actions.point_value
                        model_id=model.model_id
                        currency=currency.clone()
                    />
                }
            })}
        <History detail=detail.clone() currency=currency.clone() />
        {is_member
            .then(|| {
                view! { <EditModel detail=detail.clone() action=actions.update teams=teams /> }
            })}
    }
}

#[component]
fn OverrideForm(
    action: ServerAction<SetTierOverride>,
    model_id: uuid::Uuid,
    current: Option<Tier>,
) -> impl IntoView {
    let error = action_error(action);
    let tier_error = Signal::derive(move || error.get().and_then(|e| e.field_message("tier")));
    view! {
        <details class="inline-details">
            <summary>"Override the tier"</summary>
            <ActionForm action=action attr:class="form grid-form" attr:novalidate="true">
                <FormAlert error=error />
                <input type="hidden" name="model_id" value=model_id.to_string() />
                <div class="field">
                    <label for="override-tier">"Tier"</label>
                    <select id="override-tier" name="tier">
                        <option value="rules" selected=current.is_none()>
                            "As the rules say"
                        </option>
                        {Tier::ALL
                            .into_iter()
                            .map(|t| {
                                view! {
                                    <option
                                        value=t.number().to_string()
                                        selected=current == Some(t)
                                    >
                                        {t.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <FieldMessage id="override-tier-error" message=tier_error />
                </div>
                <Field
                    name="reason"
                    label="Reason"
                    hint="Shown next to the tier and kept in the audit log."
                    error=error
                    id_prefix="override-"
                />
                <FormActions label="Save tier" pending=action.pending() />
            </ActionForm>
        </details>
    }
}

fn status_class(status: ModelStatus) -> &'static str {
    match status {
        ModelStatus::Production => "badge badge-success",
        ModelStatus::Staging => "badge badge-warning",
        ModelStatus::Draft | ModelStatus::Retired => "badge badge-muted",
    }
}

#[component]
fn Versions(
    detail: ModelDetail,
    reviews: Vec<crate::reviews::PromotionRequest>,
    actions: Actions,
    can_edit: bool,
) -> impl IntoView {
    let status_error = action_error(actions.set_status);
    let promote_error = action_error(actions.promote);
    let add_error = action_error(actions.add_version);
    let model_id = detail.model.model_id;
    let outcome = move || match actions.promote.value().get() {
        Some(Ok(PromotionOutcome::Promoted { note })) => {
            Some(view! { <Notice kind="success">{note}</Notice> }.into_any())
        }
        Some(Ok(PromotionOutcome::Pending { reasons, .. })) => Some(
            view! { <Notice kind="info">"Waiting for review: " {reasons.join(" ")}</Notice> }
                .into_any(),
        ),
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Versions"</h2>
            <FormAlert error=status_error />
            <FormAlert error=promote_error />
            {outcome}
            {if detail.versions.is_empty() {
                view! { <p class="muted">"No versions yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col" class="numeric">
                                        "Quality"
                                    </th>
                                    <th scope="col">"Framework"</th>
                                    <th scope="col" class="numeric">
                                        "Parameters"
                                    </th>
                                    <th scope="col">"Artifact"</th>
                                    <th scope="col">"Changed"</th>
                                    <th scope="col">"Card"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {detail
                                    .versions
                                    .into_iter()
                                    .map(|v| {
                                        let id = v.model_version_id.to_string();
                                        let card_href = format!("/cards/{id}");
                                        let card_label = format!("Model card of {}", v.version);
                                        let pending = reviews
                                            .iter()
                                            .find(|r| {
                                                r.model_version_id == v.model_version_id
                                                    && r.state == ReviewState::Pending
                                            })
                                            .map(|r| r.status_line());
                                        let can_promote = can_edit
                                            && v.status != ModelStatus::Production && pending.is_none();
                                        let promote_id = id.clone();
                                        view! {
                                            <tr>
                                                <td class="strong">{v.version.clone()}</td>
                                                <td>
                                                    <span class=status_class(v.status)>{v.status.label()}</span>
                                                    {can_edit
                                                        .then(|| {
                                                            view! {
                                                                <ActionForm
                                                                    action=actions.set_status
                                                                    attr:class="inline-form"
                                                                >
                                                                    <input
                                                                        type="hidden"
                                                                        name="model_version_id"
                                                                        value=id.clone()
                                                                    />
                                                                    <label class="visually-hidden" for=format!("status-{id}")>
                                                                        {format!("New status of {}", v.version)}
                                                                    </label>
                                                                    <select id=format!("status-{id}") name="status">
                                                                        {[
                                                                            ModelStatus::Draft,
                                                                            ModelStatus::Staging,
                                                                            ModelStatus::Retired,
                                                                        ]
                                                                            .into_iter()
                                                                            .filter(|s| *s != v.status)
                                                                            .map(|s| {
                                                                                view! {
                                                                                    <option value=s
                                                                                        .as_str()>{format!("Move to {}", s.label())}</option>
                                                                                }
                                                                            })
                                                                            .collect_view()}
                                                                    </select>
                                                                    <button type="submit" class="button small ghost">
                                                                        "Move"
                                                                    </button>
                                                                </ActionForm>
                                                            }
                                                        })}
                                                    {pending
                                                        .map(|line| {
                                                            view! {
                                                                <a class="badge badge-warning" href="/reviews">
                                                                    {line}
                                                                </a>
                                                            }
                                                        })}
                                                    {can_promote
                                                        .then(|| {
                                                            view! {
                                                                <PromoteForm
                                                                    action=actions.promote
                                                                    model_version_id=promote_id
                                                                />
                                                            }
                                                        })}
                                                </td>
                                                <td class="numeric">
                                                    {super::format_quality(v.quality.as_ref())}
                                                </td>
                                                <td>
                                                    {if v.framework.is_empty() {
                                                        "—".to_owned()
                                                    } else {
                                                        v.framework.clone()
                                                    }}
                                                </td>
                                                <td class="numeric">
                                                    {v
                                                        .parameter_count
                                                        .map_or_else(|| "—".to_owned(), format_parameter_count)}
                                                </td>
                                                <td class="mono small">
                                                    {if v.artifact_uri.is_empty() {
                                                        "—".to_owned()
                                                    } else {
                                                        v.artifact_uri.clone()
                                                    }}
                                                </td>
                                                <td class="nowrap">
                                                    <Time time=v.updated_at />
                                                </td>
                                                <td>
                                                    <a href=card_href aria-label=card_label>
                                                        "Card"
                                                    </a>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
            {can_edit
                .then(|| {
                    view! {
                        <details class="inline-details">
                            <summary>"Add a version"</summary>
                            <ActionForm
                                action=actions.add_version
                                attr:class="form grid-form"
                                attr:novalidate="true"
                            >
                                <FormAlert error=add_error />
                                <input type="hidden" name="model_id" value=model_id.to_string() />
                                <Field
                                    name="version"
                                    label="Version"
                                    hint="e.g. v4"
                                    required=true
                                    error=add_error
                                />
                                <Field
                                    name="framework"
                                    label="Framework"
                                    hint="e.g. PyTorch 2.4, LightGBM 4.3"
                                    error=add_error
                                />
                                <Field
                                    name="parameter_count"
                                    label="Parameters"
                                    hint="e.g. 110M or 7B"
                                    error=add_error
                                />
                                <Field
                                    name="artifact_uri"
                                    label="Artifact URI"
                                    hint="e.g. s3://models/fraud/v4"
                                    error=add_error
                                />
                                <FormActions
                                    label="Add version"
                                    pending=actions.add_version.pending()
                                />
                            </ActionForm>
                        </details>
                    }
                })}
        </section>
    }
}

/// Asks for production: the gate promotes at once or opens a request for the leads.
#[component]
fn PromoteForm(action: ServerAction<RequestPromotion>, model_version_id: String) -> impl IntoView {
    let comment_id = format!("promote-{model_version_id}");
    view! {
        <details class="promote">
            <summary>"Request production"</summary>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="model_version_id" value=model_version_id />
                <div class="field">
                    <label for=comment_id.clone()>"Why now"</label>
                    <input
                        id=comment_id
                        name="comment"
                        placeholder="What the reviewers should know"
                    />
                </div>
                <div class="form-actions">
                    <button type="submit" class="button small primary">
                        "Ask for production"
                    </button>
                </div>
            </ActionForm>
        </details>
    }
}

#[component]
fn Deployments(detail: ModelDetail) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="deployments-heading">
            <h2 id="deployments-heading">"Deployments"</h2>
            {if detail.deployments.is_empty() {
                view! {
                    <p class="muted">
                        "Not deployed: link a deployment to one of its versions on the Fleet page."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Deployment"</th>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Drift"</th>
                                    <th scope="col" class="numeric">
                                        {format!("Requests, {WINDOW_DAYS} days")}
                                    </th>
                                    <th scope="col" class="numeric">
                                        "Cost"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "Per 1,000"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "p95"
                                    </th>
                                    <th scope="col">"Last seen"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {detail
                                    .deployments
                                    .into_iter()
                                    .map(|d| {
                                        let currency = d
                                            .cost
                                            .as_ref()
                                            .map(|(_, c)| c.clone())
                                            .unwrap_or_default();
                                        view! {
                                            <tr>
                                                <td>
                                                    <a class="mono" href=crate::format::deployment_href(&d.key)>
                                                        {d.key.clone()}
                                                    </a>
                                                </td>
                                                <td>{d.version.clone()}</td>
                                                <td>
                                                    <a
                                                        href=crate::format::drift_href(&d.key)
                                                        title=d.drift_finding.clone().unwrap_or_default()
                                                    >
                                                        <crate::components::DriftBadge state=d.drift />
                                                    </a>
                                                </td>
                                                <td class="numeric">{format_count(d.requests)}</td>
                                                <td class="numeric">
                                                    {d
                                                        .cost
                                                        .clone()
                                                        .map_or_else(
                                                            || "—".to_owned(),
                                                            |(v, c)| format_money(v, &c),
                                                        )}
                                                </td>
                                                <td class="numeric">
                                                    {format_money_or_dash(d.cost_per_1k, &currency)}
                                                    {d
                                                        .cost_per_1m_output
                                                        .map(|v| {
                                                            view! {
                                                                <div class="muted small">
                                                                    {format!("{} / 1M out tokens", format_money(v, &currency))}
                                                                </div>
                                                            }
                                                        })}
                                                </td>
                                                <td class="numeric">{format_latency(d.p95_ms)}</td>
                                                <td class="nowrap">
                                                    <Time time=d.last_seen_at />
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

/// A lead's figure for what one point of the model's quality is worth a month, which its
/// retraining plans weigh the decay against.
#[component]
fn PointValueForm(
    action: ServerAction<crate::advice::SetPointValue>,
    model_id: uuid::Uuid,
    currency: String,
) -> impl IntoView {
    let error = action_error(action);
    let currency = if currency.is_empty() {
        "USD".to_owned()
    } else {
        currency
    };
    view! {
        <section class="card">
            <details class="inline-details">
                <summary>"Value of a point of quality"</summary>
                <p class="muted small">
                    "What one point of the model's quality metric (a hundredth of F1, NDCG or AUC) is worth a month: retraining plans weigh its decay against the training cost. Leave it empty to use the value delivered from the Reports page."
                </p>
                <ActionForm action=action attr:class="form grid-form" attr:novalidate="true">
                    <FormAlert error=error />
                    <input type="hidden" name="model_id" value=model_id.to_string() />
                    <Field
                        name="amount"
                        label="Amount a month"
                        hint="e.g. 1500"
                        error=error
                        id_prefix="point-"
                    />
                    <div class="field">
                        <label for="point-currency">"Currency"</label>
                        <input id="point-currency" name="currency" value=currency />
                    </div>
                    <FormActions label="Save value" pending=action.pending() />
                </ActionForm>
            </details>
        </section>
    }
}

/// A card of the model page showing another feature's list, headed by a link to that feature's
/// page; left out when the list is empty.
#[component]
fn LinkedSection(
    /// Names the heading's id: `model-{id}-heading`.
    id: &'static str,
    title: &'static str,
    href: &'static str,
    link: &'static str,
    shown: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let heading = format!("model-{id}-heading");
    shown.then(|| {
        view! {
            <section class="card" aria-labelledby=heading.clone()>
                <div class="card-head">
                    <h2 id=heading.clone()>{title}</h2>
                    <a class="small" href=href>
                        {link}
                    </a>
                </div>
                {children()}
            </section>
        }
    })
}

#[component]
fn History(detail: ModelDetail, currency: String) -> impl IntoView {
    let model_id = detail.model.model_id;
    view! {
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"Cost over time"</h2>
            {if detail.history.is_empty() {
                view! { <p class="muted">"No telemetry in the last 12 weeks."</p> }.into_any()
            } else {
                view! {
                    <figure class="chart">
                        <picture>
                            <source
                                media="(prefers-color-scheme: dark)"
                                srcset=format!("/charts/models/{model_id}/cost.svg?theme=dark")
                            />
                            <img
                                src=format!("/charts/models/{model_id}/cost.svg?theme=light")
                                alt="Cost per 1,000 requests, week by week over the last 12 weeks"
                                width="720"
                                height="240"
                                loading="lazy"
                            />
                        </picture>
                        <figcaption class="muted small">
                            "Cost per 1,000 requests by week, from telemetry priced by the GPU price catalog; dashed lines mark the tier rules' cost thresholds that lie near it."
                        </figcaption>
                    </figure>
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Week of"</th>
                                    <th scope="col" class="numeric">
                                        "Requests"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "Cost"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "Per 1,000"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "p95"
                                    </th>
                                </tr>
                            </thead>
                            <tbody>
                                {detail
                                    .history
                                    .into_iter()
                                    .rev()
                                    .map(|w| {
                                        view! {
                                            <tr>
                                                <td class="nowrap">
                                                    {w.week.format("%Y-%m-%d").to_string()}
                                                </td>
                                                <td class="numeric">{format_count(w.requests)}</td>
                                                <td class="numeric">{format_money(w.cost, &currency)}</td>
                                                <td class="numeric">
                                                    {format_money_or_dash(w.cost_per_1k, &currency)}
                                                </td>
                                                <td class="numeric">{format_latency(w.p95_ms)}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn EditModel(
    detail: ModelDetail,
    action: ServerAction<UpdateModel>,
    teams: Teams,
) -> impl IntoView {
    let error = action_error(action);
    let description_error =
        Signal::derive(move || error.get().and_then(|e| e.field_message("description")));
    let model = detail.model;
    let team_id = detail.team_id;
    view! {
        <section class="card">
            <details class="inline-details">
                <summary>"Edit the model"</summary>
                <ActionForm action=action attr:class="form grid-form" attr:novalidate="true">
                    <FormAlert error=error />
                    <input type="hidden" name="model_id" value=model.model_id.to_string() />
                    <div class="field">
                        <label for="name">"Name"</label>
                        <input id="name" name="name" value=model.name.clone() />
                        <FieldMessage
                            id="name-error"
                            message=Signal::derive(move || {
                                error.get().and_then(|e| e.field_message("name"))
                            })
                        />
                    </div>
                    <div class="field">
                        <label for="task">"Task"</label>
                        {task_select(model.task)}
                    </div>
                    <div class="field">
                        <label for="team_id">"Owner team"</label>
                        <Loaded resource=teams children=move |teams| team_select(teams, team_id) />
                    </div>
                    <div class="field wide">
                        <label for="description">"Description"</label>
                        <textarea id="description" name="description" rows="2">
                            {model.description.clone()}
                        </textarea>
                        <FieldMessage id="description-error" message=description_error />
                    </div>
                    <FormActions label="Save" pending=action.pending() />
                </ActionForm>
            </details>
        </section>
    }
}
