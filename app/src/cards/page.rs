//! A version's model card: the rendered card, its metadata, the cost section computed from the
//! ledger, the editor, README.md import and export, and the revisions with their differences.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{CardPageData, CardView, DiffLineKind, ImportCard, SaveCard};
use crate::auth::Role;
use crate::components::{
    action_error, id_from_route, successes, Field, FieldMessage, FormActions, FormAlert, Loaded,
    Notice, Time, WithUser,
};

#[component]
pub fn CardPage() -> impl IntoView {
    let id = id_from_route();
    let save = ServerAction::<SaveCard>::new();
    let import = ServerAction::<ImportCard>::new();
    let (saved, imported) = (successes(save), successes(import));
    let card = Resource::new(
        move || (id.get(), saved.get(), imported.get()),
        |(id, ..)| super::load_card(id),
    );
    // (0, 0): the latest revision against the one before it
    let compare = RwSignal::new((0, 0));
    let diff = Resource::new(
        move || (id.get(), saved.get(), imported.get(), compare.get()),
        |(id, _, _, (from, to))| super::card_diff(id, from, to),
    );
    let parts = Parts {
        save,
        import,
        compare,
        diff,
    };
    view! {
        <Loaded
            resource=card
            children=move |page| {
                view! {
                    <WithUser children=move |user| {
                        view! {
                            <CardBody
                                page=page.clone()
                                can_edit=user.can(Role::Member)
                                parts=parts
                            />
                        }
                    } />
                }
            }
        />
    }
}

type DiffResource = Resource<Result<Vec<super::DiffLine>, crate::error::AppError>>;

/// The page's actions and resources, made outside the suspense that shows the card.
#[derive(Clone, Copy)]
struct Parts {
    save: ServerAction<SaveCard>,
    import: ServerAction<ImportCard>,
    compare: RwSignal<(i32, i32)>,
    diff: DiffResource,
}

