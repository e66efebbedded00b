//! The overview: where the money goes this month and what needs a decision — spend against
//! budget, top movers, drifting deployments, idle GPU waste, pending approvals, and the savings the
//! experiments' recommendations still leave on the table.

#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use leptos_meta::Title;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::alerts::BudgetView;
use crate::audit::AuditEvent;
#[cfg(feature = "ssr")]
use crate::auth::Role;
use crate::components::{Loaded, PageHeader, Time, WithUser};
use crate::drift::page::state_badge;
use crate::drift::DriftRow;
use crate::error::AppError;
use crate::format::{format_money, format_money_or_dash};
use crate::reviews::PromotionRequest;

#[cfg(feature = "ssr")]
use crate::auth::guard;

/// Deployments' idle GPU time over the last 30 days, priced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleWaste {
    pub key: String,
    pub currency: String,
    pub cost: Decimal,
    /// Share of its GPU time that was idle, in percent.
    pub idle_pct: f64,
}

/// What an open experiment's recommendation would save a month against its most accurate
/// candidate that also meets the SLA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saving {
    pub experiment_id: uuid::Uuid,
    pub experiment: String,
    pub recommended: String,
    pub instead_of: String,
    pub currency: String,
    pub monthly: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub month: String,
    pub budgets: Vec<BudgetView>,
    /// Deployments by how much their cost per 1,000 moved, this week against last.
    pub movers: Vec<DriftRow>,
    pub drifting: Vec<DriftRow>,
    pub idle: Vec<IdleWaste>,
    pub pending: Vec<PromotionRequest>,
    pub savings: Vec<Saving>,
    pub recent: Vec<AuditEvent>,
}

/// How many rows each panel lists.
pub const PANEL_ROWS: usize = 5;

#[server]
pub async fn load_dashboard() -> Result<Dashboard, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::dashboard(&guard::state()?.pool, crate::clock::now()).await?)
    })
    .await
}

/// Sums per currency, largest first.
pub fn by_currency<'a>(
    amounts: impl Iterator<Item = (&'a str, Decimal)>,
) -> Vec<(String, Decimal)> {
    let mut sums: Vec<(String, Decimal)> = Vec::new();
    for (currency, amount) in amounts {
        match sums.iter_mut().find(|(c, _)| c == currency) {
            Some(slot) => slot.1 += amount,
            None => sums.push((currency.to_owned(), amount)),
        }
    }
    sums.sort_by_key(|s| std::cmp::Reverse(s.1));
    sums
}

fn join_money(sums: &[(String, Decimal)]) -> String {
    if sums.is_empty() {
        return "—".into();
    }
    sums.iter()
        .map(|(c, a)| format_money(a.round_dp(2), c))
        .collect::<Vec<_>>()
        .join(" + ")
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_dashboard());
    view! {
        <Title text="Overview · Pareto"/>
        <WithUser children=|user| view! {
            <PageHeader
                title=format!("Welcome, {}", user.display_name)
                lead="Where the money goes this month, and what needs a decision."
            />
        }/>
        <Loaded resource=data children=|data| view! { <DashboardView data=data/> }/>
    }
}

