//! The overview page: this month's spend against budgets, drift, idle GPUs, pending approvals,
//! savings and recent activity, each panel linking to the page that owns it.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{by_currency, join_money, load_dashboard, Dashboard, PANEL_ROWS};
use crate::components::{DriftBadge, Loaded, PageHeader, Time, WithUser};
use crate::drift::DriftRow;
use crate::format::{format_money, format_money_or_dash};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_dashboard());
    view! {
        <Title text="Overview · Pareto" />
        <WithUser children=|user| {
            view! {
                <PageHeader
                    title=format!("Welcome, {}", user.display_name)
                    lead="Where the money goes this month, and what needs a decision."
                />
            }
        } />
        <Loaded resource=data children=|data| view! { <DashboardView data=data /> } />
    }
}

/// The fleet's largest savings, as the Advice page lists them. Fetched by the browser once the page
/// is live: the advice replays 30 days of every deployment, longer than the rest of the overview
/// takes, and the page is not held for it.
#[component]
fn FleetAdvice() -> impl IntoView {
    let advice = LocalResource::new(crate::advice::load_advice);
    move || {
        let (rows, empty) = match advice.get() {
            None => (Vec::new(), "Working out the advice…"),
            Some(Err(_)) => (
                Vec::new(),
                "The advice could not be worked out; see the Advice page.",
            ),
            Some(Ok(list)) => (
                list.advice
                    .into_iter()
                    .take(PANEL_ROWS)
                    .map(|a| {
                        view! {
                            <PanelRow
                                href=crate::format::deployment_href(&a.deployment)
                                name=a.deployment.clone()
                                detail=a.action.clone()
                            >
                                <span class="row-end strong down">
                                    {format!(
                                        "{} a month",
                                        format_money(a.saving_per_month.round_dp(0), &a.currency),
                                    )}
                                </span>
                            </PanelRow>
                        }
                    })
                    .collect::<Vec<_>>(),
                "No deployment holds more than its traffic needs.",
            ),
        };
        view! {
            <Panel
                title="Advice for the fleet"
                href="/advice"
                link="Advice"
                empty=empty
                rows=rows
                wide=true
            />
        }
    }
}

/// A panel of the overview: its title and link, then its rows, or a line saying there are none.
#[component]
fn Panel<V>(
    #[prop(into)] title: String,
    #[prop(into)] href: String,
    #[prop(into)] link: String,
    /// Said when there are no rows.
    empty: &'static str,
    #[prop(default = "row-list")] list_class: &'static str,
    rows: Vec<V>,
    /// A whole row wide.
    #[prop(optional)]
    wide: bool,
) -> impl IntoView
where
    V: IntoView + 'static,
{
    let id = format!("panel-{}", title.to_lowercase().replace(' ', "-"));
    let body = if rows.is_empty() {
        view! { <p class="muted">{empty}</p> }.into_any()
    } else {
        view! { <ul class=list_class>{rows}</ul> }.into_any()
    };
    view! {
        <section
            class=if wide { "card panel panel-wide" } else { "card panel" }
            aria-labelledby=id.clone()
        >
            <div class="card-head">
                <h2 id=id.clone()>{title}</h2>
                <a class="small" href=href>
                    {link}
                </a>
            </div>
            {body}
        </section>
    }
}

