//! The catalog: every model by tier, filtered and sorted in the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use super::tier::Tier;
use super::{CatalogModel, CreateModel, ModelStatus, WINDOW_DAYS};
use crate::auth::Role;
use crate::components::{
    action_error, reset_on_success, successes, Choice, Field, FieldMessage, FormActions, FormAlert,
    Loaded, PageHeader, WithUser,
};
use crate::drift::DriftState;
use crate::experiments::TaskType;
use crate::format::{format_latency, format_money, format_money_or_dash};
use crate::teams::TeamChoices;

/// What the catalog is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortBy {
    Name,
    CostPerThousand,
    Quality,
    P95,
    MonthlySpend,
}

impl SortBy {
    const ALL: [(SortBy, &'static str, &'static str); 5] = [
        (SortBy::CostPerThousand, "cost", "Cost per 1,000 requests"),
        (SortBy::MonthlySpend, "spend", "Spend, last 30 days"),
        (SortBy::P95, "p95", "p95 latency"),
        (SortBy::Quality, "quality", "Quality"),
        (SortBy::Name, "name", "Name"),
    ];

    fn from_key(key: &str) -> SortBy {
        Self::ALL
            .iter()
            .find(|(_, k, _)| *k == key)
            .map_or(SortBy::CostPerThousand, |(s, _, _)| *s)
    }
}

/// The browser-side filter over the loaded catalog.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filter {
    search: String,
    task: String,
    team: String,
    status: String,
    drift: String,
}

impl Filter {
    fn keeps(&self, model: &CatalogModel) -> bool {
        let search = self.search.trim().to_lowercase();
        (search.is_empty() || model.name.to_lowercase().contains(&search))
            && (self.task.is_empty() || model.task.as_str() == self.task)
            && (self.team.is_empty() || model.team.as_deref() == Some(self.team.as_str()))
            && (self.status.is_empty()
                || model.status().map(ModelStatus::as_str) == Some(self.status.as_str()))
            && (self.drift.is_empty() || model.drift.as_str() == self.drift)
    }
}

fn sort(models: &mut [CatalogModel], by: SortBy) {
    // Unmeasured models go last whatever the order.
    let key_f64 = |model: &CatalogModel| -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        match by {
            SortBy::Name => None,
            SortBy::CostPerThousand => model.figures.cost_per_1k.and_then(|v| v.to_f64()),
            SortBy::MonthlySpend => model
                .figures
                .monthly_cost
                .and_then(|v| v.to_f64())
                .map(|v| -v),
            SortBy::P95 => model.figures.p95_ms,
            // higher first: quality metrics here are the primary metric, read as recorded
            SortBy::Quality => model.quality.as_ref().map(|(_, v)| -v),
        }
    };
    models.sort_by(|a, b| match by {
        SortBy::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        _ => match (key_f64(a), key_f64(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        },
    });
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let create = ServerAction::<CreateModel>::new();
    let created = successes(create);
    let catalog = Resource::new(move || created.get(), |_| super::list_catalog());
    let teams = Resource::new(|| (), |_| crate::teams::own_teams());
    view! {
        <Title text="Catalog · Pareto" />
        <PageHeader
            title="Model catalog"
            lead="Every model with what it costs, how fast and how good it is, sorted into tiers by the tier rules. Figures are measured from the last 30 days of telemetry."
        />
        <p class="subnav">
            <a href="/catalog/tiers">"Tier rules"</a>
        </p>
        <Loaded resource=catalog children=move |models| view! { <Catalog models=models /> } />
        <WithUser children=move |user| {
            user.can(Role::Member).then(|| view! { <AddModel create=create teams=teams /> })
        } />
    }
}

