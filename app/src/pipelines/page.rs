//! The pipelines pages: the list with a lead's form to add one, and a pipeline's page with its
//! stages, the cheapest combination within its SLA and the frontier of cost against quality.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::search::Combination;
use super::{
    BlendPipeline, CreatePipeline, DeletePipeline, KeepRoute, PipelineView, PipelinesView,
    StageView, StopRoute, UpdatePipeline,
};
use crate::auth::Role;
use crate::components::{
    action_error, reset_on_success, successes, ActionButton, Explain, Field, FieldMessage,
    FormActions, FormAlert, Loaded, Notice, PageHeader, WithUser,
};
use crate::format::{format_count, format_number};

#[component]
pub fn PipelinesPage() -> impl IntoView {
    let create = ServerAction::<CreatePipeline>::new();
    let created = successes(create);
    let data = Resource::new(move || created.get(), |_| super::load_pipelines());
    view! {
        <Title text="Pipelines · Pareto" />
        <PageHeader
            title="Pipelines"
            lead="Models chained in stages, chosen together: each stage's candidates are an experiment's runs, priced at the traffic and fan-out the stage sees, and every combination is timed end to end against the pipeline's SLA."
        />
        <p>
            <a href="/portfolio">"Budget portfolio"</a>
            ": one candidate per experiment, chosen together for the most value within a monthly budget."
        </p>
        <Loaded
            resource=data
            children=move |data: PipelinesView| {
                let teams = data.teams.clone();
                view! {
                    <section class="card">
                        <PipelineTable data=data />
                    </section>
                    <WithUser children=move |user| {
                        let teams = teams.clone();
                        user.can(Role::Lead)
                            .then(|| view! { <PipelineForm create=create teams=teams /> })
                    } />
                }
            }
        />
    }
}

#[component]
fn PipelineTable(data: PipelinesView) -> impl IntoView {
    if data.pipelines.is_empty() {
        return view! {
            <p class="muted">
                "No pipelines yet. A lead adds one below from the experiments of its stages."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Pipeline"</th>
                        <th scope="col">"Team"</th>
                        <th scope="col">"Stages"</th>
                        <th scope="col">"SLA"</th>
                        <th scope="col" class="numeric">
                            "Requests a month"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {data
                        .pipelines
                        .into_iter()
                        .map(|p| {
                            view! {
                                <tr>
                                    <td>
                                        <a href=format!("/pipelines/{}", p.pipeline_id)>{p.name}</a>
                                        {p
                                            .is_demo
                                            .then(|| {
                                                view! { <span class="badge badge-muted">"demo"</span> }
                                            })}
                                    </td>
                                    <td>{p.team}</td>
                                    <td>{p.stages.join(" → ")}</td>
                                    <td>{p.sla.join("; ")}</td>
                                    <td class="numeric">
                                        {format_count(
                                            i64::try_from(p.monthly_volume).unwrap_or(i64::MAX),
                                        )}
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
}

#[component]
fn PipelineForm(
    create: ServerAction<CreatePipeline>,
    teams: Vec<(uuid::Uuid, String)>,
) -> impl IntoView {
    let error = action_error(create);
    let form = reset_on_success(create);
    let message = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(name)))
    };
    let area = move |name: &'static str, label: &'static str, hint: &'static str| {
        lines_field("pipeline-", name, label, hint, String::new(), message(name))
    };
    view! {
        <section class="card">
            <h2>"Add a pipeline"</h2>
            <ActionForm
                action=create
                node_ref=form
                attr:class="form grid-form"
                attr:novalidate="true"
            >
                <FormAlert error=error />
                <Field
                    name="name"
                    label="Name"
                    hint="e.g. Home feed"
                    required=true
                    error=error
                    id_prefix="pipeline-"
                />
                <div class="field">
                    <label for="pipeline-team_id">"Team"</label>
                    <select id="pipeline-team_id" name="team_id">
                        {teams
                            .into_iter()
                            .map(|(id, name)| {
                                view! { <option value=id.to_string()>{name}</option> }
                            })
                            .collect_view()}
                    </select>
                    <FieldMessage id="pipeline-team_id-error" message=message("team_id") />
                </div>
                {area("stages", "Stages", STAGES_HINT)}
                {area("sla", "End-to-end SLA", SLA_HINT)}
                <Field
                    name="monthly_volume"
                    label="Requests a month"
                    hint="e.g. 10000000"
                    required=true
                    error=error
                    id_prefix="pipeline-"
                />
                <div class="field">
                    <label for="pipeline-currency">"Currency"</label>
                    <input id="pipeline-currency" name="currency" value="USD" />
                    <FieldMessage id="pipeline-currency-error" message=message("currency") />
                </div>
                <input type="hidden" name="description" value="" />
                <FormActions label="Add pipeline" pending=create.pending() />
            </ActionForm>
        </section>
    }
}

/// A text area of lines, with its hint, its value and its error.
fn lines_field(
    prefix: &'static str,
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="field wide">
            <label for=format!("{prefix}{name}")>{label}</label>
            <p class="hint" id=format!("{prefix}{name}-hint")>
                {hint}
            </p>
            <textarea
                id=format!("{prefix}{name}")
                name=name
                rows="3"
                aria-describedby=format!("{prefix}{name}-hint")
            >
                {value}
            </textarea>
            <FieldMessage id=format!("{prefix}{name}-error") message=message />
        </div>
    }
}

const STAGES_HINT: &str = "One per line, in order: name | experiment | share of requests reaching it | items scored per request, e.g. retrieval | Candidate retrieval | 100% | 1, then ranker | Recommender ranking | 100% | 100";
const SLA_HINT: &str = "One per line: p95 <= 120 ms, ndcg@10 >= 0.44, monthly <= 8000";

#[component]
pub fn PipelinePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
    });
    let update = ServerAction::<UpdatePipeline>::new();
    let keep = ServerAction::<KeepRoute>::new();
    let stop = ServerAction::<StopRoute>::new();
    let (updated, kept, stopped) = (successes(update), successes(keep), successes(stop));
    let data = Resource::new(
        move || (id.get(), updated.get(), kept.get(), stopped.get()),
        |(id, ..)| async move {
            match id {
                Some(id) => super::load_pipeline(id).await,
                None => Err(crate::error::AppError::NotFound("No such pipeline.".into())),
            }
        },
    );
    view! {
        <p class="breadcrumb">
            <a href="/pipelines">"Pipelines"</a>
        </p>
        <Loaded
            resource=data
            children=move |view| {
                view! { <Pipeline view=view update=update keep=keep stop=stop /> }
            }
        />
    }
}

