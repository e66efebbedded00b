//! The quarterly TCO page: per team and per model, each part with its basis, change against the
//! previous quarter, ROI where a lead entered the value delivered, the entry forms and the exports.

use leptos::prelude::*;
use leptos_meta::Title;

use super::tco::{Line, Tco, TeamTco};
use super::{SaveEngineering, SaveValue, TcoPage, FORMATS};
use crate::auth::Role;
use crate::components::{
    action_error, successes, Choice, Explain, Field, FormActions, FormAlert, Loaded, PageHeader,
    WithUser,
};
use crate::format::format_money;

fn pct(value: Option<f64>) -> String {
    match value {
        Some(v) if v.abs() < 0.05 => "0%".into(),
        Some(v) => format!("{}{v:.1}%", if v > 0.0 { "+" } else { "" }),
        None => "—".into(),
    }
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let quarter = RwSignal::new(String::new());
    let engineering = ServerAction::<SaveEngineering>::new();
    let value = ServerAction::<SaveValue>::new();
    let (e_done, v_done) = (successes(engineering), successes(value));
    let data = Resource::new(
        move || (quarter.get(), e_done.get(), v_done.get()),
        |(q, _, _)| super::load_tco(q),
    );
    view! {
        <Title text="Quarterly TCO · Pareto" />
        <PageHeader
            title="Quarterly TCO"
            lead="What each model and team cost this organization in a quarter: training, inference (billed where the bills cover it, estimated from telemetry otherwise), storage, engineering time and the rest, against the quarter before."
        />
        <Loaded
            resource=data
            children=move |page| {
                view! { <TcoView page=page quarter=quarter engineering=engineering value=value /> }
            }
        />
    }
}

