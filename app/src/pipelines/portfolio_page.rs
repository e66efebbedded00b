//! The budget portfolio page: a lead picks open experiments, the value of a point of each one's
//! metric and a monthly budget; Pareto picks one qualifying candidate per experiment for the most
//! value within it, beside each experiment's own recommendation. The choice lives in the address,
//! so a link shares it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::portfolio::{chosen_text, format_amount, Scenario};
use super::{DeletePortfolio, PortfolioView, SavePortfolio};
use crate::auth::Role;
use crate::components::{
    action_error, format_time, successes, ActionButton, Explain, FieldMessage, FormActions,
    FormAlert, Loaded, Notice, PageHeader, WithUser,
};
use crate::format::format_number;

#[component]
pub fn PortfolioPage() -> impl IntoView {
    let query = use_query_map();
    let budget = Memo::new(move |_| query.read().get("budget").unwrap_or_default());
    let chosen = Memo::new(move |_| {
        let query = query.read();
        query
            .get_all("e")
            .unwrap_or_default()
            .into_iter()
            .map(|id| {
                let value = query.get(&format!("v_{id}")).unwrap_or_default();
                format!(
                    "{id}:{}",
                    if value.trim().is_empty() {
                        "0"
                    } else {
                        value.trim()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(";")
    });
    let save = ServerAction::<SavePortfolio>::new();
    let delete = ServerAction::<DeletePortfolio>::new();
    let (saved, deleted) = (successes(save), successes(delete));
    let data = Resource::new(
        move || (budget.get(), chosen.get(), saved.get(), deleted.get()),
        |(budget, chosen, ..)| super::load_portfolio(budget, chosen),
    );
    view! {
        <Title text="Budget portfolio · Pareto" />
        <p class="breadcrumb">
            <a href="/pipelines">"Pipelines"</a>
        </p>
        <PageHeader
            title="Budget portfolio"
            lead="Choose across experiments, not just within one: one candidate that meets its SLA per experiment, picked together for the most value within a monthly budget, where a point of each one's metric is worth what you say. The address holds the choice: share it as a link."
        />
        <Loaded
            resource=data
            children=move |view: PortfolioView| {
                view! {
                    <Portfolio view=view.clone() budget=budget.get_untracked() save=save />
                    <Scenarios scenarios=view.scenarios delete=delete />
                }
            }
        />
    }
}

#[component]
fn Portfolio(
    view: PortfolioView,
    budget: String,
    save: ServerAction<SavePortfolio>,
) -> impl IntoView {
    let chosen = view.chosen.clone();
    let currency = view.currency.clone();
    view! {
        <section class="card">
            <h2>"The question"</h2>
            <form method="get" action="/portfolio" class="form">
                <div class="field">
                    <label for="portfolio-budget">"Monthly budget"</label>
                    <input id="portfolio-budget" name="budget" inputmode="decimal" value=budget />
                </div>
                <div class="table-wrap">
                    <table class="table">
                        <thead>
                            <tr>
                                <th scope="col">"In the portfolio (its metric)"</th>
                                <th scope="col">"A point is worth a month"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {view
                                .experiments
                                .iter()
                                .map(|(id, name, metric, currency)| {
                                    (
                                        *id,
                                        format!(
                                            "{name} ({})",
                                            crate::experiments::metric_label(metric),
                                        ),
                                        name.clone(),
                                        currency.clone(),
                                    )
                                })
                                .chain(
                                    view
                                        .pipelines
                                        .iter()
                                        .map(|(id, name, _, currency)| {
                                            (
                                                *id,
                                                format!("{name} (pipeline)"),
                                                name.clone(),
                                                currency.clone(),
                                            )
                                        }),
                                )
                                .map(|(id, label, name, currency)| {
                                    let value = chosen
                                        .iter()
                                        .find(|(c, _)| *c == id)
                                        .map(|(_, v)| *v);
                                    view! {
                                        <tr>
                                            <td>
                                                <label>
                                                    <input
                                                        type="checkbox"
                                                        name="e"
                                                        value=id.to_string()
                                                        checked=value.is_some()
                                                    />
                                                    " "
                                                    {label}
                                                </label>
                                            </td>
                                            <td>
                                                <input
                                                    name=format!("v_{id}")
                                                    inputmode="decimal"
                                                    aria-label=format!(
                                                        "Value of a point of {name}, {currency} a month",
                                                    )
                                                    value=value.map(format_number).unwrap_or_default()
                                                />
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button primary">
                        "Choose"
                    </button>
                </div>
            </form>
        </section>
        {view
            .problem
            .clone()
            .map(|why| {
                view! { <Notice kind="error">{why}</Notice> }
            })}
        {view
            .found
            .clone()
            .map(|found| {
                let chosen = chosen_text(&view.chosen);
                let budget = view.budget.map(format_amount).unwrap_or_default();
                view! {
                    <Answer view=view.clone() found=found currency=currency.clone() />
                    <Keep budget=budget chosen=chosen save=save />
                }
            })}
    }
}

/// Downloads of the answer, and (for leads) a name to keep the question under.
#[component]
fn Keep(budget: String, chosen: String, save: ServerAction<SavePortfolio>) -> impl IntoView {
    let error = action_error(save);
    let message = Signal::derive(move || {
        error.get().and_then(|e| {
            e.field_message("name")
                .or_else(|| e.field_message("budget"))
                .or_else(|| e.field_message("chosen"))
        })
    });
    let export = format!("budget={budget}&chosen={chosen}");
    view! {
        <section class="card" aria-labelledby="keep-heading">
            <h2 id="keep-heading">"Keep and share"</h2>
            <p>
                "Download it as " <a href=format!("/portfolio/export.csv?{export}") download="">
                    "CSV"
                </a> " or as a " <a href=format!("/portfolio/export.xlsx?{export}") download="">
                    "spreadsheet"
                </a> " (totals as formulas), or copy this page's address: it holds the question."
            </p>
            <WithUser children=move |user| {
                let (budget, chosen) = (budget.clone(), chosen.clone());
                user.can(Role::Lead)
                    .then(|| {
                        view! {
                            <ActionForm
                                action=save
                                attr:class="form inline-fields"
                                attr:novalidate="true"
                            >
                                <FormAlert error=error />
                                <input type="hidden" name="budget" value=budget />
                                <input type="hidden" name="chosen" value=chosen />
                                <div class="field">
                                    <label for="scenario-name">"Scenario name"</label>
                                    <input id="scenario-name" name="name" placeholder="Q1 budget" />
                                    <FieldMessage id="scenario-name-error" message=message />
                                </div>
                                <FormActions label="Save scenario" pending=save.pending() />
                            </ActionForm>
                        }
                    })
            } />
        </section>
    }
}

/// The saved questions: each opens the page asking it again, or downloads its answer.
#[component]
fn Scenarios(scenarios: Vec<Scenario>, delete: ServerAction<DeletePortfolio>) -> impl IntoView {
    if scenarios.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="card" aria-labelledby="scenarios-heading" data-testid="portfolio-scenarios">
            <h2 id="scenarios-heading">"Saved scenarios"</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Scenario"</th>
                            <th scope="col" class="numeric">
                                "Budget a month"
                            </th>
                            <th scope="col">"Experiments"</th>
                            <th scope="col">"Saved"</th>
                            <th scope="col">"Download"</th>
                            <th scope="col">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {scenarios
                            .into_iter()
                            .map(|s| {
                                let export = format!(
                                    "budget={}&chosen={}",
                                    format_amount(s.budget),
                                    chosen_text(&s.chosen),
                                );
                                let fields = vec![("scenario_id", s.scenario_id.to_string())];
                                let label = format!("Delete scenario {}", s.name);
                                view! {
                                    <tr>
                                        <td>
                                            <a href=format!(
                                                "/portfolio?{}",
                                                s.query(),
                                            )>{s.name.clone()}</a>
                                            {s
                                                .is_demo
                                                .then(|| {
                                                    view! { <span class="badge badge-muted">"demo"</span> }
                                                })}
                                        </td>
                                        <td class="numeric">{format_number(s.budget)}</td>
                                        <td>{s.experiments.join(", ")}</td>
                                        <td>
                                            {format!(
                                                "{} by {}",
                                                format_time(s.created_at),
                                                s.created_by,
                                            )}
                                        </td>
                                        <td>
                                            <a href=format!("/portfolio/export.csv?{export}")>"CSV"</a>
                                            " · "
                                            <a href=format!(
                                                "/portfolio/export.xlsx?{export}",
                                            )>"XLSX"</a>
                                        </td>
                                        <td>
                                            <WithUser children=move |user| {
                                                let fields = fields.clone();
                                                let label = label.clone();
                                                user.can(Role::Lead)
                                                    .then(|| {
                                                        view! {
                                                            <ActionButton
                                                                action=delete
                                                                fields=fields
                                                                text="Delete"
                                                                label=label
                                                            />
                                                        }
                                                    })
                                            } />
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
    .into_any()
}

#[component]
fn Answer(
    view: PortfolioView,
    found: super::portfolio::Portfolio,
    currency: String,
) -> impl IntoView {
    let money = move |v: f64| format!("{} {currency}", format_number(v.round()));
    let terms: Vec<String> = view
        .items
        .iter()
        .zip(&found.picks)
        .filter(|(item, pick)| **pick != item.recommended)
        .map(|(item, pick)| {
            format!(
                "{} points × {} ({})",
                format_number(
                    (item.value(*pick) / item.point_value.max(f64::MIN_POSITIVE) * 100.0).round()
                        / 100.0
                ),
                format_number(item.point_value),
                item.name
            )
        })
        .collect();
    let value_how = if terms.is_empty() {
        "Each experiment keeps its own choice, so nothing is gained against it.".to_owned()
    } else {
        format!(
            "For each experiment whose choice moves, the points of its metric gained over its own recommendation × what a point is worth a month, summed: {} = {}.",
            terms.join(" + "),
            money(found.value)
        )
    };
    view! {
        <section class="card" aria-labelledby="portfolio-heading">
            <h2 id="portfolio-heading">"The portfolio"</h2>
            <dl class="figures">
                <div>
                    <dt>"A month"</dt>
                    <dd>{money(found.monthly)}</dd>
                </div>
                <div>
                    <dt>"Their own choices"</dt>
                    <dd>{money(found.recommended_monthly)}</dd>
                </div>
                <div>
                    <dt>"Value gained a month"</dt>
                    <dd>{money(found.value)} <Explain text=value_how /></dd>
                </div>
            </dl>
            {if found.moves.is_empty() {
                view! {
                    <p>
                        "Every experiment's own recommendation is already the best use of the budget."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="moves">
                        {found.moves.iter().map(|m| view! { <li>{m.clone()}</li> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Experiment"</th>
                            <th scope="col">"Its own choice"</th>
                            <th scope="col">"The portfolio's"</th>
                            <th scope="col" class="numeric">
                                "A month"
                            </th>
                            <th scope="col" class="numeric">
                                "Quality"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .items
                            .iter()
                            .zip(&found.picks)
                            .map(|(item, pick)| {
                                let own = &item.choices[item.recommended];
                                let chosen = &item.choices[*pick];
                                view! {
                                    <tr>
                                        <td>{item.name.clone()}</td>
                                        <td>{own.name.clone()}</td>
                                        <td>{chosen.name.clone()}</td>
                                        <td class="numeric">
                                            {format!(
                                                "{} → {}",
                                                format_number(own.monthly.round()),
                                                format_number(chosen.monthly.round()),
                                            )}
                                        </td>
                                        <td class="numeric">
                                            {format!(
                                                "{} → {}",
                                                format_number(own.quality),
                                                format_number(chosen.quality),
                                            )}
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
