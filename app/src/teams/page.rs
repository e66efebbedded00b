use leptos::prelude::*;
use leptos_meta::Title;

use super::{AddTeamMember, CreateTeam, RemoveTeamMember, TeamSummary};
use crate::auth::Role;
use crate::components::{
    action_error, reset_on_success, Field, FormActions, FormAlert, LoadError, PageHeader, WithUser,
};
use crate::users::{list_users, UserSummary};

#[component]
pub fn TeamsPage() -> impl IntoView {
    view! {
        <Title text="Teams · Pareto" />
        <PageHeader title="Teams" lead="Teams own models, deployments, budgets and tokens." />
        <WithUser children=|user| {
            view! {
                <crate::components::SettingsNav user=user.clone() />
                <Teams
                    can_manage=user.can(Role::Lead)
                    everywhere=user.can(Role::Admin)
                    me=user.user_id
                />
            }
        } />
    }
}

#[component]
/// `can_manage`: a lead, who creates teams and manages the members of their own (`everywhere`: an
/// admin, who manages every team's).
fn Teams(can_manage: bool, everywhere: bool, me: uuid::Uuid) -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    let add = ServerAction::<AddTeamMember>::new();
    let remove = ServerAction::<RemoveTeamMember>::new();
    let create_error = action_error(create);
    let member_error = Signal::derive(move || {
        add.value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
    });
    let teams = Resource::new(
        move || {
            (
                create.version().get(),
                add.version().get(),
                remove.version().get(),
            )
        },
        |_| super::list_teams(),
    );
    let people = Resource::new(
        move || can_manage,
        |can_manage| async move {
            if can_manage {
                list_users().await
            } else {
                Ok(Vec::new())
            }
        },
    );
    let form = reset_on_success(create);
    view! {
        <Show when=move || can_manage>
            <section class="card">
                <h2>"New team"</h2>
                <ActionForm
                    action=create
                    node_ref=form
                    attr:class="form grid-form"
                    attr:novalidate="true"
                >
                    <FormAlert error=create_error />
                    <Field name="name" label="Name" required=true error=create_error />
                    <Field name="description" label="What the team works on" error=create_error />
                    <FormActions label="Create team" pending=create.pending() />
                </ActionForm>
            </section>
        </Show>
        <FormAlert error=member_error />
        <Transition fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let people = people.await.unwrap_or_default();
                match teams.await {
                    Ok(teams) if teams.is_empty() => {
                        view! {
                            <section class="card empty">
                                <h2>"No teams yet"</h2>
                                <p class="muted">
                                    {if can_manage {
                                        "Create the first team above; models, budgets and tokens will belong to teams."
                                    } else {
                                        "A lead or an admin creates teams."
                                    }}
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(teams) => {
                        view! {
                            <div class="team-grid">
                                {teams
                                    .into_iter()
                                    .map(|team| {
                                        let manages = can_manage
                                            && (everywhere
                                                || team.members.iter().any(|m| m.user_id == me));
                                        view! {
                                            <TeamCard
                                                team=team
                                                people=people.clone()
                                                can_manage=manages
                                                add=add
                                                remove=remove
                                            />
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <LoadError error=error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TeamCard(
    team: TeamSummary,
    people: Vec<UserSummary>,
    can_manage: bool,
    add: ServerAction<AddTeamMember>,
    remove: ServerAction<RemoveTeamMember>,
) -> impl IntoView {
    let team_id = team.team_id.to_string();
    let candidates: Vec<UserSummary> = people
        .into_iter()
        .filter(|person| {
            !person.disabled && !team.members.iter().any(|m| m.user_id == person.user_id)
        })
        .collect();
    let select_id = format!("add-{}", team.team_id);
    let count = team.members.len();
    view! {
        <section class="card team-card" aria-label=format!("Team {}", team.name)>
            <header class="team-head">
                <h2>{team.name.clone()}</h2>
                <span class="muted small">
                    {format!("{count} {}", if count == 1 { "member" } else { "members" })}
                </span>
            </header>
            {(!team.description.is_empty())
                .then(|| view! { <p class="muted">{team.description.clone()}</p> })}
            <ul class="member-list">
                {team
                    .members
                    .into_iter()
                    .map(|member| {
                        let team_id = team_id.clone();
                        let user_id = member.user_id.to_string();
                        let label = format!("Remove {} from the team", member.email);
                        view! {
                            <li>
                                <span>
                                    <span class="strong">{member.display_name.clone()}</span>
                                    " "
                                    <span class="muted small">{member.email.clone()}</span>
                                </span>
                                {can_manage
                                    .then(|| {
                                        view! {
                                            <ActionForm action=remove attr:class="inline-form">
                                                <input type="hidden" name="team_id" value=team_id />
                                                <input type="hidden" name="user_id" value=user_id />
                                                <button
                                                    type="submit"
                                                    class="button small ghost"
                                                    aria-label=label
                                                >
                                                    "Remove"
                                                </button>
                                            </ActionForm>
                                        }
                                    })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {(can_manage && !candidates.is_empty())
                .then(|| {
                    view! {
                        <ActionForm action=add attr:class="inline-form add-member">
                            <input type="hidden" name="team_id" value=team_id.clone() />
                            <label class="visually-hidden" for=select_id.clone()>
                                "Person to add"
                            </label>
                            <select id=select_id name="user_id">
                                <option value="">"Add a person…"</option>
                                {candidates
                                    .into_iter()
                                    .map(|person| {
                                        view! {
                                            <option value=person
                                                .user_id
                                                .to_string()>
                                                {format!("{} ({})", person.display_name, person.email)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <button type="submit" class="button small">
                                "Add"
                            </button>
                        </ActionForm>
                    }
                })}
        </section>
    }
}
