//! The audit log for leads and admins: every change, filtered by actor, entity and time without a
//! page load.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{AuditPageData, AuditQuery, EVENTS_SHOWN};
use crate::components::{Choice, Loaded, PageHeader, SettingsNav, Time, WithUser};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = RwSignal::new(AuditQuery::default());
    let data = Resource::new(move || query.get(), super::search_audit_log);
    view! {
        <Title text="Audit log · Pareto" />
        <PageHeader
            title="Audit log"
            lead="Every change to catalog, cards, reviews, budgets, rules, prices, people and tokens: who, when, what. For leads and admins."
        />
        <WithUser children=|user| view! { <SettingsNav user=user /> } />
        <Loaded resource=data children=move |data| view! { <AuditView data=data query=query /> } />
    }
}

fn options(values: &[String], any: &str) -> Vec<(String, String)> {
    std::iter::once((String::new(), any.to_owned()))
        .chain(values.iter().map(|v| (v.clone(), v.replace('_', " "))))
        .collect()
}

#[component]
fn AuditView(data: AuditPageData, query: RwSignal<AuditQuery>) -> impl IntoView {
    let current = query.get_untracked();
    let date = move |id: &'static str,
                     label: &'static str,
                     value: String,
                     set: fn(&mut AuditQuery, String)| {
        view! {
            <div class="field compact">
                <label for=id>{label}</label>
                <input
                    id=id
                    type="date"
                    value=value
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        query.update(|q| set(q, value));
                    }
                />
            </div>
        }
    };
    view! {
        <section class="card">
            <div class="filters" role="search" aria-label="Filter the audit log">
                <Choice
                    id="audit-actor"
                    label="Who"
                    options=options(&data.actors, "Anyone")
                    value=current.actor.clone()
                    set=move |v| query.update(|q| q.actor = v)
                />
                <Choice
                    id="audit-entity"
                    label="What"
                    options=options(&data.entities, "Anything")
                    value=current.entity.clone()
                    set=move |v| query.update(|q| q.entity = v)
                />
                {date("audit-from", "From", current.from.clone(), |q, v| q.from = v)}
                {date("audit-to", "To", current.to.clone(), |q, v| q.to = v)}
            </div>
        </section>
        <section class="card" aria-label="Changes">
            {if data.events.is_empty() {
                view! { <p class="muted">"No change matches."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"What"</th>
                                    <th scope="col">"Change"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {data
                                    .events
                                    .into_iter()
                                    .map(|e| {
                                        view! {
                                            <tr>
                                                <td class="nowrap">
                                                    <Time time=e.created_at />
                                                </td>
                                                <td>{e.actor.clone()}</td>
                                                <td class="nowrap">
                                                    <span class="badge badge-muted">{e.action.clone()}</span>
                                                </td>
                                                <td class="audit-change">{e.summary.clone()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {data
                        .truncated
                        .then(|| {
                            view! {
                                <p class="muted small">
                                    {format!(
                                        "The newest {EVENTS_SHOWN} changes are shown: narrow the filter to see older ones.",
                                    )}
                                </p>
                            }
                        })}
                }
                    .into_any()
            }}
        </section>
    }
}