#[component]
fn Panel(
    #[prop(into)] title: String,
    #[prop(into)] href: String,
    #[prop(into)] link: String,
    children: Children,
) -> impl IntoView {
    let id = format!("panel-{}", title.to_lowercase().replace(' ', "-"));
    view! {
        <section class="card panel" aria-labelledby=id.clone()>
            <div class="card-head">
                <h2 id=id.clone()>{title}</h2>
                <a class="small" href=href>{link}</a>
            </div>
            {children()}
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
                <span class="stat-value" data-testid="spend-this-month">{join_money(&spent)}</span>
                <span class="stat-label">{format!("billed to teams in {} · budgets {}", data.month, join_money(&budgeted))}</span>
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
            <Panel title="Spend against budget" href="/alerts" link="Alerts">
                {if data.budgets.is_empty() {
                    view! { <p class="muted">"No budgets yet. Leads set them on the Alerts page."</p> }.into_any()
                } else {
                    view! {
                        <ul class="budget-list">
                            {data.budgets.iter().take(6).map(|b| {
                                let pct = b.spent_pct();
                                let over = b.forecast > b.monthly_amount;
                                view! {
                                    <li>
                                        <div class="budget-line">
                                            <span class="strong">{b.target.clone()}</span>
                                            <span class="muted small">{format!("{} of {}", format_money(b.spent.round_dp(2), &b.currency), format_money(b.monthly_amount, &b.currency))}</span>
                                        </div>
                                        <div class="meter" class:meter-over=over role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{pct:.0}") aria-label=format!("{} at {pct:.0}% of its budget", b.target)>
                                            <span style=format!("width: {:.1}%", pct.min(100.0))></span>
                                        </div>
                                        {over.then(|| view! { <span class="small up">{format!("forecast {}", format_money(b.forecast.round_dp(0), &b.currency))}</span> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
            <Panel title="Drifting deployments" href="/drift" link="Drift">
                {if data.drifting.is_empty() {
                    view! { <p class="muted">"No deployment is past a drift threshold."</p> }.into_any()
                } else {
                    view! {
                        <ul class="row-list">
                            {data.drifting.iter().take(PANEL_ROWS).map(|r| view! {
                                <li>
                                    <div>
                                        <a class="strong" href=format!("/drift/{}", r.deployment_id)>{r.key.clone()}</a>
                                        <div class="muted small">{r.findings.first().map(|f| f.text.clone())}</div>
                                    </div>
                                    <div class="row-end">
                                        {state_badge(r.state)}
                                        <span class="small">{format!("{} a month", format_money_or_dash(r.monthly, r.currency.as_deref().unwrap_or("")))}</span>
                                    </div>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
            <Panel title="Top movers" href="/drift" link="Drift">
                {if data.movers.is_empty() {
                    view! { <p class="muted">"Not enough priced telemetry to compare this week with last."</p> }.into_any()
                } else {
                    view! {
                        <ul class="row-list">
                            {data.movers.iter().take(PANEL_ROWS).map(|r| {
                                let pct = r.per_1k_change_pct.unwrap_or_default();
                                let (rising, falling) = (pct >= 0.5, pct <= -0.5);
                                let currency = r.currency.clone().unwrap_or_default();
                                view! {
                                    <li>
                                        <div>
                                            <a class="strong" href=format!("/drift/{}", r.deployment_id)>{r.key.clone()}</a>
                                            <div class="muted small">{format!("{} per 1,000 requests", format_money_or_dash(r.per_1k, &currency))}</div>
                                        </div>
                                        <span class="row-end strong" class:up=rising class:down=falling>{crate::drift::page::change(Some(pct))}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
            <Panel title="Idle GPU waste" href="/fleet" link="Fleet">
                {if data.idle.is_empty() {
                    view! { <p class="muted">"No idle GPU time in the last 30 days."</p> }.into_any()
                } else {
                    view! {
                        <ul class="row-list">
                            {data.idle.iter().take(PANEL_ROWS).map(|i| view! {
                                <li>
                                    <div>
                                        <a class="strong" href=format!("/deployments/{}", crate::format::url_encode(&i.key))>{i.key.clone()}</a>
                                        <div class="muted small">{format!("{:.0}% of its GPU time idle", i.idle_pct)}</div>
                                    </div>
                                    <span class="row-end">{format_money(i.cost.round_dp(2), &i.currency)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
            <Panel title="Pending approvals" href="/reviews" link="Reviews">
                {if data.pending.is_empty() {
                    view! { <p class="muted">"Nothing waits for a lead."</p> }.into_any()
                } else {
                    view! {
                        <ul class="row-list">
                            {data.pending.iter().take(PANEL_ROWS).map(|p| view! {
                                <li>
                                    <div>
                                        <a class="strong" href=format!("/cards/{}", p.model_version_id)>{format!("{} {}", p.model, p.version)}</a>
                                        <div class="muted small">{format!("asked by {}", p.requested_by)}</div>
                                    </div>
                                    <span class="row-end small">{format!("{} of {} approvals", p.approvals(), p.approvals_required)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
            <Panel title="Savings on the table" href="/experiments" link="Experiments">
                {if data.savings.is_empty() {
                    view! { <p class="muted">"No open experiment recommends a cheaper model than its most accurate one."</p> }.into_any()
                } else {
                    view! {
                        <ul class="row-list">
                            {data.savings.iter().take(PANEL_ROWS).map(|s| view! {
                                <li>
                                    <div>
                                        <a class="strong" href=format!("/experiments/{}", s.experiment_id)>{s.experiment.clone()}</a>
                                        <div class="muted small">{format!("{} instead of {}", s.recommended, s.instead_of)}</div>
                                    </div>
                                    <span class="row-end strong down">{format!("{} a month", format_money(s.monthly.round_dp(0), &s.currency))}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Panel>
        </div>
        <section class="card">
            <h2>"Recent activity"</h2>
            {if data.recent.is_empty() {
                view! { <p class="muted">"Nothing has changed yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="activity">
                        {data.recent.into_iter().map(|event| view! {
                            <li>
                                <span class="activity-what">
                                    <span class="strong">{event.actor}</span> " " {event.summary}
                                </span>
                                <span class="muted small"><Time time=event.created_at/></span>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_keep_currencies_apart_largest_first() {
        let sums = by_currency(
            [
                ("USD", Decimal::from(5)),
                ("EUR", Decimal::from(20)),
                ("USD", Decimal::from(7)),
            ]
            .into_iter(),
        );
        assert_eq!(
            sums,
            vec![
                ("EUR".into(), Decimal::from(20)),
                ("USD".into(), Decimal::from(12))
            ]
        );
        assert_eq!(join_money(&[]), "—");
    }
}
