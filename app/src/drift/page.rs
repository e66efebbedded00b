//! Drift versus cost: every deployment on one chart (cheap to expensive, healthy to drifting) and a
//! table; one deployment's drift and cost over time with its thresholds.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    cost_split, drift_metric_label, format_statistic, quadrant, DeploymentDrift, DriftRow,
    DriftState, DriftView, ResetDriftThreshold, SetDriftThreshold, Threshold, DATA_METRICS,
    PERFORMANCE, QUADRANTS,
};
use crate::auth::Role;
use crate::components::{
    action_error, key_from_route, successes, DriftBadge, Field, FormActions, FormAlert, Loaded,
    PageHeader, Toggle, WithUser,
};
use crate::format::{deployment_href, drift_href, format_count, format_money_or_dash, url_encode};

/// The range a drift page shows, as its query string says it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeChoice {
    pub range: String,
    pub from: String,
    pub to: String,
}

impl RangeChoice {
    pub fn query(&self) -> String {
        let range = if self.range.is_empty() {
            "30d"
        } else {
            &self.range
        };
        if range == "custom" {
            format!(
                "range=custom&from={}&to={}",
                url_encode(&self.from),
                url_encode(&self.to)
            )
        } else {
            format!("range={range}")
        }
    }
}

/// 7 days, 30 days, 90 days, this quarter, or two dates: changes the page's data in place.
#[component]
pub fn RangePicker(choice: RwSignal<RangeChoice>) -> impl IntoView {
    let current = move || {
        let range = choice.with(|c| c.range.clone());
        if range.is_empty() {
            "30d".to_owned()
        } else {
            range
        }
    };
    let (from, to) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let button = move |key: &'static str, label: &'static str| {
        view! {
            <button
                type="button"
                aria-pressed=move || (current() == key).to_string()
                on:click=move |_| {
                    choice
                        .set(RangeChoice {
                            range: key.into(),
                            ..RangeChoice::default()
                        })
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="range-picker" role="group" aria-label="Range">
            <div class="segmented">
                {button("7d", "7 days")} {button("30d", "30 days")} {button("90d", "90 days")}
                {button("quarter", "This quarter")}
                <button
                    type="button"
                    aria-pressed=move || (current() == "custom").to_string()
                    on:click=move |_| choice.update(|c| c.range = "custom".into())
                >
                    "Custom"
                </button>
            </div>
            <Show when=move || current() == "custom">
                <form
                    class="range-custom"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        choice
                            .set(RangeChoice {
                                range: "custom".into(),
                                from: from.get(),
                                to: to.get(),
                            });
                    }
                >
                    <label>
                        "From "
                        <input
                            type="date"
                            name="from"
                            required=true
                            on:input=move |ev| from.set(event_target_value(&ev))
                        />
                    </label>
                    <label>
                        "To "
                        <input
                            type="date"
                            name="to"
                            required=true
                            on:input=move |ev| to.set(event_target_value(&ev))
                        />
                    </label>
                    <button type="submit" class="button small">
                        "Show"
                    </button>
                </form>
            </Show>
        </div>
    }
}

/// A change in percent as people read it: "+29%", "-4%", "steady" under half a percent.
pub fn change(pct: Option<f64>) -> String {
    match pct {
        Some(pct) if pct.abs() < 0.5 => "steady".into(),
        Some(pct) => format!("{}{pct:.0}%", if pct > 0.0 { "+" } else { "" }),
        None => String::new(),
    }
}

#[component]
pub fn DriftPage() -> impl IntoView {
    let choice = RwSignal::new(RangeChoice::default());
    let data = Resource::new(
        move || choice.get(),
        |c| super::load_drift(c.range, c.from, c.to),
    );
    view! {
        <Title text="Drift versus cost · Pareto" />
        <PageHeader
            title="Drift versus cost"
            lead="Is each deployment still as good as when it was chosen, and what does it cost meanwhile? Drift is judged against each deployment's thresholds; cost is its GPU time priced by the price catalog."
        />
        <RangePicker choice=choice />
        <Loaded
            resource=data
            children=move |view| view! { <DriftOverview view=view choice=choice /> }
        />
    }
}

#[component]
fn DriftOverview(view: DriftView, choice: RwSignal<RangeChoice>) -> impl IntoView {
    let split = cost_split(&view.rows);
    let counts: Vec<(&'static str, usize)> = QUADRANTS
        .iter()
        .map(|q| {
            let n = view
                .rows
                .iter()
                .filter(|r| split.and_then(|s| quadrant(r, s)) == Some(*q))
                .count();
            (*q, n)
        })
        .collect();
    let description = format!(
        "Each deployment at its cost per 1,000 requests (across, logarithmic) and its worst drift over its alert level (up; 1 is the alert level), {}. {}",
        view.range.label(),
        counts
            .iter()
            .map(|(q, n)| format!("{q}: {n}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let query = choice.with_untracked(|c| c.query());
    let spend_query = query.clone();
    let chart = move |theme: &str| format!("/charts/drift/quadrant.svg?{query}&theme={theme}");
    let measured = view
        .rows
        .iter()
        .filter(|r| r.state != DriftState::Unmeasured)
        .count();
    let mut rows = view.rows;
    rows.sort_by(|a, b| {
        b.state
            .cmp(&a.state)
            .then_with(|| b.monthly.cmp(&a.monthly))
    });
    view! {
        <figure class="card chart quadrant">
            <figcaption>
                <h2>"Cost against drift"</h2>
                <p class="muted small">{description.clone()}</p>
            </figcaption>
            {if split.is_none() {
                view! {
                    <p class="muted">
                        "No priced telemetry in this range: there is nothing to place on the chart yet."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <object
                        class="chart-light"
                        type="image/svg+xml"
                        data=chart("light")
                        aria-label=description.clone()
                        width="720"
                        height="420"
                    ></object>
                    <object
                        class="chart-dark"
                        type="image/svg+xml"
                        data=chart("dark")
                        aria-label=description.clone()
                        width="720"
                        height="420"
                    ></object>
                    <ul class="quadrant-counts">
                        {counts
                            .into_iter()
                            .map(|(q, n)| {
                                view! {
                                    <li>
                                        <span class="strong">{n}</span>
                                        " "
                                        {q.to_lowercase()}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </figure>
        <SpendChart query=spend_query range=view.range.label() />
        <section class="card" aria-labelledby="deployments-heading">
            <div class="card-head">
                <h2 id="deployments-heading">"Deployments"</h2>
                <span class="muted small">
                    {format!("{measured} of {} measured for drift", rows.len())}
                </span>
            </div>
            {if rows.is_empty() {
                view! {
                    <p class="muted">
                        "No deployments yet. Agents register them when they send telemetry or drift."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table drift-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Deployment"</th>
                                    <th scope="col">"Drift"</th>
                                    <th scope="col">"Worst finding"</th>
                                    <th scope="col" class="numeric">
                                        "Per 1,000"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "Change"
                                    </th>
                                    <th scope="col" class="numeric">
                                        "Monthly"
                                    </th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|row| view! { <DriftTableRow row=row /> })
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

/// GPU spend over the range stacked by team or by model, switched in place.
#[component]
fn SpendChart(query: String, range: String) -> impl IntoView {
    let by = RwSignal::new("team");
    let src = move |theme: &'static str| {
        let query = query.clone();
        move || {
            format!(
                "/charts/drift/spend.svg?{query}&by={}&theme={theme}",
                by.get()
            )
        }
    };
    let description = move || {
        format!(
            "GPU spend by {} and day (by week past 31 days), {range}: telemetry priced by the GPU price catalog, reserved basis; the seven largest apart, the rest as Other.",
            by.get()
        )
    };
    view! {
        <figure class="card chart">
            <figcaption>
                <div class="card-head">
                    <h2>"Spend over time"</h2>
                    <Toggle
                        label="Stack by"
                        value=by
                        options=&[("team", "By team"), ("model", "By model")]
                    />
                </div>
                <p class="muted small">{description.clone()}</p>
            </figcaption>
            <picture>
                <source media="(prefers-color-scheme: dark)" srcset=src("dark") />
                <img src=src("light") alt=description width="720" height="300" loading="lazy" />
            </picture>
        </figure>
    }
}

#[component]
fn DriftTableRow(row: DriftRow) -> impl IntoView {
    let currency = row.currency.clone().unwrap_or_default();
    let finding = row
        .findings
        .first()
        .map(|f| f.text.clone())
        .unwrap_or_else(|| "No measurements in the last 7 days of the range".into());
    let rising = row.per_1k_change_pct.is_some_and(|p| p >= 0.5);
    view! {
        <tr>
            <td>
                <a class="strong" href=drift_href(&row.key)>
                    {row.key.clone()}
                </a>
                <div class="muted small">
                    {match (row.model_id, row.model.clone()) {
                        (Some(id), Some(model)) => {
                            view! {
                                <a href=format!(
                                    "/models/{id}",
                                )>
                                    {format!("{model} {}", row.version.clone().unwrap_or_default())}
                                </a>
                            }
                                .into_any()
                        }
                        _ => view! { <span>"Not linked to a model"</span> }.into_any(),
                    }} {row.team.clone().map(|t| format!(" · {t}"))}
                </div>
            </td>
            <td>
                <DriftBadge state=row.state />
            </td>
            <td class="small">{finding}</td>
            <td class="numeric nowrap">{format_money_or_dash(row.per_1k, &currency)}</td>
            <td class="numeric nowrap" class:up=rising>
                {change(row.per_1k_change_pct)}
            </td>
            <td class="numeric nowrap">{format_money_or_dash(row.monthly, &currency)}</td>
        </tr>
    }
}

#[component]
pub fn DeploymentDriftPage() -> impl IntoView {
    let key = key_from_route();
    let choice = RwSignal::new(RangeChoice::default());
    let set = ServerAction::<SetDriftThreshold>::new();
    let reset = ServerAction::<ResetDriftThreshold>::new();
    let (set_done, reset_done) = (successes(set), successes(reset));
    let data = Resource::new(
        move || (key.get(), choice.get(), set_done.get(), reset_done.get()),
        |(key, c, _, _)| super::load_deployment_drift(key, c.range, c.from, c.to),
    );
    view! {
        <Title text="Drift · Pareto" />
        <Loaded
            resource=data
            children=move |drift| {
                view! { <DeploymentDriftView drift=drift choice=choice set=set reset=reset /> }
            }
        />
    }
}

#[component]
fn DeploymentDriftView(
    drift: DeploymentDrift,
    choice: RwSignal<RangeChoice>,
    set: ServerAction<SetDriftThreshold>,
    reset: ServerAction<ResetDriftThreshold>,
) -> impl IntoView {
    let row = drift.row.clone();
    let id = row.deployment_id;
    let key = row.key.clone();
    let worst = row
        .findings
        .first()
        .map(|f| (f.latest.metric.clone(), f.latest.feature.clone()))
        .or_else(|| drift.series.first().cloned());
    let series = RwSignal::new(worst);
    let query = choice.with_untracked(|c| c.query());
    let chart = move |theme: &'static str| {
        let (query, key) = (query.clone(), key.clone());
        move || {
            series.get().map_or_else(String::new, |(metric, feature)| {
                format!(
                    "/charts/drift/deployments/{}.svg?{query}&metric={}&feature={}&theme={theme}",
                    url_encode(&key),
                    url_encode(&metric),
                    url_encode(&feature)
                )
            })
        }
    };
    let describe = move || {
        series.get().map_or_else(String::new, |(metric, feature)| {
            let what = if feature.is_empty() {
                drift_metric_label(&metric)
            } else {
                format!("{} of {feature}", drift_metric_label(&metric))
            };
            format!("{what} (left axis, with its warning and alert levels) and cost per 1,000 requests (right axis), {}", drift.range.label())
        })
    };
    let currency = row.currency.clone().unwrap_or_default();
    let options = drift.series.clone();
    let title = format!("Drift · {}", row.key);
    view! {
        <Title text=title />
        <PageHeader
            title=row.key.clone()
            lead="Drift and cost of one deployment: what moved, how far past its thresholds, and what it cost per 1,000 requests meanwhile."
        />
        <p class="breadcrumb">
            <a href="/drift">"Drift versus cost"</a>
            {row
                .model_id
                .map(|m| {
                    view! {
                        " · "
                        <a href=format!(
                            "/models/{m}",
                        )>
                            {format!(
                                "{} {}",
                                row.model.clone().unwrap_or_default(),
                                row.version.clone().unwrap_or_default(),
                            )}
                        </a>
                    }
                })}
            " · "
            <a href=deployment_href(&row.key)>"Fleet page"</a>
        </p>
        <RangePicker choice=choice />
        <div class="stats dashboard-stats">
            <div class="stat card">
                <span class="stat-value">
                    <DriftBadge state=row.state />
                </span>
                <span class="stat-label">"drift state"</span>
            </div>
            <div class="stat card">
                <span class="stat-value">{format_money_or_dash(row.per_1k, &currency)}</span>
                <span class="stat-label">
                    {format!("per 1,000 requests · {}", change(row.per_1k_change_pct))}
                </span>
            </div>
            <div class="stat card">
                <span class="stat-value">{format_money_or_dash(row.monthly, &currency)}</span>
                <span class="stat-label">"a month at this range's rate"</span>
            </div>
            <div class="stat card">
                <span class="stat-value">{format_count(row.requests)}</span>
                <span class="stat-label">"requests in the range"</span>
            </div>
        </div>
        <section class="card" aria-labelledby="findings-heading">
            <h2 id="findings-heading">"Findings"</h2>
            {if row.findings.is_empty() {
                view! {
                    <p class="muted">
                        "No drift measured in the last 7 days of this range. Monitoring jobs post measurements to POST /api/v1/drift."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="findings">
                        {row
                            .findings
                            .iter()
                            .map(|f| {
                                let pick = (f.latest.metric.clone(), f.latest.feature.clone());
                                let pressed = pick.clone();
                                view! {
                                    <li>
                                        <DriftBadge state=f.state />
                                        <span>{f.text.clone()}</span>
                                        <button
                                            type="button"
                                            class="link-button small"
                                            aria-pressed=move || {
                                                (series.get().as_ref() == Some(&pressed)).to_string()
                                            }
                                            on:click=move |_| series.set(Some(pick.clone()))
                                        >
                                            "Chart it"
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        <figure class="card chart">
            <figcaption>
                <div class="card-head">
                    <h2>"Drift and cost over time"</h2>
                    {(options.len() > 1)
                        .then(|| {
                            view! {
                                <label class="inline-choice small">
                                    "Series "
                                    <select on:change=move |ev| {
                                        let value = event_target_value(&ev);
                                        series
                                            .set(
                                                value
                                                    .split_once('|')
                                                    .map(|(m, f)| (m.to_owned(), f.to_owned())),
                                            );
                                    }>
                                        {options
                                            .iter()
                                            .map(|(m, f)| {
                                                let value = format!("{m}|{f}");
                                                let selected = series.get_untracked().as_ref()
                                                    == Some(&(m.clone(), f.clone()));
                                                let label = if f.is_empty() {
                                                    drift_metric_label(m)
                                                } else {
                                                    format!("{} · {f}", drift_metric_label(m))
                                                };
                                                view! {
                                                    <option value=value selected=selected>
                                                        {label}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                            }
                        })}
                </div>
                <p class="muted small">{describe.clone()}</p>
            </figcaption>
            {if drift.series.is_empty() {
                view! { <p class="muted">"Nothing to draw until drift is measured."</p> }.into_any()
            } else {
                view! {
                    <picture>
                        <source media="(prefers-color-scheme: dark)" srcset=chart("dark") />
                        <img src=chart("light") alt=describe width="720" height="300" />
                    </picture>
                }
                    .into_any()
            }}
        </figure>
        <WithUser children=move |user| {
            view! {
                <Thresholds
                    thresholds=drift.thresholds.clone()
                    deployment_id=id
                    can_edit=user.can(Role::Lead)
                    set=set
                    reset=reset
                />
            }
        } />
    }
}

#[component]
fn Thresholds(
    thresholds: Vec<Threshold>,
    deployment_id: uuid::Uuid,
    can_edit: bool,
    set: ServerAction<SetDriftThreshold>,
    reset: ServerAction<ResetDriftThreshold>,
) -> impl IntoView {
    let error = action_error(set);
    let reset_error = action_error(reset);
    let label = |metric: &str| {
        if metric == PERFORMANCE {
            "Performance drop (% of the experiment's figure)".to_owned()
        } else {
            drift_metric_label(metric)
        }
    };
    let wasserstein_set = thresholds.iter().any(|t| t.metric == "wasserstein");
    view! {
        <section class="card" aria-labelledby="thresholds-heading">
            <h2 id="thresholds-heading">"Thresholds"</h2>
            <p class="muted small">
                "A value at or past the warning level makes the deployment a warning; at or past the alert level it is drifting, and an alert fires once a week. Wasserstein is in the feature's own unit, so it is judged only once set."
            </p>
            <FormAlert error=reset_error />
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Statistic"</th>
                            <th scope="col" class="numeric">
                                "Warn at"
                            </th>
                            <th scope="col" class="numeric">
                                "Alert at"
                            </th>
                            <th scope="col">"Source"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {thresholds
                            .iter()
                            .map(|t| {
                                let metric = t.metric.clone();
                                view! {
                                    <tr>
                                        <td>{label(&t.metric)}</td>
                                        <td class="numeric">{format_statistic(t.warn)}</td>
                                        <td class="numeric">{format_statistic(t.alert)}</td>
                                        <td>
                                            {if t.custom {
                                                "Set for this deployment"
                                            } else {
                                                "Pareto's default"
                                            }}
                                            {(t.custom && can_edit)
                                                .then(|| {
                                                    view! {
                                                        " "
                                                        <button
                                                            type="button"
                                                            class="link-button small"
                                                            on:click=move |_| {
                                                                reset
                                                                    .dispatch(ResetDriftThreshold {
                                                                        deployment_id,
                                                                        metric: metric.clone(),
                                                                    });
                                                            }
                                                        >
                                                            "Use the default"
                                                        </button>
                                                    }
                                                })}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                        {(!wasserstein_set)
                            .then(|| {
                                view! {
                                    <tr>
                                        <td>"Wasserstein"</td>
                                        <td class="numeric">"—"</td>
                                        <td class="numeric">"—"</td>
                                        <td class="muted">"Not judged"</td>
                                    </tr>
                                }
                            })}
                    </tbody>
                </table>
            </div>
            {can_edit
                .then(|| {
                    view! {
                        <details class="inline-details">
                            <summary>"Set a threshold"</summary>
                            <ActionForm
                                action=set
                                attr:class="form grid-form"
                                attr:novalidate="true"
                            >
                                <FormAlert error=error />
                                <input
                                    type="hidden"
                                    name="deployment_id"
                                    value=deployment_id.to_string()
                                />
                                <label class="field">
                                    <span class="field-label">"Statistic"</span>
                                    <select name="metric">
                                        {DATA_METRICS
                                            .iter()
                                            .map(|(m, l)| view! { <option value=*m>{*l}</option> })
                                            .collect_view()}
                                        <option value=PERFORMANCE>"Performance drop, %"</option>
                                    </select>
                                </label>
                                <Field
                                    name="warn"
                                    label="Warn at"
                                    hint="e.g. 0.1 for PSI, 2 for a 2% drop"
                                    error=error
                                />
                                <Field
                                    name="alert"
                                    label="Alert at"
                                    hint="At least the warning level"
                                    error=error
                                />
                                <FormActions label="Save threshold" pending=set.pending() />
                            </ActionForm>
                        </details>
                    }
                })}
        </section>
    }
}