#[component]
fn CardBody(page: CardPageData, can_edit: bool, parts: Parts) -> impl IntoView {
    let CardPageData {
        card,
        review,
        breaches,
        evaluations,
    } = page;
    let title = format!("{} {}", card.model, card.version);
    let export = format!("/cards/{}/README.md", card.model_version_id);
    let cost = card.cost.clone();
    let missing = card.missing_sections.clone();
    view! {
        <Title text=format!("Card of {title} · Pareto") />
        <p class="breadcrumb">
            <a href="/catalog">"Catalog"</a>
            " / "
            <a href=format!("/models/{}", card.model_id)>{card.model.clone()}</a>
            " / "
        </p>
        <div class="page-header">
            <h1>
                "Model card: " {title.clone()} " " <span class="badge">{card.status.label()}</span>
            </h1>
            <p class="lead">
                {match &card.current {
                    Some(r) => {
                        view! {
                            "Revision "
                            {r.revision}
                            " by "
                            {r.by.clone()}
                            ", "
                            <Time time=r.at />
                            "."
                        }
                            .into_any()
                    }
                    None => {
                        view! { "No card written yet: below is the template to start from." }
                            .into_any()
                    }
                }}
            </p>
        </div>
        {review.map(|review| view! { <ReviewLine review=review /> })}
        {(!evaluations.is_empty())
            .then(|| {
                view! {
                    <p class="evaluations">
                        "Evaluation reports: "
                        {evaluations
                            .into_iter()
                            .enumerate()
                            .map(|(index, e)| {
                                view! {
                                    {(index > 0).then_some("; ")}
                                    <a href=format!(
                                        "/experiments/{}/report.html",
                                        e.experiment_id,
                                    )>{e.experiment.clone()}</a>
                                    {if e.chose_it {
                                        " (chose this version)"
                                    } else {
                                        " (a candidate)"
                                    }}
                                }
                            })
                            .collect_view()}
                    </p>
                }
            })}
        {(card.versions.len() > 1)
            .then(|| {
                view! {
                    <nav class="subnav" aria-label="Versions">
                        {card
                            .versions
                            .iter()
                            .map(|(id, version)| {
                                let current = *id == card.model_version_id;
                                view! {
                                    <a
                                        href=format!("/cards/{id}")
                                        aria-current=current.then_some("page")
                                    >
                                        {version.clone()}
                                    </a>
                                }
                            })
                            .collect_view()}
                    </nav>
                }
            })}
        <div class="card-layout">
            <article class="card card-markdown" aria-label="The card">
                <div inner_html=card.html.clone()></div>
                {(!missing.is_empty())
                    .then(|| {
                        view! {
                            <Notice kind="warning">
                                "Sections still to write: " {missing.join(", ")} "."
                            </Notice>
                        }
                    })}
            </article>
            <aside class="card-side">
                <section class="card" aria-labelledby="cost-heading">
                    <h2 id="cost-heading">"Cost"</h2>
                    <p class="muted small">
                        "Computed from the ledger " <Time time=cost.computed_at /> "; never typed."
                    </p>
                    <dl class="cost-figures">
                        {cost
                            .figures()
                            .into_iter()
                            .map(|f| {
                                view! {
                                    <div data-figure=f.key.clone()>
                                        <dt>{f.label.clone()}</dt>
                                        <dd>
                                            <span class="strong">
                                                {f.value.clone().unwrap_or_else(|| "—".into())}
                                            </span>
                                            <span class="muted small">{f.basis.clone()}</span>
                                        </dd>
                                    </div>
                                }
                            })
                            .collect_view()}
                    </dl>
                </section>
                {(!breaches.is_empty())
                    .then(|| {
                        view! {
                            <section class="card" aria-labelledby="guardrails-heading">
                                <h2 id="guardrails-heading">"Guardrails broken"</h2>
                                <ul class="plain-list" data-testid="card-breaches">
                                    {breaches
                                        .iter()
                                        .map(|b| {
                                            let waived = b
                                                .waiver
                                                .as_ref()
                                                .map(|w| {
                                                    format!(" (waived until {})", w.until.format("%Y-%m-%d"))
                                                });
                                            view! {
                                                <li>
                                                    <span class="strong">{b.guardrail.clone()}</span>
                                                    {format!(
                                                        ": {}{}",
                                                        b.broken.join("; "),
                                                        waived.unwrap_or_default(),
                                                    )}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <a class="small" href="/guardrails">
                                    "All guardrails"
                                </a>
                            </section>
                        }
                    })}
                <section class="card" aria-labelledby="metadata-heading">
                    <h2 id="metadata-heading">"Metadata"</h2>
                    {if card.metadata.is_empty() {
                        view! {
                            <p class="muted">
                                "None yet: license, languages, datasets, base model, pipeline tag and tags."
                            </p>
                        }
                            .into_any()
                    } else {
                        view! {
                            <dl class="facts">
                                {card
                                    .metadata
                                    .iter()
                                    .map(|(k, v)| {
                                        view! {
                                            <dt>{k.clone()}</dt>
                                            <dd>{v.clone()}</dd>
                                        }
                                    })
                                    .collect_view()}
                            </dl>
                        }
                            .into_any()
                    }}
                    <p>
                        <a class="button small" href=export rel="external" download="README.md">
                            "Export README.md"
                        </a>
                    </p>
                </section>
            </aside>
        </div>
        {can_edit
            .then(|| view! { <Editor card=card.clone() save=parts.save import=parts.import /> })}
        <Revisions card=card.clone() compare=parts.compare diff=parts.diff />
    }
}

/// Where the version's latest promotion request stands, on the card.
#[component]
fn ReviewLine(review: crate::reviews::PromotionRequest) -> impl IntoView {
    use crate::reviews::ReviewState;
    let by = review
        .reviews
        .iter()
        .filter(|r| r.approve == (review.state == ReviewState::Approved))
        .map(|r| {
            if r.comment.is_empty() {
                r.reviewer.clone()
            } else {
                format!("{} (“{}”)", r.reviewer, r.comment)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (kind, text) = match review.state {
        ReviewState::Pending => (
            "info",
            format!(
                "Promotion to production {}: {}",
                review.status_line(),
                review.reasons.join(" ")
            ),
        ),
        ReviewState::Approved => ("success", format!("Promotion approved by {by}.")),
        ReviewState::Rejected => ("warning", format!("Promotion rejected by {by}.")),
    };
    view! { <Notice kind=kind>{text} " " <a href="/reviews">"Reviews"</a></Notice> }
}

#[component]
fn Editor(
    card: CardView,
    save: ServerAction<SaveCard>,
    import: ServerAction<ImportCard>,
) -> impl IntoView {
    let save_error = action_error(save);
    let import_error = action_error(import);
    let body_error = Signal::derive(move || save_error.get().and_then(|e| e.field_message("body")));
    let readme_error =
        Signal::derive(move || import_error.get().and_then(|e| e.field_message("readme")));
    let save_id = card.model_version_id.to_string();
    let import_id = save_id.clone();
    let form = card.form.clone();
    let text_field =
        move |name: &'static str, label: &'static str, hint: &'static str, value: String| {
            let message =
                Signal::derive(move || save_error.get().and_then(|e| e.field_message(name)));
            view! {
                <div class="field">
                    <label for=format!("card-{name}")>{label}</label>
                    <p class="hint">{hint}</p>
                    <input id=format!("card-{name}") name=name value=value />
                    <FieldMessage id=format!("card-{name}-error") message=message />
                </div>
            }
        };
    view! {
        <section class="card" aria-labelledby="edit-heading">
            <h2 id="edit-heading">"Edit the card"</h2>
            <p class="muted">
                "Each save is a new revision; the cost section is never edited, Pareto computes it."
            </p>
            <details class="inline-details" open=card.current.is_none()>
                <summary>"Write"</summary>
                <ActionForm action=save attr:class="form grid-form" attr:novalidate="true">
                    <FormAlert error=save_error />
                    <input type="hidden" name="model_version_id" value=save_id />
                    {text_field("license", "License", "e.g. apache-2.0, mit, other", form.license)}
                    {text_field(
                        "language",
                        "Languages",
                        "Comma-separated, e.g. en, de",
                        form.language,
                    )}
                    {text_field("datasets", "Datasets", "Comma-separated", form.datasets)}
                    {text_field(
                        "base_model",
                        "Base model",
                        "e.g. distilbert-base-uncased",
                        form.base_model,
                    )}
                    {text_field(
                        "pipeline_tag",
                        "Pipeline tag",
                        "e.g. text-classification",
                        form.pipeline_tag,
                    )}
                    {text_field("tags", "Tags", "Comma-separated", form.tags)}
                    <div class="field wide">
                        <label for="card-body">"Card (Markdown)"</label>
                        <textarea id="card-body" name="body" rows="18" class="mono">
                            {card.body.clone()}
                        </textarea>
                        <FieldMessage id="card-body-error" message=body_error />
                    </div>
                    <Field
                        name="note"
                        label="What changed"
                        hint="A few words for the revision history."
                        error=save_error
                        id_prefix="card-"
                    />
                    <FormActions label="Save revision" pending=save.pending() />
                </ActionForm>
            </details>
            <details class="inline-details">
                <summary>"Import a README.md"</summary>
                <ActionForm action=import attr:class="form" attr:novalidate="true">
                    <FormAlert error=import_error />
                    <input type="hidden" name="model_version_id" value=import_id />
                    <div class="field">
                        <label for="card-readme">"README.md"</label>
                        <p class="hint">
                            "A Hugging Face model card: YAML front matter between --- lines, then Markdown. A pareto key in it is ignored."
                        </p>
                        <textarea id="card-readme" name="readme" rows="10" class="mono"></textarea>
                        <FieldMessage id="card-readme-error" message=readme_error />
                    </div>
                    <FormActions label="Import" pending=import.pending() />
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn Revisions(card: CardView, compare: RwSignal<(i32, i32)>, diff: DiffResource) -> impl IntoView {
    let count = card.revisions.len() as i32;
    let (from, to) = {
        let (from, to) = compare.get_untracked();
        if from == 0 || to == 0 {
            ((count - 1).max(1), count.max(1))
        } else {
            (from, to)
        }
    };
    let options = move |selected: i32| {
        (1..=count)
            .rev()
            .map(|n| {
                view! {
                    <option value=n.to_string() selected=n == selected>
                        {format!("Revision {n}")}
                    </option>
                }
            })
            .collect_view()
    };
    let pick = move |which: usize, value: String| {
        let n = value.parse().unwrap_or(1);
        compare.update(|(from_now, to_now)| {
            if *from_now == 0 || *to_now == 0 {
                (*from_now, *to_now) = (from, to);
            }
            if which == 0 {
                *from_now = n;
            } else {
                *to_now = n;
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="revisions-heading">
            <h2 id="revisions-heading">"Revisions"</h2>
            {if card.revisions.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="revision-list" reversed>
                        {card
                            .revisions
                            .iter()
                            .map(|r| {
                                view! {
                                    <li>
                                        <span class="strong">
                                            {format!("Revision {}", r.revision)}
                                        </span>
                                        " · "
                                        {r.by.clone()}
                                        " · "
                                        <Time time=r.at />
                                        {(!r.note.is_empty()).then(|| format!(" · {}", r.note))}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
            {(count >= 2)
                .then(|| {
                    view! {
                        <div class="filters" role="group" aria-label="Compare revisions">
                            <div class="field compact">
                                <label for="diff-from">"Compare"</label>
                                <select
                                    id="diff-from"
                                    on:change=move |ev| pick(0, event_target_value(&ev))
                                >
                                    {options(from)}
                                </select>
                            </div>
                            <div class="field compact">
                                <label for="diff-to">"with"</label>
                                <select
                                    id="diff-to"
                                    on:change=move |ev| pick(1, event_target_value(&ev))
                                >
                                    {options(to)}
                                </select>
                            </div>
                        </div>
                        <Loaded
                            resource=diff
                            children=|lines| {
                                if lines.is_empty() {
                                    return view! {
                                        <p class="muted">"Choose two different revisions."</p>
                                    }
                                        .into_any();
                                }
                                view! {
                                    <pre class="diff" aria-label="Differences" tabindex="0">
                                        {lines
                                            .into_iter()
                                            .map(|line| {
                                                let (class, mark) = match line.kind {
                                                    DiffLineKind::Same => ("diff-same", "  "),
                                                    DiffLineKind::Added => ("diff-added", "+ "),
                                                    DiffLineKind::Removed => ("diff-removed", "- "),
                                                    DiffLineKind::Skipped => ("diff-skipped", "  "),
                                                };
                                                view! { <span class=class>{mark}{line.text}</span> }
                                            })
                                            .collect_view()}
                                    </pre>
                                }
                                    .into_any()
                            }
                        />
                    }
                })}
        </section>
    }
}
