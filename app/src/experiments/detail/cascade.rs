//! The cascade simulator: a light model answers first and hands the unsure share to a heavy
//! one; the blended cost, latency and quality, and the saved scenarios.

use leptos::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::components::{
    action_error, format_money, ActionButton, FieldMessage, FormActions, FormAlert,
};
use crate::experiments::select::{self, CascadeInput};
use crate::experiments::view::{ExperimentView, RunRow, ScenarioRow};
use crate::experiments::{DeleteCascade, SaveCascade};
use crate::format::format_number;

use super::or_dash;

fn optional_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[component]
pub(super) fn Cascade(
    view: ExperimentView,
    can_edit: bool,
    save: ServerAction<SaveCascade>,
    delete: ServerAction<DeleteCascade>,
) -> impl IntoView {
    let id = view.experiment.experiment_id;
    let volume = view.experiment.monthly_volume;
    let currency = view.experiment.currency.clone();
    let priced: Vec<RunRow> = view
        .runs
        .iter()
        .filter(|r| r.curve.is_some())
        .cloned()
        .collect();
    if priced.len() < 2 {
        return view! {
            <section class="card" aria-labelledby="cascade-title">
                <h2 id="cascade-title">"Cascade simulator"</h2>
                <p class="muted">
                    "A cascade needs two priced runs: a cheap one that answers what it is confident on, and an expensive one for the rest."
                </p>
            </section>
        }
        .into_any();
    }
    let pair: Vec<_> = priced
        .iter()
        .map(|r| (r.run_id, r.monthly, r.quality))
        .collect();
    let (cheapest, best) =
        select::default_cascade(&pair, view.experiment.direction).unwrap_or_default();
    // Start from the first saved scenario, else the cheapest run in front of the best one.
    let saved = view.scenarios.first().map(|s| &s.scenario);
    let cheap_id = RwSignal::new(saved.map_or(cheapest, |s| s.cheap_run_id).to_string());
    let expensive_id = RwSignal::new(saved.map_or(best, |s| s.expensive_run_id).to_string());
    let share = RwSignal::new(saved.map_or(70.0, |s| (s.input.share_kept * 100.0).round()));
    let kept_quality = RwSignal::new(String::new());
    let passed_quality = RwSignal::new(String::new());
    let rows = StoredValue::new(priced.clone());
    let outcome = Memo::new(move |_| {
        let find = |id: String| {
            rows.with_value(|rows| {
                rows.iter()
                    .find(|r| r.run_id.to_string() == id)
                    .and_then(RunRow::cascade_side)
            })
        };
        let (cheap, expensive) = (find(cheap_id.get())?, find(expensive_id.get())?);
        if cheap_id.get() == expensive_id.get() {
            return None;
        }
        Some(select::cascade(
            &cheap,
            &expensive,
            &CascadeInput {
                share_kept: share.get() / 100.0,
                kept_quality: optional_number(&kept_quality.get()),
                passed_quality: optional_number(&passed_quality.get()),
            },
            volume,
        ))
    });
    let options = move |selected: RwSignal<String>| {
        priced
            .iter()
            .map(|r| {
                let value = r.run_id.to_string();
                let is = value.clone();
                view! {
                    <option value=value selected=move || selected.get() == is>
                        {r.name.clone()}
                    </option>
                }
            })
            .collect_view()
    };
    let cheap_options = options(cheap_id);
    let expensive_options = options(expensive_id);
    let error = action_error(save);
    let delete_error = action_error(delete);
    let field_error = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(name)))
    };
    let money = {
        let currency = currency.clone();
        move |amount: Decimal| format_money(amount, &currency)
    };
    let shown = {
        let money = money.clone();
        move || match outcome.get() {
            None => view! { <p class="muted">"Choose two different runs."</p> }.into_any(),
            Some(o) => {
                let saving_class = if o.saving >= Decimal::ZERO {
                    "figure good"
                } else {
                    "figure bad"
                };
                view! {
                    <dl class="figures" data-testid="cascade-outcome">
                        <div>
                            <dt>"Blended cost per 1k"</dt>
                            <dd class="figure">{money(o.per_thousand)}</dd>
                        </div>
                        <div>
                            <dt>"Per month"</dt>
                            <dd class="figure">{money(o.monthly)}</dd>
                        </div>
                        <div>
                            <dt>"Saving vs the expensive alone"</dt>
                            <dd class=saving_class>{money(o.saving)}</dd>
                        </div>
                        <div>
                            <dt>"Blended p95"</dt>
                            <dd class="figure" title=o.p95_basis.clone()>
                                {or_dash(o.p95_ms, |v| format!("{} ms", format_number(v)))}
                            </dd>
                        </div>
                        <div>
                            <dt>
                                {if o.quality_estimated {
                                    "Blended quality (estimated)"
                                } else {
                                    "Blended quality"
                                }}
                            </dt>
                            <dd class="figure">{or_dash(o.quality, format_number)}</dd>
                        </div>
                    </dl>
                    <p class="muted small">
                        {o.p95_basis.clone()} "."
                        {o
                            .quality_estimated
                            .then_some(
                                " Quality: each model's overall figure stands in for a slice not measured.",
                            )}
                    </p>
                }
                .into_any()
            }
        }
    };
    view! {
        <section class="card" aria-labelledby="cascade-title">
            <h2 id="cascade-title">"Cascade simulator"</h2>
            <p class="muted small">
                "The cheap model answers every request it is confident on and passes the rest to the expensive one. "
                "Every request costs the cheap model; the passed share also costs the expensive one."
            </p>
            <ActionForm action=save attr:class="form grid-form" attr:novalidate="true">
                <FormAlert error=error />
                <input type="hidden" name="experiment_id" value=id.to_string() />
                <div class="field">
                    <label for="cheap_run_id">"Cheap model"</label>
                    <select
                        id="cheap_run_id"
                        name="cheap_run_id"
                        on:change=move |ev| cheap_id.set(event_target_value(&ev))
                    >
                        {cheap_options}
                    </select>
                    <FieldMessage id="cheap_run_id-error" message=field_error("cheap_run_id") />
                </div>
                <div class="field">
                    <label for="expensive_run_id">"Expensive model"</label>
                    <select
                        id="expensive_run_id"
                        name="expensive_run_id"
                        on:change=move |ev| expensive_id.set(event_target_value(&ev))
                    >
                        {expensive_options}
                    </select>
                    <FieldMessage
                        id="expensive_run_id-error"
                        message=field_error("expensive_run_id")
                    />
                </div>
                <div class="field slider wide">
                    <label for="share_kept_pct">"Share the cheap model keeps"</label>
                    <input
                        id="share_kept_pct"
                        name="share_kept_pct"
                        type="range"
                        min="0"
                        max="100"
                        step="1"
                        prop:value=move || share.get().to_string()
                        on:input=move |ev| share.set(event_target_value(&ev).parse().unwrap_or(0.0))
                    />
                    <output>{move || format!("{:.0}%", share.get())}</output>
                </div>
                <div class="field">
                    <label for="threshold">"Confidence threshold"</label>
                    <p class="hint">"Optional: the threshold that gives this share."</p>
                    <input id="threshold" name="threshold" inputmode="decimal" />
                    <FieldMessage id="threshold-error" message=field_error("threshold") />
                </div>
                <div class="field">
                    <label for="kept_quality">"Quality on the kept slice"</label>
                    <p class="hint">"Optional: the cheap model's figure on what it keeps."</p>
                    <input
                        id="kept_quality"
                        name="kept_quality"
                        inputmode="decimal"
                        on:input=move |ev| kept_quality.set(event_target_value(&ev))
                    />
                    <FieldMessage id="kept_quality-error" message=field_error("kept_quality") />
                </div>
                <div class="field">
                    <label for="passed_quality">"Quality on the passed slice"</label>
                    <p class="hint">"Optional: the expensive model's figure on what it gets."</p>
                    <input
                        id="passed_quality"
                        name="passed_quality"
                        inputmode="decimal"
                        on:input=move |ev| passed_quality.set(event_target_value(&ev))
                    />
                    <FieldMessage id="passed_quality-error" message=field_error("passed_quality") />
                </div>
                <div class="wide">{shown}</div>
                {can_edit
                    .then(|| {
                        view! {
                            <div class="field">
                                <label for="scenario-name">"Scenario name"</label>
                                <input
                                    id="scenario-name"
                                    name="name"
                                    placeholder="e.g. 70% on the cheap model"
                                />
                                <FieldMessage id="name-error" message=field_error("name") />
                            </div>
                            <FormActions label="Save scenario" pending=save.pending() />
                        }
                    })}
            </ActionForm>
            <ScenarioTable
                scenarios=view.scenarios.clone()
                id=id
                currency=currency
                can_edit=can_edit
                delete=delete
            />
            <FormAlert error=delete_error />
        </section>
    }
    .into_any()
}

