//! Reviews: the requests waiting for leads, with approve and reject, the decided ones, and the
//! gate's settings.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{PromotionRequest, ReviewPromotion, ReviewState, SaveGateSettings};
use crate::auth::{CurrentUser, Role};
use crate::components::{
    action_error, successes, Field, FormActions, FormAlert, Loaded, PageHeader, Time, WithUser,
};

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let review = ServerAction::<ReviewPromotion>::new();
    let save = ServerAction::<SaveGateSettings>::new();
    let (reviewed, saved) = (successes(review), successes(save));
    let requests = Resource::new(move || reviewed.get(), |_| super::list_promotions());
    let settings = Resource::new(move || saved.get(), |_| super::load_gate_settings());
    view! {
        <Title text="Reviews · Pareto" />
        <PageHeader
            title="Reviews"
            lead="Promotions to production that the review gate holds for the leads' approval."
        />
        <WithUser children=move |user| {
            view! {
                <section class="card" aria-labelledby="gate-heading">
                    <h2 id="gate-heading">"The gate"</h2>
                    <Loaded resource=settings children=|s| view! { <p>{s.describe()}</p> } />
                    {user.can(Role::Admin).then(|| view! { <GateForm save=save /> })}
                </section>
                <Loaded
                    resource=requests
                    children=move |requests| {
                        view! { <Requests requests=requests user=user.clone() review=review /> }
                    }
                />
            }
        } />
    }
}

#[component]
fn GateForm(save: ServerAction<SaveGateSettings>) -> impl IntoView {
    let error = action_error(save);
    view! {
        <details class="inline-details">
            <summary>"Change the gate"</summary>
            <ActionForm action=save attr:class="form grid-form" attr:novalidate="true">
                <FormAlert error=error />
                <Field
                    name="monthly_cost_threshold"
                    label="Monthly cost threshold"
                    hint="Versions projected to cost more need review."
                    error=error
                />
                <Field name="currency" label="Currency" hint="e.g. USD" error=error />
                <Field
                    name="approvals_required"
                    label="Approvals needed"
                    hint="1 to 5 leads, never the requester."
                    error=error
                />
                <FormActions label="Save the gate" pending=save.pending() />
            </ActionForm>
        </details>
    }
}

#[component]
fn Requests(
    requests: Vec<PromotionRequest>,
    user: CurrentUser,
    review: ServerAction<ReviewPromotion>,
) -> impl IntoView {
    let (pending, decided): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .partition(|r| r.state == ReviewState::Pending);
    let error = action_error(review);
    let can_review = user.can(Role::Lead);
    view! {
        <section class="card" aria-labelledby="pending-heading">
            <h2 id="pending-heading">"Waiting for review"</h2>
            <FormAlert error=error />
            {if pending.is_empty() {
                view! { <p class="muted">"Nothing waits for review."</p> }.into_any()
            } else {
                pending
                    .into_iter()
                    .map(|request| {
                        let own = request.requested_by_id == Some(user.user_id);
                        let reviewed = request.reviews.iter().any(|r| r.reviewer == user.email);
                        view! {
                            <PendingRequest
                                request=request
                                review=review
                                can_review=can_review && !own && !reviewed
                                own=own
                            />
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </section>
        <section class="card" aria-labelledby="decided-heading">
            <h2 id="decided-heading">"Decided"</h2>
            {if decided.is_empty() {
                view! { <p class="muted">"No decisions yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Asked by"</th>
                                    <th scope="col">"Decision"</th>
                                    <th scope="col">"Reviews"</th>
                                    <th scope="col">"Decided"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {decided
                                    .into_iter()
                                    .map(|r| {
                                        let class = if r.state == ReviewState::Approved {
                                            "badge badge-success"
                                        } else {
                                            "badge badge-warning"
                                        };
                                        view! {
                                            <tr>
                                                <td>
                                                    <a
                                                        class="strong"
                                                        href=format!("/cards/{}", r.model_version_id)
                                                    >
                                                        {format!("{} {}", r.model, r.version)}
                                                    </a>
                                                </td>
                                                <td>{r.requested_by.clone()}</td>
                                                <td>
                                                    <span class=class>{r.state.label()}</span>
                                                </td>
                                                <td class="review-notes">
                                                    {r
                                                        .reviews
                                                        .iter()
                                                        .map(|v| {
                                                            view! {
                                                                <div class="small">
                                                                    <span class="strong">{v.reviewer.clone()}</span>
                                                                    {if v.approve { " approved" } else { " rejected" }}
                                                                    {(!v.comment.is_empty())
                                                                        .then(|| format!(": {}", v.comment))}
                                                                </div>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </td>
                                                <td>{r.decided_at.map(|at| view! { <Time time=at /> })}</td>
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
        </section>
    }
}

#[component]
fn PendingRequest(
    request: PromotionRequest,
    review: ServerAction<ReviewPromotion>,
    can_review: bool,
    own: bool,
) -> impl IntoView {
    let id = request.promotion_request_id.to_string();
    let title = format!("{} {}", request.model, request.version);
    let label = format!("Promotion of {title}");
    let approve_label = format!("Approve {title}");
    let comment_id = format!("comment-{id}");
    view! {
        <article class="review-request" aria-label=label>
            <div class="card-head">
                <h3>
                    <a href=format!("/cards/{}", request.model_version_id)>{title.clone()}</a>
                    " to production"
                </h3>
                <span class="badge badge-warning">{request.status_line()}</span>
            </div>
            <p class="small muted">
                "Asked by " {request.requested_by.clone()} ", " <Time time=request.created_at />
                {(!request.comment.is_empty()).then(|| format!(": “{}”", request.comment))}
            </p>
            <ul class="reasons">
                {request
                    .reasons
                    .iter()
                    .map(|reason| view! { <li>{reason.clone()}</li> })
                    .collect_view()}
            </ul>
            {request
                .reviews
                .iter()
                .map(|v| {
                    view! {
                        <p class="small">
                            <span class="strong">{v.reviewer.clone()}</span>
                            {if v.approve { " approved" } else { " rejected" }}
                            {(!v.comment.is_empty()).then(|| format!(": {}", v.comment))}
                        </p>
                    }
                })
                .collect_view()}
            {if can_review {
                view! {
                    <ActionForm action=review attr:class="form review-form">
                        <input type="hidden" name="promotion_request_id" value=id.clone() />
                        <div class="field">
                            <label for=comment_id.clone()>"Comment"</label>
                            <input
                                id=comment_id.clone()
                                name="comment"
                                placeholder="Required to reject"
                            />
                        </div>
                        <div class="form-actions">
                            <button
                                type="submit"
                                name="decision"
                                value="approve"
                                class="button primary"
                            >
                                {approve_label}
                            </button>
                            <button type="submit" name="decision" value="reject" class="button">
                                "Reject"
                            </button>
                        </div>
                    </ActionForm>
                }
                    .into_any()
            } else if own {
                view! {
                    <p class="muted small">
                        "You asked for this promotion: another lead reviews it."
                    </p>
                }
                    .into_any()
            } else {
                ().into_any()
            }}
        </article>
    }
}
