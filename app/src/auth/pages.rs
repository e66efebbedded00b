use leptos::prelude::*;
use leptos_meta::Title;

use super::{ChangePassword, Login, SetupAdmin, MIN_PASSWORD_LENGTH};
use crate::components::{
    action_error, reload_to, reset_on_success, Field, FormAlert, Notice, PageHeader, RoleBadge,
    WithUser, Wordmark,
};

#[component]
fn AuthCard(
    #[prop(into)] title: String,
    #[prop(into)] lead: String,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="auth-wrap">
            <section class="card auth-card">
                <Wordmark />
                <h1>{title}</h1>
                <p class="muted">{lead}</p>
                {children()}
            </section>
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login);
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            reload_to("/");
        }
    });
    view! {
        <Title text="Sign in · Pareto" />
        <AuthCard title="Sign in" lead="The cost ledger for your machine-learning models.">
            <ActionForm action=login attr:class="form" attr:novalidate="true">
                <FormAlert error=error />
                <Field
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="username"
                    required=true
                    error=error
                />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    error=error
                />
                <button
                    type="submit"
                    class="button primary wide"
                    disabled=move || login.pending().get()
                >
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </AuthCard>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<SetupAdmin>::new();
    let error = action_error(setup);
    Effect::new(move |_| {
        if let Some(Ok(())) = setup.value().get() {
            reload_to("/");
        }
    });
    let hint = format!(
        "At least {MIN_PASSWORD_LENGTH} characters. A passphrase of a few words works well."
    );
    view! {
        <Title text="Set up · Pareto" />
        <AuthCard
            title="Set up Pareto"
            lead="Create the first administrator. This page disappears once the account exists."
        >
            <ActionForm action=setup attr:class="form" attr:novalidate="true">
                <FormAlert error=error />
                <Field
                    name="display_name"
                    label="Your name"
                    autocomplete="name"
                    required=true
                    error=error
                />
                <Field
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="username"
                    required=true
                    error=error
                />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint=hint
                    required=true
                    error=error
                />
                <Field
                    name="password_confirm"
                    label="Repeat the password"
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    error=error
                />
                <button
                    type="submit"
                    class="button primary wide"
                    disabled=move || setup.pending().get()
                >
                    {move || {
                        if setup.pending().get() { "Creating…" } else { "Create administrator" }
                    }}
                </button>
            </ActionForm>
        </AuthCard>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change);
    let done = move || matches!(change.value().get(), Some(Ok(())));
    let form = reset_on_success(change);
    view! {
        <Title text="Your account · Pareto" />
        <PageHeader title="Your account" />
        <WithUser children=move |user| {
            view! {
                <section class="card">
                    <dl class="facts">
                        <dt>"Name"</dt>
                        <dd>{user.display_name.clone()}</dd>
                        <dt>"Email"</dt>
                        <dd>{user.email.clone()}</dd>
                        <dt>"Role"</dt>
                        <dd>
                            <RoleBadge role=user.role />
                            " "
                            <span class="muted">{user.role.describe()}</span>
                        </dd>
                    </dl>
                </section>
            }
        } />
        <section class="card">
            <h2>"Change password"</h2>
            <p class="muted">
                "Your other sessions end when the password changes; this one stays signed in."
            </p>
            <ActionForm action=change node_ref=form attr:class="form narrow" attr:novalidate="true">
                <FormAlert error=error />
                <Show when=done>
                    <Notice kind="success">"Your password has been changed."</Notice>
                </Show>
                <Field
                    name="current_password"
                    label="Current password"
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    error=error
                />
                <Field
                    name="new_password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint=format!("At least {MIN_PASSWORD_LENGTH} characters.")
                    required=true
                    error=error
                />
                <Field
                    name="new_password_confirm"
                    label="Repeat the new password"
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    error=error
                />
                <button
                    type="submit"
                    class="button primary"
                    disabled=move || change.pending().get()
                >
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}
