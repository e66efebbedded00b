//! Allocation rules: the ordered list, and the form that previews what a rule would move before
//! it is saved.

use leptos::prelude::*;
use uuid::Uuid;

use super::rules::{MatchKind, Preview, RuleInput, RuleView, Split};
use super::{BillsHeader, RuleOptions};
use crate::auth::Role;
use crate::components::{
    action_error, successes, ActionButton, FieldMessage, FormAlert, Loaded, Notice, WithUser,
};
use crate::error::AppError;
use crate::format::{format_count, format_money};
use crate::ordered::MoveButtons;

type RulesResource = Resource<Result<Vec<RuleView>, AppError>>;

#[component]
pub fn RulesPage() -> impl IntoView {
    let changed = RwSignal::new(0usize);
    let moved = ServerAction::<super::MoveRule>::new();
    let deleted = ServerAction::<super::DeleteRule>::new();
    // A move or a deletion reloads the list and starts a re-allocation, as saving a rule does.
    let (m, d) = (successes(moved), successes(deleted));
    Effect::new(move |previous: Option<(usize, usize)>| {
        let now = (m.get(), d.get());
        if previous.is_some_and(|p| p != now) {
            changed.update(|c| *c += 1);
        }
        now
    });
    let rules: RulesResource = Resource::new(move || changed.get(), |_| super::list_rules());
    let choices = Resource::new(|| (), |_| super::list_rule_options());
    let editing = RwSignal::new(None::<RuleView>);
    view! {
        <BillsHeader
            title="Allocation rules"
            lead="Rules send each bill row to a team, a model and a deployment. The first rule that matches a row takes it; rows no rule matches stay unallocated. A shared cost can be split across deployments, equally or by their GPU-hours."
        />
        <WithUser children=move |user| {
            let can_edit = user.can(Role::Lead);
            view! {
                <JobProgressCard changed=changed />
                <Loaded
                    resource=rules
                    children=move |list| {
                        view! {
                            <RuleList
                                list=list
                                can_edit=can_edit
                                moved=moved
                                deleted=deleted
                                editing=editing
                            />
                        }
                    }
                />
                <Show when=move || can_edit>
                    <Loaded
                        resource=choices
                        children=move |choices| {
                            view! { <RuleEditor choices=choices changed=changed editing=editing /> }
                        }
                    />
                </Show>
            }
        } />
    }
}