#[component]
fn Catalog(models: Vec<CatalogModel>) -> impl IntoView {
    if models.is_empty() {
        return view! {
            <section class="card">
                <p class="muted">
                    "No models yet. Add one below, or link a deployment to a model on the Fleet page: the model is created with it."
                </p>
            </section>
        }
        .into_any();
    }
    let filter = RwSignal::new(Filter::default());
    let sort_by = RwSignal::new(SortBy::CostPerThousand);
    let mut teams: Vec<String> = models.iter().filter_map(|m| m.team.clone()).collect();
    teams.sort();
    teams.dedup();
    let any = |label: &str, values: Vec<(String, String)>| {
        std::iter::once((String::new(), label.to_owned()))
            .chain(values)
            .collect::<Vec<_>>()
    };
    let tasks = any(
        "Any task",
        TaskType::ALL
            .iter()
            .map(|t| (t.as_str().to_owned(), t.label().to_owned()))
            .collect(),
    );
    let statuses = any(
        "Any status",
        ModelStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
            .collect(),
    );
    let team_options = any(
        "Any team",
        teams.into_iter().map(|t| (t.clone(), t)).collect(),
    );
    let models = StoredValue::new(models);
    let shown = move |tier: Tier| {
        let filter = filter.get();
        let mut list: Vec<CatalogModel> = models
            .get_value()
            .into_iter()
            .filter(|m| m.placement.tier == tier && filter.keeps(m))
            .collect();
        sort(&mut list, sort_by.get());
        list
    };
    view! {
        <section class="card">
            <div class="filters" role="search" aria-label="Filter the catalog">
                <div class="field compact">
                    <label for="catalog-search">"Search"</label>
                    <input
                        id="catalog-search"
                        type="search"
                        placeholder="Model name"
                        on:input=move |ev| filter.update(|f| f.search = event_target_value(&ev))
                    />
                </div>
                <Choice
                    id="catalog-task"
                    label="Task"
                    options=tasks
                    value=String::new()
                    set=move |v| filter.update(|f| f.task = v)
                />
                <Choice
                    id="catalog-team"
                    label="Team"
                    options=team_options
                    value=String::new()
                    set=move |v| filter.update(|f| f.team = v)
                />
                <Choice
                    id="catalog-status"
                    label="Status"
                    options=statuses
                    value=String::new()
                    set=move |v| filter.update(|f| f.status = v)
                />
                <Choice
                    id="catalog-drift"
                    label="Drift"
                    options=std::iter::once((String::new(), "Any".to_owned()))
                        .chain(
                            DriftState::ALL
                                .iter()
                                .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
                        )
                        .collect()
                    value=String::new()
                    set=move |v| filter.update(|f| f.drift = v)
                />
                <Choice
                    id="catalog-sort"
                    label="Sort by"
                    options=SortBy::ALL
                        .iter()
                        .map(|(_, k, l)| ((*k).to_owned(), (*l).to_owned()))
                        .collect()
                    value="cost".to_owned()
                    set=move |v| sort_by.set(SortBy::from_key(&v))
                />
            </div>
        </section>
        {Tier::ALL
            .into_iter()
            .map(|tier| {
                view! {
                    <section class="card" aria-labelledby=format!("tier-{}", tier.number())>
                        <div class="card-head">
                            <h2 id=format!("tier-{}", tier.number())>{tier.label()}</h2>
                            <span class="muted small">{tier.purpose()}</span>
                        </div>
                        {move || {
                            let list = shown(tier);
                            if list.is_empty() {
                                view! { <p class="muted">"No model in this tier matches."</p> }
                                    .into_any()
                            } else {
                                view! { <ModelTable models=list /> }.into_any()
                            }
                        }}
                    </section>
                }
            })
            .collect_view()}
    }
    .into_any()
}

fn status_badge(status: Option<ModelStatus>) -> impl IntoView {
    status.map(|status| {
        let class = match status {
            ModelStatus::Production => "badge badge-success",
            ModelStatus::Staging => "badge badge-warning",
            ModelStatus::Draft | ModelStatus::Retired => "badge badge-muted",
        };
        view! { <span class=class>{status.label()}</span> }
    })
}

