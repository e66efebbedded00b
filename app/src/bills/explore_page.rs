//! The cost explorer: allocated bill amounts by month, grouped and filtered, with a stacked bar
//! chart per currency drawn on the server.

use leptos::prelude::*;

use super::explore::{ExploreQuery, Explorer, GROUPINGS};
use super::BillsHeader;
use crate::components::{Choice, Loaded};
use crate::format::format_money;

#[component]
pub fn ExplorerPage() -> impl IntoView {
    let query = RwSignal::new(ExploreQuery::default());
    let explorer = Resource::new(move || query.get(), super::explore_bills);
    view! {
        <BillsHeader
            title="Cost explorer"
            lead="What the bills say each team, model and service cost, month by month: current imports only, allocated by the rules, one table per currency."
        />
        <Loaded
            resource=explorer
            children=move |explorer| view! { <ExplorerView explorer=explorer query=query /> }
        />
    }
}

fn any(list: &[String], label: &str) -> Vec<(String, String)> {
    std::iter::once((String::new(), label.to_owned()))
        .chain(list.iter().map(|v| (v.clone(), v.clone())))
        .collect()
}

#[component]
fn ExplorerView(explorer: Explorer, query: RwSignal<ExploreQuery>) -> impl IntoView {
    let current = explorer.query.clone();
    let update = move |change: fn(&mut ExploreQuery, String)| {
        let base = current.clone();
        move |value: String| {
            let mut next = base.clone();
            change(&mut next, value);
            query.set(next);
        }
    };
    let months: Vec<(String, String)> = explorer
        .available_months
        .iter()
        .map(|m| (m.clone(), m.clone()))
        .collect();
    let group = explorer.query.grouping().to_owned();
    let by_tag = group == "tag";
    let chart_query = explorer.query.to_query_string();
    let month_count = explorer.months.len();
    view! {
        <section class="card">
            <div class="filters" role="search" aria-label="Filter the ledger">
                <Choice
                    id="explore-group"
                    label="Group by"
                    options=GROUPINGS
                        .iter()
                        .map(|(k, l)| ((*k).to_owned(), (*l).to_owned()))
                        .collect()
                    value=group.clone()
                    set=update(|q, v| q.group = v)
                />
                {by_tag
                    .then(|| {
                        view! {
                            <Choice
                                id="explore-tag"
                                label="Tag key"
                                options=any(&explorer.tag_keys, "Choose a key")
                                value=explorer.query.tag.clone()
                                set=update(|q, v| q.tag = v)
                            />
                        }
                    })}
                <Choice
                    id="explore-from"
                    label="From"
                    options=months.clone()
                    value=explorer.query.from.clone()
                    set=update(|q, v| q.from = v)
                />
                <Choice
                    id="explore-to"
                    label="To"
                    options=months
                    value=explorer.query.to.clone()
                    set=update(|q, v| q.to = v)
                />
                <Choice
                    id="explore-team"
                    label="Team"
                    options=any(&explorer.teams, "Any")
                    value=explorer.query.team.clone()
                    set=update(|q, v| q.team = v)
                />
                <Choice
                    id="explore-service"
                    label="Service"
                    options=any(&explorer.services, "Any")
                    value=explorer.query.service.clone()
                    set=update(|q, v| q.service = v)
                />
                <Choice
                    id="explore-provider"
                    label="Provider"
                    options=any(&explorer.providers, "Any")
                    value=explorer.query.provider.clone()
                    set=update(|q, v| q.provider = v)
                />
            </div>
        </section>
        {if explorer.blocks.is_empty() {
            view! {
                <section class="card empty">
                    <h2>"No charges in this range"</h2>
                    <p class="muted">
                        "Import a bill on the Imports page, or widen the range and the filters."
                    </p>
                </section>
            }
                .into_any()
        } else {
            explorer
                .blocks
                .into_iter()
                .map(|block| {
                    let base = format!(
                        "/charts/bills/spend.svg?{chart_query}&currency={}",
                        block.currency,
                    );
                    let description = format!(
                        "Stacked bars of billed cost in {} per month from {} to {}, by {}: {} in all.",
                        block.currency,
                        explorer.months.first().cloned().unwrap_or_default(),
                        explorer.months.last().cloned().unwrap_or_default(),
                        GROUPINGS
                            .iter()
                            .find(|(k, _)| *k == group)
                            .map_or("team", |(_, l)| l)
                            .to_lowercase(),
                        format_money(block.total, &block.currency),
                    );
                    let heading = format!("Billed in {}", block.currency);
                    let label = heading.clone();
                    view! {
                        <section class="card" aria-label=label>
                            <h2>{heading}</h2>
                            <figure class="chart">
                                <picture>
                                    <source
                                        media="(prefers-color-scheme: dark)"
                                        srcset=format!("{base}&theme=dark")
                                    />
                                    <img
                                        src=format!("{base}&theme=light")
                                        alt=description.clone()
                                        width="720"
                                        height="300"
                                    />
                                </picture>
                                <figcaption class="muted small">{description}</figcaption>
                            </figure>
                            <div class="table-wrap">
                                <table
                                    class="table"
                                    data-testid=format!("explorer-{}", block.currency)
                                >
                                    <thead>
                                        <tr>
                                            <th scope="col">
                                                {GROUPINGS
                                                    .iter()
                                                    .find(|(k, _)| *k == group)
                                                    .map_or("Team", |(_, l)| l)}
                                            </th>
                                            {explorer
                                                .months
                                                .iter()
                                                .map(|m| {
                                                    view! {
                                                        <th scope="col" class="numeric">
                                                            {m.clone()}
                                                        </th>
                                                    }
                                                })
                                                .collect_view()}
                                            {(month_count > 1)
                                                .then(|| {
                                                    view! {
                                                        <th scope="col" class="numeric">
                                                            "Total"
                                                        </th>
                                                    }
                                                })}
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {block
                                            .groups
                                            .iter()
                                            .map(|row| {
                                                view! {
                                                    <tr>
                                                        <th scope="row">{row.label.clone()}</th>
                                                        {row
                                                            .amounts
                                                            .iter()
                                                            .map(|a| {
                                                                view! {
                                                                    <td class="numeric nowrap">
                                                                        {format_money(*a, &block.currency)}
                                                                    </td>
                                                                }
                                                            })
                                                            .collect_view()}
                                                        {(month_count > 1)
                                                            .then(|| {
                                                                view! {
                                                                    <td class="numeric nowrap strong">
                                                                        {format_money(row.total, &block.currency)}
                                                                    </td>
                                                                }
                                                            })}
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                    <tfoot>
                                        <tr>
                                            <th scope="row">"Total"</th>
                                            {block
                                                .month_totals
                                                .iter()
                                                .map(|a| {
                                                    view! {
                                                        <td class="numeric nowrap strong">
                                                            {format_money(*a, &block.currency)}
                                                        </td>
                                                    }
                                                })
                                                .collect_view()}
                                            {(month_count > 1)
                                                .then(|| {
                                                    view! {
                                                        <td class="numeric nowrap strong">
                                                            {format_money(block.total, &block.currency)}
                                                        </td>
                                                    }
                                                })}
                                        </tr>
                                    </tfoot>
                                </table>
                            </div>
                        </section>
                    }
                })
                .collect_view()
                .into_any()
        }}
    }
}