#[component]
fn Pipeline(
    view: PipelineView,
    update: ServerAction<UpdatePipeline>,
    keep: ServerAction<KeepRoute>,
    stop: ServerAction<StopRoute>,
) -> impl IntoView {
    let delete = ServerAction::<DeletePipeline>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if delete.value().with(|v| matches!(v, Some(Ok(_)))) {
            navigate("/pipelines", Default::default());
        }
    });
    let currency = view.currency.clone();
    let lead = format!(
        "{} stages for {}, {} requests a month. SLA: {}.",
        view.stages.len(),
        view.team,
        format_count(i64::try_from(view.monthly_volume).unwrap_or(i64::MAX)),
        if view.sla.is_empty() {
            "none".to_owned()
        } else {
            view.sla
                .iter()
                .map(|(_, shown)| shown.clone())
                .collect::<Vec<_>>()
                .join("; ")
        }
    );
    let stages = view.stages.clone();
    let volume = view.monthly_volume;
    let metric = crate::experiments::metric_label(&view.metric);
    let delete_fields = vec![("pipeline_id", view.pipeline_id.to_string())];
    let name = view.name.clone();
    let editing = view.clone();
    view! {
        <Title text=format!("{} · Pareto", view.name) />
        <PageHeader title=view.name.clone() lead=lead />
        <p>
            "Evaluation report, "
            <a href=format!("/pipelines/{}/report.html", view.pipeline_id) target="_blank">
                "to print (A4)"
            </a> " or " <a href=format!("/pipelines/{}/report.md", view.pipeline_id) download="">
                "as Markdown"
            </a>
            ": the stages and their candidates, the recommendation, the frontier and the assumptions."
        </p>
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
                let best = found.best.clone();
                view! {
                    <section class="card" aria-labelledby="best-heading">
                        <h2 id="best-heading">"Cheapest within the SLA"</h2>
                        {match best {
                            Some(best) => {
                                view! {
                                    <CombinationFigures
                                        combination=best
                                        stages=stages.clone()
                                        currency=currency.clone()
                                        metric=metric.clone()
                                        volume=volume
                                    />
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <p>
                                        "No combination meets the SLA. The frontier below shows what each budget buys within its latency bound."
                                    </p>
                                }
                                    .into_any()
                            }
                        }}
                        <p class="muted small">
                            {format!(
                                "{} combinations; {} searched after leaving out candidates another of their stage beats on cost, p50 and p95 (and, in the last stage, {metric}).",
                                format_count(i64::try_from(found.combinations).unwrap_or(i64::MAX)),
                                format_count(i64::try_from(found.searched).unwrap_or(i64::MAX)),
                            )}
                        </p>
                    </section>
                    <section class="card" aria-labelledby="frontier-heading">
                        <h2 id="frontier-heading">"Frontier: cost against " {metric.clone()}</h2>
                        <FrontierChart pipeline_id=view.pipeline_id metric=metric.clone() />
                        <FrontierTable
                            frontier=found.frontier
                            stages=stages.clone()
                            currency=currency.clone()
                        />
                    </section>
                }
            })}
        {(!view.measured.is_empty())
            .then(|| {
                view! {
                    <section class="card" aria-labelledby="measured-heading">
                        <h2 id="measured-heading">"Measured end to end"</h2>
                        <p class="muted">
                            "These combinations' quality was measured as a whole (posted to /api/v1/pipelines/{id}/runs); it wins over the last stage's own figure."
                        </p>
                        <ul>
                            {view
                                .measured
                                .iter()
                                .map(|(names, value)| {
                                    view! {
                                        <li>
                                            {format!(
                                                "{}: {}",
                                                names.join(" → "),
                                                format_number(*value),
                                            )}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                }
            })}
        <WithUser children=move |user| {
            let editing = editing.clone();
            user.can(Role::Lead).then(|| view! { <EditForm view=editing update=update /> })
        } />
        {view
            .route
            .clone()
            .map(|route| {
                view! {
                    <RouteInUse
                        route=route
                        pipeline_id=view.pipeline_id
                        stages=view.stages.clone()
                        currency=view.currency.clone()
                        stop=stop
                    />
                }
            })}
        <HybridForm
            pipeline_id=view.pipeline_id
            stages=view.stages.clone()
            currency=view.currency.clone()
            keep=keep
        />
        {view
            .stages
            .into_iter()
            .enumerate()
            .map(|(index, stage)| {
                view! { <StageCard index=index stage=stage currency=view.currency.clone() /> }
            })
            .collect_view()}
        <section class="card">
            <p class="muted small">
                "Each stage is priced at the items it scores a month (requests × share × fan-out), its runs' cost per 1,000 at that volume. End-to-end latency takes each stage's latency as log-normal from its p50 and p95 and sums the stages by their means and variances (a stage reached by a share of requests adds to that share only); the summed p95s, every stage slow at once, is the upper bound. A run without a p50 is taken to always take its p95."
            </p>
            <WithUser children=move |user| {
                let fields = delete_fields.clone();
                let name = name.clone();
                user.can(Role::Lead)
                    .then(|| {
                        view! {
                            <ActionButton
                                action=delete
                                fields=fields
                                text="Delete pipeline"
                                label=format!("Delete pipeline {name}")
                            />
                        }
                    })
            } />
        </section>
    }
}

/// A lead changes the pipeline whole: its stages, SLA and volume as the add form takes them,
/// filled with what it has.
#[component]
fn EditForm(view: PipelineView, update: ServerAction<UpdatePipeline>) -> impl IntoView {
    let error = action_error(update);
    let message = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(name)))
    };
    let stages = view
        .stages
        .iter()
        .map(|s| {
            // An experiment whose name holds a bar is named by its id.
            let experiment = if s.experiment.contains('|') {
                s.experiment_id.to_string()
            } else {
                s.experiment.clone()
            };
            format!(
                "{} | {experiment} | {}% | {}",
                s.stage.name,
                (s.stage.share * 100_000.0).round() / 1000.0,
                s.stage.fan_out
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let sla = view
        .sla
        .iter()
        .map(|(stored, _)| stored.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let input = move |name: &'static str, label: &'static str, value: String| {
        view! {
            <div class="field">
                <label for=format!("edit-{name}")>{label}</label>
                <input id=format!("edit-{name}") name=name value=value />
                <FieldMessage id=format!("edit-{name}-error") message=message(name) />
            </div>
        }
    };
    view! {
        <section class="card">
            <details class="inline-details" open=move || error.get().is_some()>
                <summary>"Change the pipeline: stages, SLA, volume"</summary>
                <ActionForm action=update attr:class="form grid-form" attr:novalidate="true">
                    <FormAlert error=error />
                    <input type="hidden" name="pipeline_id" value=view.pipeline_id.to_string() />
                    <input type="hidden" name="description" value=view.description.clone() />
                    {input("name", "Name", view.name.clone())}
                    {lines_field(
                        "edit-",
                        "stages",
                        "Stages",
                        STAGES_HINT,
                        stages,
                        message("stages"),
                    )}
                    {lines_field("edit-", "sla", "End-to-end SLA", SLA_HINT, sla, message("sla"))}
                    {input("monthly_volume", "Requests a month", view.monthly_volume.to_string())}
                    {input("currency", "Currency", view.currency.clone())}
                    <FormActions label="Save changes" pending=update.pending() />
                </ActionForm>
            </details>
        </section>
    }
}

/// How a combination's cost per 1,000 requests, its month and its latency are worked out, with
/// each stage's figures.
fn explanations(
    combination: &Combination,
    stages: &[StageView],
    currency: &str,
    volume: u64,
) -> (String, String, String) {
    let parts: Vec<(String, &super::Candidate, &StageView)> = combination
        .picks
        .iter()
        .zip(stages)
        .map(|(pick, stage)| {
            let c = &stage.stage.candidates[*pick];
            (
                format!(
                    "{}% × {} × {} ({}: {})",
                    format_number(stage.stage.share * 100.0),
                    format_number(stage.stage.fan_out),
                    format_number((c.cost_per_1k * 10_000.0).round() / 10_000.0),
                    stage.stage.name,
                    c.name
                ),
                c,
                stage,
            )
        })
        .collect();
    let cost = format!(
        "Each stage's share of requests × items scored per request × its candidate's cost per 1,000 items (priced at the items the stage scores a month), summed: {} = {}.",
        parts
            .iter()
            .map(|(text, ..)| text.clone())
            .collect::<Vec<_>>()
            .join(" + "),
        money(combination.cost_per_1k, currency)
    );
    let month = format!(
        "The cost per 1,000 requests × the requests a month ÷ 1,000: {} × {} ÷ 1,000 = {}.",
        money(combination.cost_per_1k, currency),
        format_count(i64::try_from(volume).unwrap_or(i64::MAX)),
        money(combination.monthly.round(), currency)
    );
    let latency = format!(
        "Each stage's latency taken as log-normal from its p50 and p95, the stages summed by their means and variances (Fenton–Wilkinson), a stage reached by a share of requests counted for that share. The upper bound is every stage at its p95 at once: {} = {:.0} ms.",
        parts
            .iter()
            .map(|(_, c, stage)| format!("{:.0} ms ({})", c.p95_ms, stage.stage.name))
            .collect::<Vec<_>>()
            .join(" + "),
        combination.p95_upper_ms
    );
    (cost, month, latency)
}

/// One pick per stage, as "stage: run name".
fn picks(combination: &Combination, stages: &[StageView]) -> String {
    combination
        .picks
        .iter()
        .zip(stages)
        .map(|(pick, stage)| {
            let candidate = &stage.stage.candidates[*pick];
            format!("{}: {}", stage.stage.name, candidate.name)
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn money(value: f64, currency: &str) -> String {
    format!(
        "{} {currency}",
        format_number((value * 10_000.0).round() / 10_000.0)
    )
}

#[component]
fn CombinationFigures(
    combination: Combination,
    stages: Vec<StageView>,
    currency: String,
    metric: String,
    volume: u64,
) -> impl IntoView {
    let bottleneck = stages
        .get(combination.bottleneck)
        .map(|s| s.stage.name.clone())
        .unwrap_or_default();
    let (cost_how, month_how, latency_how) = explanations(&combination, &stages, &currency, volume);
    view! {
        <p class="pipeline-picks">
            <strong>{picks(&combination, &stages)}</strong>
        </p>
        <dl class="figures">
            <div>
                <dt>"Per 1,000 requests"</dt>
                <dd>{money(combination.cost_per_1k, &currency)} <Explain text=cost_how /></dd>
            </div>
            <div>
                <dt>"A month"</dt>
                <dd>{money(combination.monthly.round(), &currency)} <Explain text=month_how /></dd>
            </div>
            <div>
                <dt>"p50 / p95"</dt>
                <dd>
                    {format!(
                        "{:.0} / {:.0} ms (at most {:.0})",
                        combination.p50_ms,
                        combination.p95_ms,
                        combination.p95_upper_ms,
                    )} <Explain text=latency_how />
                </dd>
            </div>
            <div>
                <dt>{metric}</dt>
                <dd>{combination.quality.map_or("—".to_owned(), format_number)}</dd>
            </div>
            <div>
                <dt>"Bottleneck stage"</dt>
                <dd>{bottleneck}</dd>
            </div>
        </dl>
    }
}

#[component]
fn FrontierTable(
    frontier: Vec<Combination>,
    stages: Vec<StageView>,
    currency: String,
) -> impl IntoView {
    if frontier.is_empty() {
        return view! {
            <p class="muted">
                "No combination with a measured quality keeps the SLA's latency and money bounds."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Combination"</th>
                        <th scope="col" class="numeric">
                            "Per 1,000"
                        </th>
                        <th scope="col" class="numeric">
                            "A month"
                        </th>
                        <th scope="col" class="numeric">
                            "p95 (upper bound)"
                        </th>
                        <th scope="col" class="numeric">
                            "Quality"
                        </th>
                        <th scope="col">"Bottleneck"</th>
                    </tr>
                </thead>
                <tbody>
                    {frontier
                        .into_iter()
                        .map(|c| {
                            let bottleneck = stages
                                .get(c.bottleneck)
                                .map(|s| s.stage.name.clone())
                                .unwrap_or_default();
                            view! {
                                <tr>
                                    <td>{picks(&c, &stages)}</td>
                                    <td class="numeric">{money(c.cost_per_1k, &currency)}</td>
                                    <td class="numeric">{money(c.monthly.round(), &currency)}</td>
                                    <td class="numeric">
                                        {format!("{:.0} ms ({:.0})", c.p95_ms, c.p95_upper_ms)}
                                    </td>
                                    <td class="numeric">
                                        {c.quality.map_or("—".to_owned(), format_number)}
                                    </td>
                                    <td>{bottleneck}</td>
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

#[component]
fn StageCard(index: usize, stage: StageView, currency: String) -> impl IntoView {
    let heading = format!("stage-{index}-heading");
    let fan_out = if stage.stage.fan_out == 1.0 {
        "1 item".to_owned()
    } else {
        format!("{} items", format_number(stage.stage.fan_out))
    };
    let about = format!(
        "{:.0}% of requests reach it, {fan_out} scored each: {} items a month from experiment {}.",
        stage.stage.share * 100.0,
        format_count(i64::try_from(stage.items_per_month).unwrap_or(i64::MAX)),
        stage.experiment,
    );
    view! {
        <section class="card" aria-labelledby=heading.clone()>
            <div class="card-head">
                <h2 id=heading.clone()>{format!("Stage {}: {}", index + 1, stage.stage.name)}</h2>
                <a class="small" href=format!("/experiments/{}", stage.experiment_id)>
                    "Its experiment"
                </a>
            </div>
            <p class="muted">{about}</p>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Run"</th>
                            <th scope="col" class="numeric">
                                "Per 1,000 items"
                            </th>
                            <th scope="col" class="numeric">
                                "p50"
                            </th>
                            <th scope="col" class="numeric">
                                "p95"
                            </th>
                            <th scope="col" class="numeric">
                                "Quality"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {stage
                            .stage
                            .candidates
                            .into_iter()
                            .map(|c| {
                                view! {
                                    <tr>
                                        <td>{c.name}</td>
                                        <td class="numeric">{money(c.cost_per_1k, &currency)}</td>
                                        <td class="numeric">{format!("{:.0} ms", c.p50_ms)}</td>
                                        <td class="numeric">{format!("{:.0} ms", c.p95_ms)}</td>
                                        <td class="numeric">
                                            {c.quality.map_or("—".to_owned(), format_number)}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {(!stage.left_out.is_empty())
                .then(|| {
                    view! {
                        <p class="muted small">
                            {format!("Left out: {}.", stage.left_out.join("; "))}
                        </p>
                    }
                })}
        </section>
    }
}

/// Hybrid routing: a share of requests to a heavier candidate of one stage, on the cheapest
/// combination; the blend's figures and what it saves against sending every request heavy.
#[component]
fn HybridForm(
    pipeline_id: uuid::Uuid,
    stages: Vec<StageView>,
    currency: String,
    keep: ServerAction<KeepRoute>,
) -> impl IntoView {
    let action = ServerAction::<BlendPipeline>::new();
    let keep_error = action_error(keep);
    let error = action_error(action);
    let message = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(name)))
    };
    let options: Vec<(String, String)> = stages
        .iter()
        .enumerate()
        .flat_map(|(s, stage)| {
            stage
                .stage
                .candidates
                .iter()
                .enumerate()
                .map(move |(c, candidate)| {
                    (
                        format!("{}:{}", s + 1, c + 1),
                        format!("{}: {}", stage.stage.name, candidate.name),
                    )
                })
        })
        .collect();
    let select = move |name: &'static str, label: &'static str, chosen: usize| {
        let options = options.clone();
        view! {
            <div class="field">
                <label for=format!("hybrid-{name}")>{label}</label>
                <select id=format!("hybrid-{name}") name=name>
                    {options
                        .into_iter()
                        .enumerate()
                        .map(|(index, (value, text))| {
                            view! {
                                <option value=value selected=index == chosen>
                                    {text}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <FieldMessage id=format!("hybrid-{name}-error") message=message(name) />
            </div>
        }
    };
    // By default, the last stage's first candidate for most requests and its last for the share.
    let total = stages
        .iter()
        .map(|s| s.stage.candidates.len())
        .sum::<usize>();
    let last = total.saturating_sub(1);
    let first_of_last = total - stages.last().map_or(0, |s| s.stage.candidates.len());
    let result = move || {
        action.value().get().and_then(Result::ok).map(|blend| {
            let currency = currency.clone();
            // The stage routed is where the two sides differ (any, when they are the same).
            let stage = blend
                .light
                .picks
                .iter()
                .zip(&blend.heavy.picks)
                .position(|(l, h)| l != h)
                .unwrap_or(0);
            let side = |picks: &[usize]| format!("{}:{}", stage + 1, picks[stage] + 1);
            let fields = (
                side(&blend.light.picks),
                side(&blend.heavy.picks),
                format!("{}", (blend.share * 100_000.0).round() / 1000.0),
            );
            view! {
                <BlendFigures blend=blend currency=currency />
                <WithUser children=move |user| {
                    let (light, heavy, share) = fields.clone();
                    user.can(Role::Lead)
                        .then(|| {
                            view! {
                                <ActionForm action=keep attr:class="form inline-fields">
                                    <FormAlert error=keep_error />
                                    <input
                                        type="hidden"
                                        name="pipeline_id"
                                        value=pipeline_id.to_string()
                                    />
                                    <input type="hidden" name="light" value=light />
                                    <input type="hidden" name="heavy" value=heavy />
                                    <input type="hidden" name="share_pct" value=share />
                                    <FormActions label="Keep this route" pending=keep.pending() />
                                </ActionForm>
                            }
                        })
                } />
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="hybrid-heading">
            <h2 id="hybrid-heading">"Hybrid routing"</h2>
            <p class="muted">
                "Send a share of requests (the high-value users, say) to a heavier candidate of one stage, on the cheapest combination: cost and quality blend by the share, latency is the mixture of the two paths."
            </p>
            <ActionForm action=action attr:class="form grid-form" attr:novalidate="true">
                <FormAlert error=error />
                <input type="hidden" name="pipeline_id" value=pipeline_id.to_string() />
                {select("light", "Most requests to", first_of_last)}
                {select("heavy", "The share to", last)}
                <div class="field">
                    <label for="hybrid-share_pct">"Share to the heavy one (%)"</label>
                    <input id="hybrid-share_pct" name="share_pct" inputmode="decimal" value="10" />
                    <FieldMessage id="hybrid-share_pct-error" message=message("share_pct") />
                </div>
                <FormActions label="Blend" pending=action.pending() />
            </ActionForm>
            {result}
        </section>
    }
}

/// A blend's figures: what the route costs, how fast it answers, its quality and what it saves.
#[component]
fn BlendFigures(blend: super::hybrid::Blend, currency: String) -> impl IntoView {
    view! {
        <dl class="figures" data-testid="hybrid">
            <div>
                <dt>"Per 1,000 requests"</dt>
                <dd>{money(blend.cost_per_1k, &currency)}</dd>
            </div>
            <div>
                <dt>"A month"</dt>
                <dd>{money(blend.monthly.round(), &currency)}</dd>
            </div>
            <div>
                <dt>"p50 / p95"</dt>
                <dd>{format!("{:.0} / {:.0} ms", blend.p50_ms, blend.p95_ms)}</dd>
            </div>
            <div>
                <dt>"Quality"</dt>
                <dd>{blend.quality.map_or("—".to_owned(), format_number)}</dd>
            </div>
            <div>
                <dt>"Saved against all heavy"</dt>
                <dd>
                    {format!("{} a month", money(blend.saving_per_month.round(), &currency))}
                    <Explain text=format!(
                        "Every request to the heavy candidate would cost {} a month; this route sends {:.0}% there and the rest to the light one.",
                        money(blend.heavy.monthly.round(), &currency),
                        blend.share * 100.0,
                    ) />
                </dd>
            </div>
        </dl>
    }
}

/// The route a lead keeps on the pipeline, worked out again on every visit.
#[component]
fn RouteInUse(
    route: super::Route,
    pipeline_id: uuid::Uuid,
    stages: Vec<StageView>,
    currency: String,
    stop: ServerAction<StopRoute>,
) -> impl IntoView {
    let stage = stages.get(route.stage);
    let name = |key: &str| {
        stage
            .and_then(|s| s.stage.candidates.iter().find(|c| c.run == key))
            .map_or_else(|| key.to_owned(), |c| c.name.clone())
    };
    let about = format!(
        "{:.0}% of requests go to {} in the {} stage, the rest to {}.",
        route.share * 100.0,
        name(&route.heavy),
        stage.map(|s| s.stage.name.clone()).unwrap_or_default(),
        name(&route.light),
    );
    let fields = vec![("pipeline_id", pipeline_id.to_string())];
    view! {
        <section class="card" aria-labelledby="route-heading" data-testid="route">
            <h2 id="route-heading">"Route in use"</h2>
            <p>{about}</p>
            {match (route.blend, route.problem) {
                (Some(blend), _) => {
                    view! { <BlendFigures blend=blend currency=currency /> }.into_any()
                }
                (None, why) => {
                    view! {
                        <Notice kind="error">
                            {format!("It cannot be worked out now: {}", why.unwrap_or_default())}
                        </Notice>
                    }
                        .into_any()
                }
            }}
            <WithUser children=move |user| {
                let fields = fields.clone();
                user.can(Role::Lead)
                    .then(|| {
                        view! {
                            <ActionButton
                                action=stop
                                fields=fields
                                text="Stop routing"
                                label="Stop the hybrid route"
                            />
                        }
                    })
            } />
        </section>
    }
}

/// The frontier drawn on the server, light or dark with the page.
#[component]
fn FrontierChart(pipeline_id: uuid::Uuid, metric: String) -> impl IntoView {
    let base = format!("/charts/pipelines/{pipeline_id}/frontier.svg");
    let description = format!(
        "{metric} against the end-to-end cost per 1,000 requests of the combinations on the frontier, joined by the line; the cheapest within the SLA is ringed."
    );
    view! {
        <figure class="chart frontier">
            <picture>
                <source media="(prefers-color-scheme: dark)" srcset=format!("{base}?theme=dark") />
                <img
                    src=format!("{base}?theme=light")
                    alt=description
                    width="720"
                    height="360"
                    loading="lazy"
                />
            </picture>
        </figure>
    }
}