#[component]
fn TcoView(
    page: TcoPage,
    quarter: RwSignal<String>,
    engineering: ServerAction<SaveEngineering>,
    value: ServerAction<SaveValue>,
) -> impl IntoView {
    let tco = page.tco.clone();
    let shown = tco.quarter.to_string();
    let options: Vec<(String, String)> = page
        .quarters
        .iter()
        .map(|q| (q.clone(), q.clone()))
        .collect();
    let currency = tco.currency.clone();
    let parts = tco.parts();
    let downloads = FORMATS
        .iter()
        .map(|(format, label)| {
            let href = format!("/reports/tco.{format}?quarter={shown}");
            view! {
                <a class="button small" href=href download=(*format != "html").then_some("")>
                    {*label}
                </a>
            }
        })
        .collect_view();
    let summary = [
        ("Training", parts.training),
        ("Inference", parts.inference()),
        ("Storage", parts.storage),
        ("Engineering", parts.engineering),
        ("Other", parts.other),
    ];
    view! {
        <section class="card">
            <div class="filters report-bar">
                <Choice
                    id="tco-quarter"
                    label="Quarter"
                    options=options
                    value=shown.clone()
                    set=move |q| quarter.set(q)
                />
                <div class="downloads" role="group" aria-label="Export">
                    {downloads}
                </div>
            </div>
            {tco
                .to_date
                .then(|| {
                    view! {
                        <p class="muted small">
                            {format!("{shown} is not over: figures are to date.")}
                        </p>
                    }
                })}
            {(!tco.left_out.is_empty())
                .then(|| {
                    view! {
                        <p class="muted small">
                            {format!(
                                "Shown in {currency}; left out: {}.",
                                tco
                                    .left_out
                                    .iter()
                                    .map(|(c, a)| format_money(*a, c))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            )}
                        </p>
                    }
                })}
            <div class="stats tco-stats">
                <div class="stat">
                    <span class="stat-value" data-testid="tco-total">
                        {format_money(tco.total(), &currency)}
                    </span>
                    <span class="stat-label">
                        {format!(
                            "total · {} against {}",
                            pct(super::tco::change_pct(tco.previous_total(), tco.total())),
                            tco.quarter.previous(),
                        )}
                        <Explain text="Training (the training cost of experiment runs recorded in the quarter) + inference (billed where the cloud bills cover a deployment, else estimated from its telemetry priced hour by hour by the GPU price catalog) + storage and other (bill lines allocated to the models by the allocation rules) + engineering (the hours entered at their rate, split across a team's models by compute cost), in one currency." />
                    </span>
                </div>
                {summary
                    .into_iter()
                    .map(|(label, amount)| {
                        view! {
                            <div class="stat">
                                <span class="stat-value">{format_money(amount, &currency)}</span>
                                <span class="stat-label">{label.to_lowercase()}</span>
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
        {if tco.teams.is_empty() {
            view! {
                <section class="card empty">
                    <h2>"Nothing to report for this quarter"</h2>
                    <p class="muted">
                        "No training runs, telemetry, allocated bills or engineering time fall in it."
                    </p>
                </section>
            }
                .into_any()
        } else {
            view! { <TeamsTable tco=tco.clone() /> }.into_any()
        }}
        {tco
            .teams
            .clone()
            .into_iter()
            .map(|team| view! { <TeamSection team=team currency=currency.clone() /> })
            .collect_view()}
        <WithUser children=move |user| {
            user.can(Role::Lead)
                .then(|| {
                    view! {
                        <EntryForms
                            page=page.clone()
                            quarter=shown.clone()
                            engineering=engineering
                            value=value
                        />
                    }
                })
        } />
    }
}

#[component]
fn TeamsTable(tco: Tco) -> impl IntoView {
    let currency = tco.currency.clone();
    let money = move |amount| format_money(amount, &currency);
    view! {
        <section class="card" aria-labelledby="teams-heading">
            <h2 id="teams-heading">"By team"</h2>
            <div class="table-wrap">
                <table class="table tco-table">
                    <thead>
                        <tr>
                            <th scope="col">"Team"</th>
                            <th scope="col" class="numeric">
                                "Training"
                            </th>
                            <th scope="col" class="numeric">
                                "Inference"
                            </th>
                            <th scope="col" class="numeric">
                                "Storage"
                            </th>
                            <th scope="col" class="numeric">
                                "Engineering"
                            </th>
                            <th scope="col" class="numeric">
                                "Other"
                            </th>
                            <th scope="col" class="numeric">
                                "Total"
                            </th>
                            <th scope="col" class="numeric">
                                "Change"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {tco
                            .teams
                            .iter()
                            .map(|team| {
                                let p = team.parts();
                                view! {
                                    <tr data-team=team.team.clone()>
                                        <th scope="row">{team.team.clone()}</th>
                                        <td class="numeric">{money(p.training)}</td>
                                        <td class="numeric">{money(p.inference())}</td>
                                        <td class="numeric">{money(p.storage)}</td>
                                        <td class="numeric">{money(p.engineering)}</td>
                                        <td class="numeric">{money(p.other)}</td>
                                        <td class="numeric strong" data-testid="team-total">
                                            {money(team.total())}
                                        </td>
                                        <td class="numeric">{pct(team.change_pct())}</td>
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
fn TeamSection(team: TeamTco, currency: String) -> impl IntoView {
    let money = {
        let currency = currency.clone();
        move |amount| format_money(amount, &currency)
    };
    let engineering = team.engineering.clone().map(|e| {
        format!(
            "Engineering: {} hours at {} an hour = {}{}",
            e.hours.normalize(),
            format_money(e.rate, &currency),
            format_money(e.cost(), &currency),
            if e.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.note)
            }
        )
    });
    view! {
        <section class="card" aria-label=format!("{} models", team.team)>
            <div class="card-head">
                <h2>{team.team.clone()}</h2>
                <span class="muted small">
                    {engineering
                        .unwrap_or_else(|| "No engineering time entered for this quarter".into())}
                </span>
            </div>
            <div class="table-wrap">
                <table class="table tco-table">
                    <thead>
                        <tr>
                            <th scope="col">"Model"</th>
                            <th scope="col" class="numeric">
                                "Training"
                            </th>
                            <th scope="col" class="numeric">
                                "Inference billed"
                            </th>
                            <th scope="col" class="numeric">
                                "Inference estimated"
                            </th>
                            <th scope="col" class="numeric">
                                "Storage"
                            </th>
                            <th scope="col" class="numeric">
                                "Engineering"
                            </th>
                            <th scope="col" class="numeric">
                                "Other"
                            </th>
                            <th scope="col" class="numeric">
                                "Total"
                            </th>
                            <th scope="col" class="numeric">
                                "Change"
                            </th>
                            <th scope="col" class="numeric">
                                "ROI"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {team
                            .lines
                            .iter()
                            .map(|line: &Line| {
                                let p = &line.parts;
                                let basis = p.inference_basis();
                                view! {
                                    <tr>
                                        <th scope="row">
                                            {match line.model_id {
                                                Some(id) => {
                                                    view! {
                                                        <a href=format!("/models/{id}")>{line.name.clone()}</a>
                                                    }
                                                        .into_any()
                                                }
                                                None => {
                                                    view! { <span class="muted">{line.name.clone()}</span> }
                                                        .into_any()
                                                }
                                            }}
                                        </th>
                                        <td class="numeric">{money(p.training)}</td>
                                        <td class="numeric" class:strong=basis == "billed">
                                            {money(p.inference_billed)}
                                        </td>
                                        <td class="numeric" class:strong=basis == "estimated">
                                            {money(p.inference_estimated)}
                                        </td>
                                        <td class="numeric">{money(p.storage)}</td>
                                        <td class="numeric">{money(p.engineering)}</td>
                                        <td class="numeric">{money(p.other)}</td>
                                        <td class="numeric strong">{money(line.total())}</td>
                                        <td class="numeric">{pct(line.change_pct())}</td>
                                        <td
                                            class="numeric"
                                            title=line
                                                .value
                                                .map(|v| format!("Value delivered: {}", money(v)))
                                        >
                                            {pct(line.roi_pct())}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small">
                "The total counts inference once: billed where the bills cover it (in bold), estimated from telemetry otherwise. Engineering is split across the team's models by their compute cost."
            </p>
        </section>
    }
}

#[component]
fn EntryForms(
    page: TcoPage,
    quarter: String,
    engineering: ServerAction<SaveEngineering>,
    value: ServerAction<SaveValue>,
) -> impl IntoView {
    let (e_error, v_error) = (action_error(engineering), action_error(value));
    let hint = format!("e.g. {}", page.tco.currency);
    let (hint_e, hint_v) = (hint.clone(), hint);
    let (quarter_e, quarter_v) = (quarter.clone(), quarter.clone());
    view! {
        <section class="card" aria-labelledby="entries-heading">
            <h2 id="entries-heading">{format!("Entries for {}", quarter.clone())}</h2>
            <div class="chart-grid">
                <ActionForm action=engineering attr:class="form" attr:novalidate="true">
                    <h3>"Engineering time"</h3>
                    <FormAlert error=e_error />
                    <input type="hidden" name="quarter" value=quarter_e.clone() />
                    <label class="field">
                        <span class="field-label">"Team"</span>
                        <select name="team_id">
                            {page
                                .teams
                                .iter()
                                .map(|(id, name)| {
                                    view! { <option value=id.to_string()>{name.clone()}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <Field
                        name="hours"
                        label="Hours"
                        hint="Spent on the team's models this quarter"
                        error=e_error
                        id_prefix="eng-"
                    />
                    <Field
                        name="hourly_rate"
                        label="Rate per hour"
                        hint="Loaded cost of an engineering hour"
                        error=e_error
                        id_prefix="eng-"
                    />
                    <Field
                        name="currency"
                        label="Currency"
                        hint=hint_e.clone()
                        error=e_error
                        id_prefix="eng-"
                    />
                    <Field name="note" label="Note" error=e_error id_prefix="eng-" />
                    <FormActions label="Save engineering time" pending=engineering.pending() />
                </ActionForm>
                <ActionForm action=value attr:class="form" attr:novalidate="true">
                    <h3>"Value delivered"</h3>
                    <FormAlert error=v_error />
                    <input type="hidden" name="quarter" value=quarter_v.clone() />
                    <label class="field">
                        <span class="field-label">"Model"</span>
                        <select name="model_id">
                            {page
                                .models
                                .iter()
                                .map(|(id, name)| {
                                    view! { <option value=id.to_string()>{name.clone()}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <Field
                        name="amount"
                        label="Value"
                        hint="What the model earned or saved this quarter"
                        error=v_error
                        id_prefix="val-"
                    />
                    <Field
                        name="currency"
                        label="Currency"
                        hint=hint_v.clone()
                        error=v_error
                        id_prefix="val-"
                    />
                    <Field
                        name="note"
                        label="Note"
                        hint="How it was estimated"
                        error=v_error
                        id_prefix="val-"
                    />
                    <FormActions label="Save value" pending=value.pending() />
                </ActionForm>
            </div>
        </section>
    }
}