#[component]
fn ModelTable(models: Vec<CatalogModel>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Model"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Drift"</th>
                        <th scope="col" class="numeric">
                            "Cost per 1,000"
                        </th>
                        <th scope="col" class="numeric">
                            "p95"
                        </th>
                        <th scope="col" class="numeric">
                            "Quality"
                        </th>
                        <th scope="col" class="numeric">
                            {format!("Spend, {WINDOW_DAYS} days")}
                        </th>
                        <th scope="col">"Placed by"</th>
                    </tr>
                </thead>
                <tbody>
                    {models
                        .into_iter()
                        .map(|model| {
                            let currency = model.figures.currency.clone().unwrap_or_default();
                            let placed = match (
                                &model.placement.overridden,
                                &model.placement.rule,
                            ) {
                                (Some(o), _) => {
                                    view! {
                                        <span class="badge badge-warning" title=o.reason.clone()>
                                            "override"
                                        </span>
                                    }
                                        .into_any()
                                }
                                (None, Some(rule)) => {
                                    view! { <span class="small">{rule.clone()}</span> }.into_any()
                                }
                                (None, None) => {
                                    view! { <span class="muted small">"no rule matched"</span> }
                                        .into_any()
                                }
                            };
                            view! {
                                <tr>
                                    <td>
                                        <a
                                            class="strong"
                                            href=format!("/models/{}", model.model_id)
                                        >
                                            {model.name.clone()}
                                        </a>
                                        <div class="muted small">
                                            {model.task.label()}
                                            {model.team.clone().map(|team| format!(" · {team}"))}
                                        </div>
                                    </td>
                                    <td>{status_badge(model.status())}</td>
                                    <td>
                                        <crate::components::DriftBadge state=model.drift />
                                    </td>
                                    <td class="numeric">
                                        {format_money_or_dash(model.figures.cost_per_1k, &currency)}
                                        {model
                                            .figures
                                            .cost_per_1m_output
                                            .map(|v| {
                                                view! {
                                                    <div class="muted small">
                                                        {format!("{} / 1M out tokens", format_money(v, &currency))}
                                                    </div>
                                                }
                                            })}
                                    </td>
                                    <td class="numeric">{format_latency(model.figures.p95_ms)}</td>
                                    <td class="numeric">
                                        {super::format_quality(model.quality.as_ref())}
                                    </td>
                                    <td class="numeric">
                                        {format_money_or_dash(
                                            model.figures.monthly_cost,
                                            &currency,
                                        )}
                                    </td>
                                    <td class="placed-by">{placed}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The owner choice of the model forms: the person's own teams, and "No team" for an admin only.
pub(super) fn team_select(own: TeamChoices, selected: Option<uuid::Uuid>) -> impl IntoView {
    let everywhere = own.everywhere;
    view! {
        <select id="team_id" name="team_id">
            {everywhere
                .then(|| {
                    view! {
                        <option value="" selected=selected.is_none()>
                            "No team"
                        </option>
                    }
                })}
            {own
                .teams
                .into_iter()
                .map(|(id, name)| {
                    view! {
                        <option value=id.to_string() selected=selected == Some(id)>
                            {name}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

pub(super) fn task_select(selected: TaskType) -> impl IntoView {
    view! {
        <select id="task" name="task">
            {TaskType::ALL
                .iter()
                .map(|t| {
                    view! {
                        <option value=t.as_str() selected=*t == selected>
                            {t.label()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

#[component]
fn AddModel(
    create: ServerAction<CreateModel>,
    teams: crate::teams::TeamChoicesResource,
) -> impl IntoView {
    let error = action_error(create);
    let form = reset_on_success(create);
    let description_error =
        Signal::derive(move || error.get().and_then(|e| e.field_message("description")));
    view! {
        <section class="card">
            <h2>"Add a model"</h2>
            <p class="muted">
                "Versions, deployments and the model card come next, on the model's page."
            </p>
            <ActionForm
                action=create
                node_ref=form
                attr:class="form grid-form"
                attr:novalidate="true"
            >
                <FormAlert error=error />
                <Field name="name" label="Name" hint="e.g. fraud-lgbm" required=true error=error />
                <div class="field">
                    <label for="task">"Task"</label>
                    {task_select(TaskType::Classification)}
                </div>
                <div class="field">
                    <label for="team_id">"Owner team"</label>
                    <Loaded resource=teams children=|teams| team_select(teams, None) />
                </div>
                <div class="field wide">
                    <label for="description">"Description"</label>
                    <textarea id="description" name="description" rows="2"></textarea>
                    <FieldMessage id="description-error" message=description_error />
                </div>
                <FormActions label="Add model" pending=create.pending() />
            </ActionForm>
        </section>
    }
}