#[component]
fn ScenarioTable(
    scenarios: Vec<ScenarioRow>,
    id: Uuid,
    currency: String,
    can_edit: bool,
    delete: ServerAction<DeleteCascade>,
) -> impl IntoView {
    if scenarios.is_empty() {
        return ().into_any();
    }
    view! {
        <h3>"Saved scenarios"</h3>
        <div class="table-wrap">
            <table class="table" data-testid="scenarios">
                <thead>
                    <tr>
                        <th scope="col">"Scenario"</th>
                        <th scope="col">"Cheap → expensive"</th>
                        <th scope="col" class="numeric">
                            "Kept"
                        </th>
                        <th scope="col" class="numeric">
                            "Per 1k"
                        </th>
                        <th scope="col" class="numeric">
                            "Per month"
                        </th>
                        <th scope="col" class="numeric">
                            "Saving"
                        </th>
                        <th scope="col" class="numeric">
                            "p95"
                        </th>
                        <th scope="col" class="numeric">
                            "Quality"
                        </th>
                        {can_edit
                            .then(|| {
                                view! {
                                    <th scope="col">
                                        <span class="visually-hidden">"Actions"</span>
                                    </th>
                                }
                            })}
                    </tr>
                </thead>
                <tbody>
                    {scenarios
                        .into_iter()
                        .map(|row| {
                            let o = row.outcome.clone();
                            let money = |v: Decimal| format_money(v, &currency);
                            view! {
                                <tr>
                                    <th scope="row" class="strong">
                                        {row.scenario.name.clone()}
                                    </th>
                                    <td>{format!("{} → {}", row.cheap, row.expensive)}</td>
                                    <td class="numeric">
                                        {format!("{:.0}%", row.scenario.input.share_kept * 100.0)}
                                    </td>
                                    <td class="numeric nowrap">
                                        {or_dash(o.as_ref().map(|o| o.per_thousand), money)}
                                    </td>
                                    <td class="numeric nowrap">
                                        {or_dash(o.as_ref().map(|o| o.monthly), money)}
                                    </td>
                                    <td class="numeric nowrap">
                                        {or_dash(o.as_ref().map(|o| o.saving), money)}
                                    </td>
                                    <td class="numeric nowrap">
                                        {or_dash(
                                            o.as_ref().and_then(|o| o.p95_ms),
                                            |v| format!("{} ms", format_number(v)),
                                        )}
                                    </td>
                                    <td class="numeric">
                                        {or_dash(o.as_ref().and_then(|o| o.quality), format_number)}
                                    </td>
                                    {can_edit
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <ActionButton
                                                        action=delete
                                                        fields=vec![
                                                            ("experiment_id", id.to_string()),
                                                            ("scenario_id", row.scenario.scenario_id.to_string()),
                                                        ]
                                                        text="Delete"
                                                        label=format!("Delete scenario {}", row.scenario.name)
                                                    />
                                                </td>
                                            }
                                        })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