#[component]
fn DashboardView(data: Dashboard) -> impl IntoView {
    let spent = by_currency(
        data.budgets
            .iter()
            .filter(|b| b.scope == crate::alerts::BudgetScope::Team)
            .map(|b| (b.currency.as_str(), b.spent)),
    );
    let budgeted = by_currency(
        data.budgets
            .iter()
            .filter(|b| b.scope == crate::alerts::BudgetScope::Team)
            .map(|b| (b.currency.as_str(), b.monthly_amount)),
    );
    let is_drifting = |r: &&DriftRow| r.state == crate::drift::DriftState::Drifting;
    let drifting_monthly = by_currency(
        data.drifting
            .iter()
            .filter(is_drifting)
            .filter_map(|r| Some((r.currency.as_deref()?, r.monthly?))),
    );
    let idle = by_currency(data.idle.iter().map(|i| (i.currency.as_str(), i.cost)));
    let savings = by_currency(
        data.savings
            .iter()
            .map(|s| (s.currency.as_str(), s.monthly)),
    );
    let drifting_count = data.drifting.iter().filter(is_drifting).count();
    let warning_count = data.drifting.len() - drifting_count;
    let drifting_label = format!(
        "{} · {} a month{}",
        if drifting_count == 1 {
            "deployment drifting"
        } else {
            "deployments drifting"
        },
        join_money(&drifting_monthly),
        match warning_count {
            0 => String::new(),
            1 => " · 1 more near its threshold".into(),
            n => format!(" · {n} more near their thresholds"),
        }
    );
    view! {
        <div class="stats dashboard-stats">
            <a class="stat card" href="/alerts">
                <span class="stat-value" data-testid="spend-this-month">
                    {join_money(&spent)}
                </span>
                <span class="stat-label">
                    {format!(
                        "billed to teams in {} · budgets {}",
                        data.month,
                        join_money(&budgeted),
                    )}
                </span>
            </a>
            <a class="stat card" href="/drift">
                <span class="stat-value">{drifting_count}</span>
                <span class="stat-label">{drifting_label}</span>
            </a>
            <a class="stat card" href="/fleet">
                <span class="stat-value">{join_money(&idle)}</span>
                <span class="stat-label">"idle GPU time, last 30 days"</span>
            </a>
            <a class="stat card" href="/experiments">
                <span class="stat-value">{join_money(&savings)}</span>
                <span class="stat-label">"a month still to save from recommendations"</span>
            </a>
        </div>
        <div class="dashboard-grid">
            <Panel
                title="Spend against budget"
                href="/alerts"
                link="Alerts"
                empty="No budgets yet. Leads set them on the Alerts page."
                list_class="budget-list"
                rows={data
                    .budgets
                    .iter()
                    .take(6)
                    .map(|b| {
                        let pct = b.spent_pct();
                        let over = b.forecast > b.monthly_amount;
                        view! {
                            <li>
                                <div class="budget-line">
                                    <span class="strong">{b.target.clone()}</span>
                                    <span class="muted small">
                                        {format!(
                                            "{} of {}",
                                            format_money(b.spent.round_dp(2), &b.currency),
                                            format_money(b.monthly_amount, &b.currency),
                                        )}
                                    </span>
                                </div>
                                <div
                                    class="meter"
                                    class:meter-over=over
                                    role="meter"
                                    aria-valuemin="0"
                                    aria-valuemax="100"
                                    aria-valuenow=format!("{pct:.0}")
                                    aria-label=format!("{} at {pct:.0}% of its budget", b.target)
                                >
                                    <span style=format!("width: {:.1}%", pct.min(100.0))></span>
                                </div>
                                {over
                                    .then(|| {
                                        view! {
                                            <span class="small up">
                                                {format!(
                                                    "forecast {}",
                                                    format_money(b.forecast.round_dp(0), &b.currency),
                                                )}
                                            </span>
                                        }
                                    })}
                            </li>
                        }
                    })
                    .collect::<Vec<_>>()}
            />
            <Panel
                title="Drifting deployments"
                href="/drift"
                link="Drift"
                empty="No deployment is past a drift threshold."
                rows={data
                    .drifting
                    .iter()
                    .take(PANEL_ROWS)
                    .cloned()
                    .map(|r| {
                        view! {
                            <PanelRow
                                href=crate::format::drift_href(&r.key)
                                name=r.key.clone()
                                detail=r.findings.first().map(|f| f.text.clone())
                            >
                                <div class="row-end">
                                    <DriftBadge state=r.state />
                                    <span class="small">
                                        {format!(
                                            "{} a month",
                                            format_money_or_dash(
                                                r.monthly,
                                                r.currency.as_deref().unwrap_or(""),
                                            ),
                                        )}
                                    </span>
                                </div>
                            </PanelRow>
                        }
                    })
                    .collect::<Vec<_>>()}
            />
            <Panel
                title="Top movers"
                href="/drift"
                link="Drift"
                empty="Not enough priced telemetry to compare this week with last."
                rows={data
                    .movers
                    .iter()
                    .take(PANEL_ROWS)
                    .map(|r| {
                        let pct = r.per_1k_change_pct.unwrap_or_default();
                        let (rising, falling) = (pct >= 0.5, pct <= -0.5);
                        let currency = r.currency.clone().unwrap_or_default();
                        view! {
                            <PanelRow
                                href=crate::format::drift_href(&r.key)
                                name=r.key.clone()
                                detail=format!(
                                    "{} per 1,000 requests",
                                    format_money_or_dash(r.per_1k, &currency),
                                )
                            >
                                <span class="row-end strong" class:up=rising class:down=falling>
                                    {crate::drift::page::change(Some(pct))}
                                </span>
                            </PanelRow>
                        }
                    })
                    .collect::<Vec<_>>()}
            />
            <Panel
                title="Idle GPU waste"
                href="/fleet"
                link="Fleet"
                empty="No idle GPU time in the last 30 days."
                rows={data
                    .idle
                    .iter()
                    .take(PANEL_ROWS)
                    .cloned()
                    .map(|i| {
                        view! {
                            <PanelRow
                                href=crate::format::deployment_href(&i.key)
                                name=i.key.clone()
                                detail=format!("{:.0}% of its GPU time idle", i.idle_pct)
                            >
                                <span class="row-end">
                                    {format_money(i.cost.round_dp(2), &i.currency)}
                                </span>
                            </PanelRow>
                        }
                    })
                    .collect::<Vec<_>>()}
            />
            <Panel
                title="Pending approvals"
                href="/reviews"
                link="Reviews"
                empty="Nothing waits for a lead."
                rows={data
                    .pending
                    .iter()
                    .take(PANEL_ROWS)
                    .cloned()
                    .map(|p| {
                        view! {
                            <PanelRow
                                href=format!("/cards/{}", p.model_version_id)
                                name=format!("{} {}", p.model, p.version)
                                detail=format!("asked by {}", p.requested_by)
                            >
                                <span class="row-end small">
                                    {format!(
                                        "{} of {} approvals",
                                        p.approvals(),
                                        p.approvals_required,
                                    )}
                                </span>
                            </PanelRow>
                        }
                    })
                    .collect::<Vec<_>>()}
            />
            <Panel
                title="Savings on the table"
                href="/experiments"
                link="Experiments"
                empty="No open experiment recommends a cheaper model than its most accurate one."
                rows={data
                    .savings
                    .iter()
                    .take(PANEL_ROWS)
                    .cloned()
                    .map(|s| {
                        view! {
                            <PanelRow
                                href=format!("/experiments/{}", s.experiment_id)
                                name=s.experiment.clone()
                                detail=format!("{} instead of {}", s.recommended, s.instead_of)
                            >
                                <span class="row-end strong down">
                                    {format!(
                                        "{} a month",
                                        format_money(s.monthly.round_dp(0), &s.currency),
                                    )}
                                </span>
                            </PanelRow>
                        }
                    })
                    .collect::<Vec<_>>()}
            />
            <FleetAdvice />
        </div>
        <section class="card">
            <h2>"Recent activity"</h2>
            {if data.recent.is_empty() {
                view! { <p class="muted">"Nothing has changed yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="activity">
                        {data
                            .recent
                            .into_iter()
                            .map(|event| {
                                view! {
                                    <li>
                                        <span class="activity-what">
                                            <span class="strong">{event.actor}</span>
                                            " "
                                            {event.summary}
                                        </span>
                                        <span class="muted small">
                                            <Time time=event.created_at />
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </section>
    }
}

/// One row of a panel: what it is about, linked to its page, a line of detail, and its figure
/// (`children`, which carry their own `row-end` class).
#[component]
fn PanelRow(
    #[prop(into)] href: String,
    #[prop(into)] name: String,
    #[prop(into)] detail: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <li>
            <div>
                <a class="strong" href=href>
                    {name}
                </a>
                <div class="muted small">{detail}</div>
            </div>
            {children()}
        </li>
    }
}