/// While a large ledger is re-allocated after a change, how far the job has come; polled every two
/// seconds until it has finished, when the rule list reloads with the new row counts.
#[component]
fn JobProgressCard(changed: RwSignal<usize>) -> impl IntoView {
    let tick = RwSignal::new(0usize);
    let job = Resource::new(
        move || (changed.get(), tick.get()),
        |_| super::allocation_job(),
    );
    let was_running = StoredValue::new(false);
    Effect::new(move |_| {
        let poll = set_interval_with_handle(
            move || {
                let running = job
                    .get_untracked()
                    .and_then(Result::ok)
                    .is_some_and(|job| job.running);
                if running || was_running.get_value() {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(2),
        );
        if let Ok(poll) = poll {
            on_cleanup(move || poll.clear());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(state)) = job.get() {
            if was_running.get_value() && !state.running {
                changed.update(|c| *c += 1);
            }
            was_running.set_value(state.running);
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                job.await
                    .ok()
                    .filter(|job| job.running)
                    .map(|job| {
                        let percent = if job.rows_total > 0 {
                            job.rows_done as f64 * 100.0 / job.rows_total as f64
                        } else {
                            0.0
                        };
                        let since = job
                            .started_at
                            .map(|at| at.format("%H:%M:%S UTC").to_string())
                            .unwrap_or_default();
                        view! {
                            <section
                                class="card"
                                role="status"
                                aria-live="polite"
                                data-testid="allocation-job"
                            >
                                <h2>"Re-allocating the ledger"</h2>
                                <p class="small">
                                    {format!(
                                        "{} of {} rows allocated by the rules as they stand ({percent:.0}%), since {since}, after a change by {}. Every figure shows the previous allocation until this has finished.",
                                        format_count(job.rows_done),
                                        format_count(job.rows_total),
                                        job.started_by,
                                    )}
                                </p>
                                <progress
                                    max="100"
                                    value=format!("{percent:.1}")
                                    aria-label="Re-allocation progress"
                                ></progress>
                            </section>
                        }
                    })
            })}
        </Transition>
    }
}

#[component]
fn RuleList(
    list: Vec<RuleView>,
    can_edit: bool,
    moved: ServerAction<super::MoveRule>,
    deleted: ServerAction<super::DeleteRule>,
    editing: RwSignal<Option<RuleView>>,
) -> impl IntoView {
    let error = Signal::derive(move || {
        action_error(moved)
            .get()
            .or_else(|| action_error(deleted).get())
    });
    if list.is_empty() {
        return view! {
            <section class="card empty">
                <h2>"No rules yet"</h2>
                <p class="muted">
                    "Every bill row is unallocated until a rule takes it. "
                    {if can_edit {
                        "Write the first rule below, for instance: tag team = search* goes to the team Search & Ranking."
                    } else {
                        "Leads and admins write the rules."
                    }}
                </p>
            </section>
        }
        .into_any();
    }
    let count = list.len();
    view! {
        <section class="card" aria-labelledby="rules-title">
            <h2 id="rules-title">"Rules, in the order they apply"</h2>
            <FormAlert error=error />
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col" class="numeric">
                                "#"
                            </th>
                            <th scope="col">"Rule"</th>
                            <th scope="col">"Matches"</th>
                            <th scope="col">"Sends to"</th>
                            <th scope="col" class="numeric">
                                "Rows"
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
                        {list
                            .into_iter()
                            .map(|rule| {
                                let id = rule.allocation_rule_id;
                                let targets = rule
                                    .targets
                                    .iter()
                                    .map(|t| t.describe())
                                    .collect::<Vec<_>>();
                                let split = (targets.len() > 1)
                                    .then(|| format!("split {}", rule.split.label()));
                                let edit_rule = rule.clone();
                                view! {
                                    <tr>
                                        <td class="numeric">{rule.position}</td>
                                        <td class="strong">{rule.name.clone()}</td>
                                        <td>
                                            <code>{rule.describe_match()}</code>
                                        </td>
                                        <td class="small">
                                            {targets
                                                .into_iter()
                                                .map(|t| view! { <span class="block">{t}</span> })
                                                .collect_view()}
                                            {split
                                                .map(|s| view! { <span class="block muted">{s}</span> })}
                                        </td>
                                        <td class="numeric">{format_count(rule.rows)}</td>
                                        {can_edit
                                            .then(|| {
                                                view! {
                                                    <td class="nowrap actions">
                                                        <MoveButtons
                                                            action=moved
                                                            rule_id=id
                                                            name=rule.name.clone()
                                                            position=rule.position
                                                            count=count
                                                        />
                                                        <button
                                                            type="button"
                                                            class="button ghost small"
                                                            on:click=move |_| editing.set(Some(edit_rule.clone()))
                                                        >
                                                            "Edit"
                                                        </button>
                                                        <ActionButton
                                                            action=deleted
                                                            fields=vec![("rule_id", id.to_string())]
                                                            text="Delete"
                                                            label=format!("Delete {}", rule.name)
                                                            danger=true
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
        </section>
    }
    .into_any()
}

#[component]
fn RuleEditor(
    choices: RuleOptions,
    changed: RwSignal<usize>,
    editing: RwSignal<Option<RuleView>>,
) -> impl IntoView {
    let rule_id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new("tag".to_string());
    let key = RwSignal::new(String::new());
    let pattern = RwSignal::new(String::new());
    let team_id = RwSignal::new(String::new());
    let model_id = RwSignal::new(String::new());
    let deployment_id = RwSignal::new(String::new());
    let split_deployments = RwSignal::new(String::new());
    let split = RwSignal::new("equal".to_string());
    let by_name = |list: &[(Uuid, String)], name: &Option<String>| {
        name.as_ref()
            .and_then(|n| list.iter().find(|(_, l)| l == n))
            .map(|(id, _)| id.to_string())
            .unwrap_or_default()
    };
    let stored = StoredValue::new(choices.clone());
    Effect::new(move |_| {
        if let Some(rule) = editing.get() {
            let choices = stored.get_value();
            rule_id.set(rule.allocation_rule_id.to_string());
            name.set(rule.name.clone());
            kind.set(rule.kind.as_str().to_owned());
            key.set(rule.key.clone().unwrap_or_default());
            pattern.set(rule.pattern.clone());
            split.set(rule.split.as_str().to_owned());
            let first = rule.targets.first().cloned().unwrap_or_default();
            team_id.set(by_name(&choices.teams, &first.team));
            if rule.targets.len() > 1 {
                model_id.set(String::new());
                deployment_id.set(String::new());
                split_deployments.set(
                    rule.targets
                        .iter()
                        .filter_map(|t| t.deployment.clone())
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            } else {
                model_id.set(by_name(&choices.models, &first.model));
                deployment_id.set(by_name(&choices.deployments, &first.deployment));
                split_deployments.set(String::new());
            }
        }
    });
    let input = move || RuleInput {
        rule_id: rule_id.get_untracked(),
        name: name.get_untracked(),
        kind: kind.get_untracked(),
        key: key.get_untracked(),
        pattern: pattern.get_untracked(),
        team_id: team_id.get_untracked(),
        model_id: model_id.get_untracked(),
        deployment_id: deployment_id.get_untracked(),
        split_deployments: split_deployments.get_untracked(),
        split: split.get_untracked(),
    };
    let preview = Action::new(|input: &RuleInput| super::preview_rule(input.clone()));
    let save = Action::new(|input: &RuleInput| super::save_rule(input.clone()));
    let saved = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(result)) = save.value().get() {
            let name = name.get_untracked();
            saved.set(Some(match (result.reallocating, result.rows) {
                (None, rows) => format!(
                    "Saved {name}; it takes {} rows, and every row has been allocated again.",
                    format_count(rows.unwrap_or_default())
                ),
                (Some(total), _) => format!(
                    "Saved {name}. The ledger's {} rows are being allocated again in the background; figures show the previous allocation, and the list the rows each rule takes, until that has finished.",
                    format_count(total)
                ),
            }));
            rule_id.set(String::new());
            editing.set(None);
            preview.value().set(None);
            changed.update(|c| *c += 1);
        }
    });
    let error = move |field: &'static str| {
        move || {
            let from = |v: Option<Result<Preview, AppError>>| {
                v.and_then(Result::err).and_then(|e| e.field_message(field))
            };
            from(save.value().get()).or_else(|| from(preview.value().get()))
        }
    };
    let general = move || {
        let other = |v: Option<Result<Preview, AppError>>| match v {
            Some(Err(AppError::Validation(_))) | None | Some(Ok(_)) => None,
            Some(Err(e)) => Some(e.to_string()),
        };
        other(save.value().get()).or_else(|| other(preview.value().get()))
    };
    let pending = move || preview.pending().get() || save.pending().get();
    let options = |list: Vec<(Uuid, String)>, empty: &'static str| {
        view! {
            <option value="">{empty}</option>
            {list
                .into_iter()
                .map(|(id, label)| view! { <option value=id.to_string()>{label}</option> })
                .collect_view()}
        }
    };
    view! {
        <section class="card" aria-labelledby="rule-form-title">
            <h2 id="rule-form-title">
                {move || if rule_id.get().is_empty() { "New rule" } else { "Edit rule" }}
            </h2>
            <form
                class="form grid-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(input());
                }
            >
                <div class="field">
                    <label for="rule-name">"Name"</label>
                    <input
                        id="rule-name"
                        prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                    <FieldMessage id="rule-name-error" message=Signal::derive(error("name")) />
                </div>
                <div class="field">
                    <label for="rule-kind">"Match on"</label>
                    <select
                        id="rule-kind"
                        prop:value=kind
                        on:change=move |ev| kind.set(event_target_value(&ev))
                    >
                        {MatchKind::ALL
                            .into_iter()
                            .map(|k| view! { <option value=k.as_str()>{k.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <Show when=move || kind.get() == "tag">
                    <div class="field">
                        <label for="rule-key">"Tag key"</label>
                        <input
                            id="rule-key"
                            placeholder="team"
                            prop:value=key
                            on:input=move |ev| key.set(event_target_value(&ev))
                        />
                        <FieldMessage id="rule-key-error" message=Signal::derive(error("key")) />
                    </div>
                </Show>
                <div class="field">
                    <label for="rule-pattern">"Value"</label>
                    <input
                        id="rule-pattern"
                        placeholder="search* (exact, or * and ?)"
                        prop:value=pattern
                        on:input=move |ev| pattern.set(event_target_value(&ev))
                    />
                    <FieldMessage
                        id="rule-pattern-error"
                        message=Signal::derive(error("pattern"))
                    />
                </div>
                <div class="field">
                    <label for="rule-team">"Team"</label>
                    <select
                        id="rule-team"
                        prop:value=team_id
                        on:change=move |ev| team_id.set(event_target_value(&ev))
                    >
                        {options(choices.teams.clone(), "From the model or deployment")}
                    </select>
                    <FieldMessage
                        id="rule-team_id-error"
                        message=Signal::derive(error("team_id"))
                    />
                </div>
                <div class="field">
                    <label for="rule-model">"Model"</label>
                    <select
                        id="rule-model"
                        prop:value=model_id
                        on:change=move |ev| model_id.set(event_target_value(&ev))
                    >
                        {options(choices.models.clone(), "None")}
                    </select>
                </div>
                <div class="field">
                    <label for="rule-deployment">"Deployment"</label>
                    <select
                        id="rule-deployment"
                        prop:value=deployment_id
                        on:change=move |ev| deployment_id.set(event_target_value(&ev))
                    >
                        {options(choices.deployments.clone(), "None")}
                    </select>
                </div>
                <div class="field wide">
                    <label for="rule-split-deployments">
                        "Or split across deployments (one key per line)"
                    </label>
                    <textarea
                        id="rule-split-deployments"
                        rows="3"
                        prop:value=split_deployments
                        on:input=move |ev| split_deployments.set(event_target_value(&ev))
                    ></textarea>
                    <FieldMessage
                        id="rule-split_deployments-error"
                        message=Signal::derive(error("split_deployments"))
                    />
                </div>
                <div class="field">
                    <label for="rule-split">"Split"</label>
                    <select
                        id="rule-split"
                        prop:value=split
                        on:change=move |ev| split.set(event_target_value(&ev))
                    >
                        <option value=Split::Equal.as_str()>"Equally"</option>
                        <option value=Split::GpuHours
                            .as_str()>"By GPU-hours in the charge period"</option>
                    </select>
                </div>
                <div class="form-actions">
                    <button
                        type="button"
                        class="button"
                        disabled=pending
                        on:click=move |_| {
                            preview.dispatch(input());
                        }
                    >
                        "Preview"
                    </button>
                    <button type="submit" class="button primary" disabled=pending>
                        "Save rule"
                    </button>
                    <Show when=move || !rule_id.get().is_empty()>
                        <button
                            type="button"
                            class="button ghost"
                            on:click=move |_| {
                                rule_id.set(String::new());
                                editing.set(None);
                            }
                        >
                            "Cancel editing"
                        </button>
                    </Show>
                </div>
            </form>
            {move || general().map(|e| view! { <Notice kind="error">{e}</Notice> })}
            {move || saved.get().map(|s| view! { <Notice kind="success">{s}</Notice> })}
            {move || {
                preview
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|p| view! { <PreviewTable preview=p /> })
            }}
        </section>
    }
}

#[component]
fn PreviewTable(preview: Preview) -> impl IntoView {
    let (now, after) = if preview.sample.is_some() {
        ("Now (estimated)", "After saving (estimated)")
    } else {
        ("Now", "After saving")
    };
    view! {
        <div class="preview" data-testid="rule-preview">
            <h3>"What saving would move"</h3>
            <p class="small">
                {match preview.sample {
                    None => {
                        format!(
                            "The rule would take {} current rows.",
                            format_count(preview.rows.unwrap_or_default()),
                        )
                    }
                    Some(sample) => {
                        format!(
                            "The rule would take about {} current rows. The ledger is large (about {} rows), so these figures are estimated from a sample of {} rows.",
                            format_count(preview.rows.unwrap_or_default()),
                            format_count(sample.of),
                            format_count(sample.rows),
                        )
                    }
                }}
            </p>
            {if preview.moves.is_empty() {
                view! { <p class="muted small">"No amount would change."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Team"</th>
                                    <th scope="col">"Model"</th>
                                    <th scope="col" class="numeric">
                                        {now}
                                    </th>
                                    <th scope="col" class="numeric">
                                        {after}
                                    </th>
                                </tr>
                            </thead>
                            <tbody>
                                {preview
                                    .moves
                                    .into_iter()
                                    .map(|m| {
                                        view! {
                                            <tr>
                                                <td>{m.team.unwrap_or_else(|| "unallocated".into())}</td>
                                                <td>{m.model.unwrap_or_else(|| "—".into())}</td>
                                                <td class="numeric nowrap">
                                                    {format_money(m.before, &m.currency)}
                                                </td>
                                                <td class="numeric nowrap">
                                                    {format_money(m.after, &m.currency)}
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
        </div>
    }
}
