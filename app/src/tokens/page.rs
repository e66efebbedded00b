use leptos::prelude::*;
use leptos_meta::Title;

use super::{CreateToken, RevokeToken, Scope, TokenSummary};
use crate::auth::Role;
use crate::components::{
    action_error, reset_on_success, Field, FieldMessage, FormActions, FormAlert, Loaded, Notice,
    PageHeader, Time, WithUser,
};
use crate::teams::list_teams;

#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <Title text="API tokens · Pareto" />
        <PageHeader
            title="API tokens"
            lead="Agents on GPU hosts, training pipelines and scripts use a token to call /api/v1."
        />
        <WithUser children=|user| {
            let nav = view! { <crate::components::SettingsNav user=user.clone() /> };
            if user.can(Role::Admin) {
                view! {
                    {nav}
                    <TokensAdmin />
                }
                    .into_any()
            } else {
                view! {
                    {nav}
                    <Notice kind="info">"Only admins manage API tokens."</Notice>
                }
                    .into_any()
            }
        } />
    }
}

#[component]
fn TokensAdmin() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let create_error = action_error(create);
    let revoke_error = action_error(revoke);
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| super::list_tokens(),
    );
    let teams = Resource::new(|| (), |_| list_teams());
    let scopes_error =
        Signal::derive(move || create_error.get().and_then(|e| e.field_message("scopes")));
    let created = move || create.value().get().and_then(Result::ok);
    let form = reset_on_success(create);
    view! {
        {move || {
            created()
                .map(|created| {
                    view! {
                        <section class="card secret-card" aria-live="polite">
                            <h2>{format!("Token {} created", created.token.name)}</h2>
                            <p>
                                "Copy it now: Pareto keeps only a hash and will not show it again."
                            </p>
                            <code class="secret" data-testid="new-token">
                                {created.secret.clone()}
                            </code>
                            <p class="muted small">
                                "Use it as " <code>"Authorization: Bearer <token>"</code>
                                " against " <code>"/api/v1"</code> "."
                            </p>
                        </section>
                    }
                })
        }}
        <section class="card">
            <h2>"New token"</h2>
            <ActionForm action=create node_ref=form attr:class="form" attr:novalidate="true">
                <FormAlert error=create_error />
                <div class="grid-form">
                    <Field
                        name="name"
                        label="Name"
                        hint="What will use it, e.g. gpu-node-17 or nightly-training."
                        required=true
                        error=create_error
                    />
                    <div class="field">
                        <label for="token-team">"Team"</label>
                        // The whole list waits for the teams: a suspense inside <select> would leave
                        // markers the parser moves, and break hydration.
                        <Suspense fallback=|| {
                            view! { <select id="token-team" name="team_id" disabled=true></select> }
                        }>
                            {move || Suspend::new(async move {
                                let teams = teams.await.unwrap_or_default();
                                view! {
                                    <select id="token-team" name="team_id">
                                        <option value="">"No team"</option>
                                        {teams
                                            .into_iter()
                                            .map(|team| {
                                                view! {
                                                    <option value=team.team_id.to_string()>{team.name}</option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                }
                            })}
                        </Suspense>
                    </div>
                </div>
                <fieldset class="field" class:has-error=move || scopes_error.get().is_some()>
                    <legend>"Scopes"</legend>
                    {Scope::ALL
                        .into_iter()
                        .map(|scope| {
                            let id = format!("scope_{}", scope.as_str());
                            view! {
                                <label class="check" for=id.clone()>
                                    <input
                                        type="checkbox"
                                        id=id.clone()
                                        name=id.clone()
                                        value="on"
                                    />
                                    <span>
                                        <span class="strong">{scope.as_str()}</span>
                                        " — "
                                        {scope.describe()}
                                    </span>
                                </label>
                            }
                        })
                        .collect_view()}
                    <FieldMessage id="scopes-error" message=scopes_error />
                </fieldset>
                <FormActions label="Create token" pending=create.pending() />
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Tokens"</h2>
            <FormAlert error=revoke_error />
            <Loaded
                resource=tokens
                children=move |tokens| {
                    if tokens.is_empty() {
                        view! {
                            <p class="muted">
                                "No tokens yet. Create one for each agent or pipeline."
                            </p>
                        }
                            .into_any()
                    } else {
                        view! { <TokensTable tokens=tokens revoke=revoke /> }.into_any()
                    }
                }
            />
        </section>
    }
}

#[component]
fn TokensTable(tokens: Vec<TokenSummary>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Team"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {tokens
                        .into_iter()
                        .map(|token| {
                            let revoked = token.revoked_at.is_some();
                            view! {
                                <tr class:disabled-row=revoked>
                                    <td>
                                        <div class="strong">{token.name.clone()}</div>
                                        <code class="muted small">
                                            {format!("{}…", token.token_prefix)}
                                        </code>
                                    </td>
                                    <td>
                                        {token
                                            .scopes
                                            .iter()
                                            .map(|scope| {
                                                view! {
                                                    <span class="badge">{scope.as_str()}</span>
                                                    " "
                                                }
                                            })
                                            .collect_view()}
                                    </td>
                                    <td>{token.team.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>
                                        <Time time=token.created_at />
                                        {token
                                            .created_by
                                            .clone()
                                            .map(|by| view! { <div class="muted small">{by}</div> })}
                                    </td>
                                    <td>
                                        {match token.last_used_at {
                                            Some(time) => view! { <Time time=time /> }.into_any(),
                                            None => {
                                                view! { <span class="muted">"never"</span> }.into_any()
                                            }
                                        }}
                                    </td>
                                    <td>
                                        {match token.revoked_at {
                                            Some(time) => {
                                                view! {
                                                    <span class="badge badge-muted">"revoked"</span>
                                                    <div class="muted small">
                                                        <Time time=time />
                                                    </div>
                                                }
                                                    .into_any()
                                            }
                                            None => {
                                                view! {
                                                    <span class="badge badge-ok">"live"</span>
                                                    <ActionForm action=revoke attr:class="inline-form">
                                                        <input
                                                            type="hidden"
                                                            name="api_token_id"
                                                            value=token.api_token_id.to_string()
                                                        />
                                                        <button
                                                            type="submit"
                                                            class="button small danger"
                                                            aria-label=format!("Revoke {}", token.name)
                                                        >
                                                            "Revoke"
                                                        </button>
                                                    </ActionForm>
                                                }
                                                    .into_any()
                                            }
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
