use leptos::prelude::*;
use leptos_meta::Title;

use super::{CreateUser, SetUserDisabled, SetUserRole, UserSummary};
use crate::auth::{Role, MIN_PASSWORD_LENGTH};
use crate::components::{
    action_error, reset_on_success, Field, FormActions, FormAlert, Loaded, Notice, PageHeader,
    RoleBadge, Time, WithUser,
};

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users · Pareto" />
        <PageHeader title="Users" lead="Who can sign in, and what each role may do." />
        <WithUser children=|user| {
            let nav = view! { <crate::components::SettingsNav user=user.clone() /> };
            if user.can(Role::Admin) {
                view! {
                    {nav}
                    <UsersAdmin current=user.user_id />
                }
                    .into_any()
            } else {
                view! {
                    {nav}
                    <Notice kind="info">
                        "Only admins manage users. Ask an admin to add a colleague."
                    </Notice>
                }
                    .into_any()
            }
        } />
    }
}

#[component]
fn RoleOptions(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| {
            view! {
                <option value=role.as_str() selected=role == selected>
                    {role.as_str()}
                </option>
            }
        })
        .collect_view()
}

#[component]
fn UsersAdmin(current: uuid::Uuid) -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let create_error = action_error(create);
    let row_error = Signal::derive(move || {
        set_role
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| set_disabled.value().get().and_then(Result::err))
    });
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                set_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| super::list_users(),
    );
    let created = move || create.value().get().and_then(Result::ok);
    let form = reset_on_success(create);
    view! {
        <section class="card">
            <h2>"Add a person"</h2>
            <p class="muted">
                "Give them the password by a private channel; they can change it under Your account."
            </p>
            <ActionForm
                action=create
                node_ref=form
                attr:class="form grid-form"
                attr:novalidate="true"
            >
                <FormAlert error=create_error />
                {move || {
                    created()
                        .map(|user| {
                            view! {
                                <Notice kind="success">
                                    {format!("{} can now sign in as {}.", user.email, user.role)}
                                </Notice>
                            }
                        })
                }}
                <Field name="display_name" label="Name" required=true error=create_error />
                <Field name="email" label="Email" kind="email" required=true error=create_error />
                <Field
                    name="password"
                    label="Initial password"
                    kind="password"
                    autocomplete="new-password"
                    hint=format!("At least {MIN_PASSWORD_LENGTH} characters.")
                    required=true
                    error=create_error
                />
                <div class="field">
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" name="role">
                        <RoleOptions selected=Role::Viewer />
                    </select>
                </div>
                <FormActions label="Add person" pending=create.pending() />
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Everyone"</h2>
            <FormAlert error=row_error />
            <Loaded
                resource=users
                children=move |users| {
                    view! {
                        <UsersTable
                            users=users
                            current=current
                            set_role=set_role
                            set_disabled=set_disabled
                        />
                    }
                }
            />
        </section>
    }
}

#[component]
fn UsersTable(
    users: Vec<UserSummary>,
    current: uuid::Uuid,
    set_role: ServerAction<SetUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Teams"</th>
                        <th scope="col">"Since"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {users
                        .into_iter()
                        .map(|user| {
                            let is_self = user.user_id == current;
                            let select_id = format!("role-{}", user.user_id);
                            view! {
                                <tr class:disabled-row=user.disabled>
                                    <td>
                                        <div class="strong">{user.display_name.clone()}</div>
                                        <div class="muted small">{user.email.clone()}</div>
                                    </td>
                                    <td>
                                        {if is_self {
                                            view! {
                                                <RoleBadge role=user.role />
                                                " "
                                                <span class="muted small">"(you)"</span>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=set_role attr:class="inline-form">
                                                    <input
                                                        type="hidden"
                                                        name="user_id"
                                                        value=user.user_id.to_string()
                                                    />
                                                    <label class="visually-hidden" for=select_id.clone()>
                                                        {format!("Role of {}", user.email)}
                                                    </label>
                                                    <select id=select_id name="role">
                                                        <RoleOptions selected=user.role />
                                                    </select>
                                                    <button type="submit" class="button small">
                                                        "Save"
                                                    </button>
                                                </ActionForm>
                                            }
                                                .into_any()
                                        }}
                                    </td>
                                    <td>
                                        {if user.teams.is_empty() {
                                            view! { <span class="muted">"—"</span> }.into_any()
                                        } else {
                                            user.teams.join(", ").into_any()
                                        }}
                                    </td>
                                    <td>
                                        <Time time=user.created_at />
                                    </td>
                                    <td>
                                        {if user.disabled {
                                            view! { <span class="badge badge-muted">"disabled"</span> }
                                                .into_any()
                                        } else {
                                            view! { <span class="badge badge-ok">"active"</span> }
                                                .into_any()
                                        }}
                                        {(!is_self)
                                            .then(|| {
                                                view! {
                                                    <ActionForm action=set_disabled attr:class="inline-form">
                                                        <input
                                                            type="hidden"
                                                            name="user_id"
                                                            value=user.user_id.to_string()
                                                        />
                                                        <input
                                                            type="hidden"
                                                            name="disabled"
                                                            value=(!user.disabled).to_string()
                                                        />
                                                        <button type="submit" class="button small ghost">
                                                            {if user.disabled { "Enable" } else { "Disable" }}
                                                        </button>
                                                    </ActionForm>
                                                }
                                            })}
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
