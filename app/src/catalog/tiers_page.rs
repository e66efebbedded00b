//! The tier rules, in order: admins add, move and delete them; everyone sees them.

use leptos::prelude::*;
use leptos_meta::Title;

use super::tier::Tier;
use super::{CreateTierRule, DeleteTierRule, MoveTierRule};
use crate::auth::Role;
use crate::components::{
    action_error, reset_on_success, successes, ActionButton, Field, FieldMessage, FormActions,
    FormAlert, Loaded, PageHeader, WithUser,
};
use crate::ordered::MoveButtons;

#[component]
pub fn TierRulesPage() -> impl IntoView {
    view! {
        <Title text="Tier rules · Pareto" />
        <p class="breadcrumb">
            <a href="/catalog">"Catalog"</a>
            " / "
        </p>
        <PageHeader
            title="Tier rules"
            lead="The first rule whose conditions all hold places a model in its tier; a model no rule places is Tier 2. Conditions read a model's last 30 days: cost_per_1k, p95_ms, monthly_cost, or a quality metric such as f1."
        />
        <WithUser children=|user| view! { <Rules can_edit=user.can(Role::Admin) /> } />
    }
}

#[component]
fn Rules(can_edit: bool) -> impl IntoView {
    let create = ServerAction::<CreateTierRule>::new();
    let delete = ServerAction::<DeleteTierRule>::new();
    let moved = ServerAction::<MoveTierRule>::new();
    let (a, b, c) = (successes(create), successes(delete), successes(moved));
    let rules = Resource::new(
        move || (a.get(), b.get(), c.get()),
        |_| super::list_tier_rules(),
    );
    let create_error = action_error(create);
    let change_error = Signal::derive(move || {
        action_error(delete)
            .get()
            .or_else(|| action_error(moved).get())
    });
    let form = reset_on_success(create);
    let conditions_error = Signal::derive(move || {
        create_error
            .get()
            .and_then(|e| e.field_message("conditions"))
    });
    view! {
        <section class="card">
            <FormAlert error=change_error />
            <Loaded
                resource=rules
                children=move |rules| {
                    if rules.is_empty() {
                        return view! {
                            <p class="muted">
                                "No rules: every model is Tier 2 until an admin adds one."
                            </p>
                        }
                            .into_any();
                    }
                    let count = rules.len();
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th scope="col" class="numeric">
                                            "#"
                                        </th>
                                        <th scope="col">"Rule"</th>
                                        <th scope="col">"Tier"</th>
                                        <th scope="col">"When"</th>
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
                                    {rules
                                        .into_iter()
                                        .map(|rule| {
                                            let delete_id = rule.tier_rule_id.to_string();
                                            let delete_label = format!("Delete {}", rule.name);
                                            view! {
                                                <tr>
                                                    <td class="numeric">{rule.position}</td>
                                                    <td class="strong">{rule.name.clone()}</td>
                                                    <td>
                                                        <span class=format!(
                                                            "badge tier-badge tier-{}",
                                                            rule.tier.number(),
                                                        )>{rule.tier.label()}</span>
                                                    </td>
                                                    <td>{rule.describe()}</td>
                                                    {can_edit
                                                        .then(|| {
                                                            view! {
                                                                <td class="table-actions">
                                                                    <MoveButtons
                                                                        action=moved
                                                                        rule_id=rule.tier_rule_id
                                                                        name=rule.name.clone()
                                                                        position=rule.position
                                                                        count=count
                                                                    />
                                                                    <ActionButton
                                                                        action=delete
                                                                        fields=vec![("tier_rule_id", delete_id)]
                                                                        text="Delete"
                                                                        label=delete_label
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
            />
        </section>
        <Show when=move || can_edit>
            <section class="card">
                <h2>"Add a rule"</h2>
                <p class="muted">
                    "It goes last; move it up to let it win over the rules before it."
                </p>
                <ActionForm
                    action=create
                    node_ref=form
                    attr:class="form grid-form"
                    attr:novalidate="true"
                >
                    <FormAlert error=create_error />
                    <Field
                        name="name"
                        label="Name"
                        hint="e.g. Critical accuracy"
                        required=true
                        error=create_error
                    />
                    <div class="field">
                        <label for="tier">"Tier"</label>
                        <select id="tier" name="tier">
                            {Tier::ALL
                                .into_iter()
                                .map(|t| {
                                    view! {
                                        <option value=t
                                            .number()
                                            .to_string()>
                                            {format!("{} — {}", t.label(), t.purpose())}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field wide">
                        <label for="conditions">"Conditions"</label>
                        <p class="hint" id="conditions-hint">
                            "One per line, all must hold: cost_per_1k >= 1, p95_ms <= 60, f1 >= 0.97"
                        </p>
                        <textarea
                            id="conditions"
                            name="conditions"
                            rows="3"
                            aria-describedby="conditions-hint"
                        ></textarea>
                        <FieldMessage id="conditions-error" message=conditions_error />
                    </div>
                    <FormActions label="Add rule" pending=create.pending() />
                </ActionForm>
            </section>
        </Show>
    }
}
