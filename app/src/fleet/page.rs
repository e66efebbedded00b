use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    clamp_days, range_label, DeploymentCost, Fleet, Gpu, HostCapacity, LinkDeployment, RANGES,
};
use crate::auth::Role;
use crate::components::{
    action_error, format_count, format_money, successes, FieldMessage, FormAlert, Loaded,
    PageHeader, Time, WithUser,
};
use crate::format::format_short_count;
use crate::teams::{own_teams, TeamChoicesResource};

#[component]
pub fn FleetPage() -> impl IntoView {
    let query = use_query_map();
    let days =
        Memo::new(move |_| clamp_days(query.read().get("days").and_then(|d| d.parse().ok())));
    // The page's resources are made once, here, outside any suspense: made inside one, they would
    // be made (and loaded) again each time it renders, and the browser would not find them.
    let link = ServerAction::<LinkDeployment>::new();
    let linked = successes(link);
    let fleet = Resource::new(
        move || (days.get(), linked.get()),
        |(days, _)| super::load_fleet(Some(days)),
    );
    let teams: TeamChoicesResource = Resource::new(|| (), |_| own_teams());
    view! {
        <Title text="Fleet · Pareto" />
        <PageHeader
            title="Fleet"
            lead="The GPU hosts reporting to Pareto, what runs on them, and what each deployment costs."
        />
        <nav class="segmented" aria-label="Period">
            {RANGES
                .into_iter()
                .map(|(range, label)| {
                    view! {
                        <a
                            href=format!("/fleet?days={range}")
                            aria-current=move || (days.get() == range).then_some("true")
                        >
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <WithUser children=move |user| {
            let can_link = user.can(Role::Member);
            view! {
                <Loaded
                    resource=fleet
                    children=move |fleet| {
                        if fleet.gpus.is_empty() && fleet.deployments.is_empty() {
                            view! { <NoTelemetry /> }.into_any()
                        } else {
                            view! {
                                <FleetView fleet=fleet can_link=can_link link=link teams=teams />
                            }
                                .into_any()
                        }
                    }
                />
            }
        } />
        <crate::genai::HostedSpend days=days />
    }
}

#[component]
fn NoTelemetry() -> impl IntoView {
    view! {
        <section class="card empty">
            <h2>"No GPU host has reported yet"</h2>
            <p class="muted">
                "Create a token with the " <code>"ingest"</code> " scope under "
                <a href="/settings/tokens">"API tokens"</a>
                ", then point an agent on each GPU host at " <code>"POST /api/v1/telemetry"</code>
                "."
            </p>
        </section>
    }
}

#[component]
fn FleetView(
    fleet: Fleet,
    can_link: bool,
    link: ServerAction<LinkDeployment>,
    teams: TeamChoicesResource,
) -> impl IntoView {
    let unassigned: Vec<DeploymentCost> = fleet
        .deployments
        .iter()
        .filter(|d| d.model.is_none())
        .cloned()
        .collect();
    let stale = fleet.gpus.iter().filter(|g| g.stale).count();
    let idle_now = fleet.gpus.iter().filter(|g| g.idle && !g.stale).count();
    let idle_cost = fleet
        .idle_cost_per_day()
        .into_iter()
        .map(|(currency, amount)| format_money(amount, &currency))
        .collect::<Vec<_>>()
        .join(" + ");
    let hosts = fleet.hosts();
    let gpu_count = fleet.gpus.iter().filter(|g| g.cpu_cores.is_none()).count();
    let cpu_count = fleet.gpus.len() - gpu_count;
    let deployment_count = fleet.deployments.len();
    view! {
        <div class="stats">
            <div class="stat card">
                <span class="stat-value">{gpu_count}</span>
                <span class="stat-label">
                    {if cpu_count > 0 {
                        format!("GPUs, and {cpu_count} CPU allotments, on {hosts} hosts")
                    } else {
                        format!("GPUs on {hosts} hosts")
                    }}
                </span>
            </div>
            <div class="stat card">
                <span class="stat-value">{deployment_count}</span>
                <span class="stat-label">
                    {format!("deployments, {} unassigned", unassigned.len())}
                </span>
            </div>
            <div class="stat card">
                <span class="stat-value">{idle_now}</span>
                <span class="stat-label">
                    {if idle_cost.is_empty() {
                        "GPUs idle now".to_owned()
                    } else {
                        format!("GPUs idle now, {idle_cost} a day")
                    }}
                </span>
            </div>
        </div>
        {(stale > 0)
            .then(|| {
                view! {
                    <div class="notice notice-warning" role="status">
                        {format!(
                            "{stale} {} not reported for over {} minutes: check their agents.",
                            if stale == 1 { "GPU has" } else { "GPUs have" },
                            super::STALE_AFTER_MINUTES,
                        )}
                    </div>
                }
            })}
        {(!unassigned.is_empty())
            .then(|| {
                view! {
                    <Unassigned deployments=unassigned can_link=can_link link=link teams=teams />
                }
            })}
        <DeploymentTable deployments=fleet.deployments.clone() days=fleet.days />
        {(!fleet.capacity.is_empty())
            .then(|| view! { <CapacityTable capacity=fleet.capacity.clone() days=fleet.days /> })}
        <GpuTable
            gpus=fleet.gpus.clone()
            title=if fleet.gpus.iter().any(|g| g.cpu_cores.is_some()) {
                "GPUs and CPU machines"
            } else {
                "GPUs"
            }
        />
    }
}

/// Each host's GPUs that no deployment used: capacity paid for and not put to work.
#[component]
fn CapacityTable(capacity: Vec<HostCapacity>, days: u32) -> impl IntoView {
    view! {
        <section class="card" id="idle-capacity">
            <h2>{format!("Idle capacity, last {}", range_label(days))}</h2>
            <p class="muted">
                "GPUs (and CPU cores) that reported but that no deployment uses: what the hosts cost beyond their deployments. "
                "A host has no pricing of its own, so these are priced at the catalog's on-demand rate "
                "(on premises: the on-prem rate and its energy). Map them to a deployment in the agent's "
                "file or its pod rules, or give them back."
            </p>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Host"</th>
                            <th scope="col">"GPU or machine"</th>
                            <th scope="col" class="numeric">
                                "Hours held"
                            </th>
                            <th scope="col" class="numeric">
                                "Mean utilization"
                            </th>
                            <th scope="col" class="numeric">
                                "Cost"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {capacity
                            .into_iter()
                            .map(|c| {
                                let utilization = if c.gpu_hours > 0.0 {
                                    format!("{:.0}%", c.busy_gpu_hours / c.gpu_hours * 100.0)
                                } else {
                                    "—".to_owned()
                                };
                                let mut cost: Vec<String> = c
                                    .costs
                                    .iter()
                                    .map(|(currency, amount)| format_money(*amount, currency))
                                    .collect();
                                if c.unpriced_gpu_hours > 0.0 {
                                    cost.push(
                                        format!(
                                            "{:.1} GPU-hours without a price",
                                            c.unpriced_gpu_hours,
                                        ),
                                    );
                                }
                                view! {
                                    <tr>
                                        <td class="strong">{c.host}</td>
                                        <td>{c.gpu_model}</td>
                                        <td class="numeric">{format!("{:.1}", c.gpu_hours)}</td>
                                        <td class="numeric">{utilization}</td>
                                        <td class="numeric">{cost.join(" + ")}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Unassigned(
    deployments: Vec<DeploymentCost>,
    can_link: bool,
    link: ServerAction<LinkDeployment>,
    teams: TeamChoicesResource,
) -> impl IntoView {
    let error = action_error(link);
    view! {
        <section class="card">
            <h2>"Unassigned deployments"</h2>
            <p class="muted">
                "Agents reported these deployment keys, but no one has said which model version they run. "
                "Link each one so its cost lands on the model's card."
            </p>
            <FormAlert error=error />
            <ul class="link-list">
                {deployments
                    .into_iter()
                    .map(|deployment| {
                        let id = deployment.deployment_id.to_string();
                        let prefix = format!("link-{id}");
                        view! {
                            <li>
                                <div class="link-key">
                                    <code class="strong">{deployment.key.clone()}</code>
                                    <span class="muted small">
                                        {format!(
                                            "{} on {}",
                                            deployment.devices(),
                                            deployment.hosts.join(", "),
                                        )}
                                    </span>
                                </div>
                                {can_link
                                    .then(|| {
                                        view! {
                                            <ActionForm action=link attr:class="inline-form link-form">
                                                <input
                                                    type="hidden"
                                                    name="deployment_id"
                                                    value=id.clone()
                                                />
                                                <label
                                                    class="visually-hidden"
                                                    for=format!("{prefix}-model")
                                                >
                                                    {format!("Model of {}", deployment.key)}
                                                </label>
                                                <input
                                                    id=format!("{prefix}-model")
                                                    name="model_name"
                                                    placeholder="model, e.g. fraud-lgbm"
                                                />
                                                <label
                                                    class="visually-hidden"
                                                    for=format!("{prefix}-version")
                                                >
                                                    {format!("Version of {}", deployment.key)}
                                                </label>
                                                <input
                                                    id=format!("{prefix}-version")
                                                    name="version"
                                                    placeholder="version, e.g. v3"
                                                    size="10"
                                                />
                                                <label class="visually-hidden" for=format!("{prefix}-team")>
                                                    "Owner team"
                                                </label>
                                                <select id=format!("{prefix}-team") name="team_id">
                                                    <option value="">"Owner team…"</option>
                                                    <Suspense fallback=|| ()>
                                                        {move || Suspend::new(async move {
                                                            teams
                                                                .await
                                                                .unwrap_or_default()
                                                                .teams
                                                                .into_iter()
                                                                .map(|(id, name)| {
                                                                    view! { <option value=id.to_string()>{name}</option> }
                                                                })
                                                                .collect_view()
                                                        })}
                                                    </Suspense>
                                                </select>
                                                <button type="submit" class="button small primary">
                                                    "Link"
                                                </button>
                                            </ActionForm>
                                        }
                                    })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <FieldMessage
                id="link-model-error"
                message=Signal::derive(move || {
                    error
                        .get()
                        .and_then(|e| {
                            e.field_message("model_name").or_else(|| e.field_message("version"))
                        })
                })
            />
        </section>
    }
}

fn costs_cell(
    deployment: &DeploymentCost,
    pick: fn(&super::CurrencyCost) -> Option<String>,
) -> String {
    let parts: Vec<String> = deployment.costs.iter().filter_map(pick).collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" + ")
    }
}

#[component]
fn DeploymentTable(deployments: Vec<DeploymentCost>, days: u32) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{format!("Deployments, last {}", range_label(days))}</h2>
            <details class="method">
                <summary>"How these figures are computed"</summary>
                <p>
                    "Cost = GPU-hours × the price in force for the GPU model and the deployment's pricing kind, "
                    "plus energy (kWh × price) for on-prem GPUs. " <strong>"Reserved"</strong>
                    " counts every GPU-hour the deployment holds; "
                    <strong>"utilization-weighted"</strong>
                    " only the share its work used (GPU-hours × mean utilization). "
                    "Per 1,000 requests = cost ÷ requests × 1,000. Idle = GPU-hours below 10% utilization. "
                    "For language models, the cost is split between input and output tokens by the GPU time each takes: an output token weighs 4 input tokens, and input read from the prefix cache takes no share. "
                    "Figures come from hourly rollups of the agents' samples; amounts in different currencies are never added."
                </p>
            </details>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Deployment"</th>
                            <th scope="col" class="numeric">
                                "Requests"
                            </th>
                            <th scope="col" class="numeric">
                                "GPU-hours"
                            </th>
                            <th scope="col" class="numeric">
                                "Utilization"
                            </th>
                            <th scope="col" class="numeric">
                                "Cost"
                                <span class="th-note">"reserved / weighted"</span>
                            </th>
                            <th scope="col" class="numeric">
                                "Per 1k requests"
                                <span class="th-note">"reserved / weighted"</span>
                            </th>
                            <th scope="col" class="numeric">
                                "Idle cost"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {deployments
                            .into_iter()
                            .map(|d| {
                                let reserved = costs_cell(
                                    &d,
                                    |c| Some(format_money(c.cost.reserved, &c.currency)),
                                );
                                let weighted = costs_cell(
                                    &d,
                                    |c| Some(format_money(c.cost.utilization_weighted, &c.currency)),
                                );
                                let per_thousand = costs_cell(
                                    &d,
                                    |c| {
                                        c.per_thousand_reserved
                                            .map(|v| format_money(v, &c.currency))
                                    },
                                );
                                let per_thousand_weighted = costs_cell(
                                    &d,
                                    |c| {
                                        c.per_thousand_utilization_weighted
                                            .map(|v| format_money(v, &c.currency))
                                    },
                                );
                                let idle = costs_cell(
                                    &d,
                                    |c| Some(format_money(c.cost.idle, &c.currency)),
                                );
                                let per_million_output = (!d.tokens.is_empty())
                                    .then(|| costs_cell(
                                        &d,
                                        |c| {
                                            c.per_million_tokens_reserved
                                                .and_then(|t| t.output)
                                                .map(|v| {
                                                    format!("{} / 1M out tokens", format_money(v, &c.currency))
                                                })
                                        },
                                    ));
                                let tokens = (!d.tokens.is_empty())
                                    .then(|| {
                                        format!(
                                            "{} in / {} out tokens",
                                            format_short_count(d.tokens.input),
                                            format_short_count(d.tokens.output),
                                        )
                                    });
                                let utilization = d
                                    .usage
                                    .mean_utilization_pct()
                                    .map_or("—".to_owned(), |u| format!("{u:.0}%"));
                                view! {
                                    <tr>
                                        <td>
                                            <a href=format!(
                                                "{}?days={days}",
                                                crate::format::deployment_href(&d.key),
                                            )>
                                                <code class="strong">{d.key.clone()}</code>
                                            </a>
                                            {d
                                                .stale
                                                .then(|| {
                                                    view! {
                                                        " "
                                                        <span
                                                            class="badge badge-warning"
                                                            title="no report for over 5 minutes"
                                                        >
                                                            "stale"
                                                        </span>
                                                    }
                                                })}
                                            <div class="small">
                                                {match d.model.clone() {
                                                    Some(model) => {
                                                        view! { <span class="muted">{model}</span> }.into_any()
                                                    }
                                                    None => {
                                                        view! {
                                                            <span class="badge badge-warning">"unassigned"</span>
                                                        }
                                                            .into_any()
                                                    }
                                                }}
                                                <span class="muted">
                                                    {format!(
                                                        " · {} · {}",
                                                        d.pricing_kind.label(),
                                                        d.devices(),
                                                    )}
                                                </span>
                                            </div>
                                            {(d.unpriced_gpu_hours > 0.0)
                                                .then(|| {
                                                    view! {
                                                        <div class="small warning-text">
                                                            {format!(
                                                                "{:.1} {} have no price",
                                                                d.unpriced_gpu_hours,
                                                                d.hours_unit(),
                                                            )}
                                                        </div>
                                                    }
                                                })}
                                        </td>
                                        <td class="numeric">
                                            <div>{format_count(d.usage.requests)}</div>
                                            {tokens
                                                .map(|t| view! { <div class="muted small">{t}</div> })}
                                        </td>
                                        <td class="numeric">
                                            {format!("{:.1}", d.usage.gpu_hours())}
                                        </td>
                                        <td class="numeric">{utilization}</td>
                                        <td class="numeric">
                                            <div>{reserved}</div>
                                            <div class="muted small">{weighted}</div>
                                        </td>
                                        <td class="numeric">
                                            <div>{per_thousand}</div>
                                            <div class="muted small">{per_thousand_weighted}</div>
                                            {per_million_output
                                                .map(|t| view! { <div class="muted small">{t}</div> })}
                                        </td>
                                        <td class="numeric">{idle}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Devices with what each serves (its deployment and pod), how busy it is and what it costs a
/// day: the fleet's whole list, or one deployment's.
#[component]
pub(super) fn GpuTable(gpus: Vec<Gpu>, title: &'static str) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{title}</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Host"</th>
                            <th scope="col">"GPU"</th>
                            <th scope="col">"Deployment"</th>
                            <th scope="col" class="numeric">
                                "Utilization"
                            </th>
                            <th scope="col" class="numeric">
                                "Power"
                            </th>
                            <th scope="col" class="numeric">
                                "Per day"
                            </th>
                            <th scope="col">"Last seen"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {gpus
                            .into_iter()
                            .map(|gpu| {
                                let status = if gpu.stale {
                                    view! { <span class="badge badge-warning">"stale"</span> }
                                        .into_any()
                                } else if gpu.idle {
                                    view! { <span class="badge badge-muted">"idle"</span> }
                                        .into_any()
                                } else {
                                    view! { <span class="badge badge-ok">"busy"</span> }.into_any()
                                };
                                view! {
                                    <tr>
                                        <td class="strong">{gpu.host.clone()}</td>
                                        <td>
                                            {gpu.describe()} <div class="muted small">
                                                <code>{gpu.gpu_uuid.clone()}</code>
                                            </div>
                                        </td>
                                        <td>
                                            <DeviceUse gpu=gpu.clone() />
                                        </td>
                                        <td class="numeric">
                                            {format!("{:.0}%", gpu.utilization_pct)}
                                        </td>
                                        <td class="numeric">
                                            {format!("{:.0} W", gpu.power_watts)}
                                        </td>
                                        <td class="numeric">
                                            {gpu
                                                .cost_per_day
                                                .clone()
                                                .map_or_else(
                                                    || "—".to_owned(),
                                                    |(amount, currency)| format_money(amount, &currency),
                                                )}
                                        </td>
                                        <td>
                                            <Time time=gpu.last_seen_at />
                                            " "
                                            {status}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// What a device serves: its deployment and pod, or that it is its host's idle capacity.
#[component]
pub(super) fn DeviceUse(gpu: Gpu) -> impl IntoView {
    let pod = gpu
        .pod
        .map(|pod| view! { <div class="muted small">{format!("pod {pod}")}</div> });
    match gpu.deployment {
        Some(key) => view! {
            <code>{key}</code>
            {pod}
        }
        .into_any(),
        None => view! {
            <span class="badge badge-muted" title="No deployment uses this GPU">
                "idle capacity"
            </span>
            {pod}
        }
        .into_any(),
    }
}
