//! The reconciliation page: billed against estimated per deployment and month.

use leptos::prelude::*;

use super::reconcile::Reconciled;
use super::BillsHeader;
use crate::components::Loaded;
use crate::format::format_money;

#[component]
pub fn ReconcilePage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| super::reconcile_bills());
    // Made here, outside any suspense, like every page's resources.
    view! {
        <BillsHeader
            title="Reconciliation"
            lead="Per deployment and month: what the bills allocated to it (billed) against what its telemetry, priced by the GPU price catalog, says it cost (estimated, every GPU-hour held). The biggest gaps first."
        />
        <Loaded resource=rows children=move |rows| view! { <ReconcileTable rows=rows /> } />
    }
}

#[component]
fn ReconcileTable(rows: Vec<Reconciled>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <section class="card empty">
                <h2>"Nothing to reconcile yet"</h2>
                <p class="muted">
                    "Reconciliation needs bills allocated to deployments (see Allocation rules) or telemetry from agents, over the last three months."
                </p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="card">
            <div class="table-wrap">
                <table class="table" data-testid="reconciliation">
                    <thead>
                        <tr>
                            <th scope="col">"Deployment"</th>
                            <th scope="col">"Month"</th>
                            <th scope="col" class="numeric">
                                "Billed, month"
                            </th>
                            <th scope="col" class="numeric">
                                "Billed, telemetry days"
                            </th>
                            <th scope="col" class="numeric">
                                "Estimated"
                            </th>
                            <th scope="col" class="numeric">
                                "Variance"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|row| {
                                let money = |
                                    v: Option<rust_decimal::Decimal>,
                                    missing: &'static str|
                                {
                                    v.map_or_else(
                                        || missing.to_owned(),
                                        |v| format_money(v, &row.currency),
                                    )
                                };
                                let variance = row
                                    .variance()
                                    .map_or_else(
                                        || "—".to_owned(),
                                        |v| format_money(v, &row.currency),
                                    );
                                let percent = row
                                    .variance_pct()
                                    .map(|pct| {
                                        format!(
                                            "{}{pct}%",
                                            if pct.is_sign_positive() { "+" } else { "" },
                                        )
                                    });
                                let class = match row.variance_pct() {
                                    Some(p) if p.abs() >= rust_decimal::Decimal::from(10) => {
                                        "numeric nowrap strong warning-text"
                                    }
                                    _ => "numeric nowrap",
                                };
                                let context = [row.model.clone(), row.team.clone()]
                                    .into_iter()
                                    .flatten()
                                    .collect::<Vec<_>>()
                                    .join(" · ");
                                let coverage = if row.telemetry_days > 0 {
                                    format!("telemetry on {} days", row.telemetry_days)
                                } else {
                                    "no telemetry".to_owned()
                                };
                                view! {
                                    <tr>
                                        <td class="strong">
                                            <a href=crate::format::deployment_href(
                                                &row.deployment,
                                            )>{row.deployment.clone()}</a>
                                            <span class="block muted small">{context}</span>
                                        </td>
                                        <td class="nowrap">
                                            {row.month.clone()}
                                            <span class="block muted small">{coverage}</span>
                                        </td>
                                        <td class="numeric nowrap">
                                            {money(row.billed, "not billed")}
                                        </td>
                                        <td class="numeric nowrap">
                                            {money(row.billed_covered, "—")}
                                        </td>
                                        <td class="numeric nowrap">
                                            {money(row.estimated, "no telemetry")}
                                        </td>
                                        <td class=class>
                                            {variance}
                                            {percent
                                                .map(|p| view! { <span class="block small">{p}</span> })}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small">
                "The variance compares what was billed on the days the deployment sent telemetry with the estimate for those days; the rest of a month's bill has nothing to be compared with."
            </p>
        </section>
    }
    .into_any()
}
