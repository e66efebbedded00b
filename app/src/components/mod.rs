//! Pieces every page uses: the frame with navigation, form fields with inline errors, notices.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::{CurrentUser, Logout, Role};
use crate::error::AppError;
pub use crate::format::{format_count, format_money};

pub type UserResource = Resource<Result<Option<CurrentUser>, AppError>>;

/// The signed-in user's resource, provided once by the app.
pub fn use_user() -> UserResource {
    expect_context::<UserResource>()
}

/// Renders `children` with the signed-in user, once known.
#[component]
pub fn WithUser<F, V>(children: F) -> impl IntoView
where
    F: Fn(CurrentUser) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let user = use_user();
    let children = std::sync::Arc::new(children);
    view! {
        <Transition fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {
                let children = children.clone();
                move || {
                    let children = children.clone();
                    Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => children(user).into_any(),
                            Ok(None) | Err(AppError::Unauthenticated) => {
                                view! { <SignInAgain /> }.into_any()
                            }
                            Err(error) => {
                                view! { <Notice kind="error">{error.to_string()}</Notice> }
                                    .into_any()
                            }
                        }
                    })
                }
            }
        </Transition>
    }
}

#[component]
pub fn SignInAgain() -> impl IntoView {
    view! {
        <Notice kind="warning">
            "Your session has ended. " <a href="/login" rel="external">
                "Sign in again"
            </a> "."
        </Notice>
    }
}

/// The page frame: brand, navigation for the sections that exist, and the user menu.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let user = use_user();
    // Fetched by the browser once the page is live: a count is not worth holding the page for,
    // and a second suspense in the navigation would upset the hydration of pages with their own.
    // The frame stays across navigations (one layout route); the counts follow each one.
    let pathname = leptos_router::hooks::use_location().pathname;
    let counts = LocalResource::new(move || {
        pathname.track();
        crate::alerts::load_nav_counts()
    });
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            reload_to("/login");
        }
    });
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="topbar">
            <div class="topbar-inner">
                <a class="brand" href="/" aria-label="Pareto overview">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Pareto"
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => {
                                view! {
                                    <nav class="mainnav" aria-label="Sections">
                                        <A href="/" exact=true>
                                            "Overview"
                                        </A>
                                        <A href="/catalog">"Catalog"</A>
                                        <A href="/reviews">
                                            "Reviews"
                                            <NavCount
                                                counts=counts
                                                pick=|c| c.pending_reviews
                                                what="waiting for review"
                                            />
                                        </A>
                                        <A href="/alerts">
                                            "Alerts"
                                            <NavCount
                                                counts=counts
                                                pick=|c| c.open_alerts
                                                what="open"
                                            />
                                        </A>
                                        <A href="/experiments">"Experiments"</A>
                                        <A href="/pipelines">"Pipelines"</A>
                                        <A href="/fleet">"Fleet"</A>
                                        <A href="/advice">"Advice"</A>
                                        <A href="/guardrails">"Guardrails"</A>
                                        <A href="/drift">"Drift"</A>
                                        <A href="/bills">"Bills"</A>
                                        <A href="/reports">"Reports"</A>
                                        <A href="/settings">"Settings"</A>
                                    </nav>
                                    <div class="usermenu">
                                        <A href="/settings/account" attr:class="user-link">
                                            <span class="user-name">{user.display_name.clone()}</span>
                                            <RoleBadge role=user.role />
                                        </A>
                                        <ActionForm action=logout>
                                            <button type="submit" class="button ghost small">
                                                "Sign out"
                                            </button>
                                        </ActionForm>
                                    </div>
                                }
                                    .into_any()
                            }
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
        </header>
        <main id="main" class="page">
            {children()}
        </main>
        <footer class="footer">
            <span>"Pareto — the cost ledger for machine-learning models"</span>
            " · "
            <a href="/guide">"Guide: cost-aware design on the demo organization"</a>
        </footer>
    }
}

/// The key in the page's address (`/deployments/:key`, `/drift/:key`), as people read it.
pub fn key_from_route() -> Memo<String> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| params.read().get("key").unwrap_or_default())
}

/// The id in the page's address (`/experiments/:id`, `/models/:id`); the nil id when it is not
/// one, which nothing has.
pub fn id_from_route() -> Memo<uuid::Uuid> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| uuid::Uuid::parse_str(&id).ok())
            .unwrap_or_default()
    })
}

/// A count beside a navigation link, when there is something to count.
#[component]
fn NavCount(
    counts: LocalResource<Result<crate::alerts::NavCounts, AppError>>,
    pick: fn(&crate::alerts::NavCounts) -> i64,
    what: &'static str,
) -> impl IntoView {
    move || {
        let count = counts.get().and_then(Result::ok).map_or(0, |c| pick(&c));
        (count > 0).then(|| {
            view! {
                <span class="nav-count" title=format!("{count} {what}")>
                    {count}
                </span>
            }
        })
    }
}

/// The settings pages' own navigation: teams and prices for everyone, the audit log for leads,
/// users and tokens for admins. Rendered where the page already knows the user, so that it adds no
/// suspense of its own.
#[component]
pub fn SettingsNav(user: CurrentUser) -> impl IntoView {
    let is_lead = user.can(Role::Lead);
    let is_admin = user.can(Role::Admin);
    view! {
        <nav class="subnav" aria-label="Settings">
            <A href="/settings/teams">"Teams"</A>
            <A href="/settings/prices">"GPU prices"</A>
            <A href="/settings/api-prices">"API prices"</A>
            {is_lead.then(|| view! { <A href="/settings/audit">"Audit log"</A> })}
            {is_admin
                .then(|| {
                    view! {
                        <A href="/settings/users">"Users"</A>
                        <A href="/settings/tokens">"API tokens"</A>
                    }
                })}
        </nav>
    }
}

/// Reads the file chosen in a file input into `text`, in the browser.
pub fn read_chosen_file(ev: leptos::ev::Event, text: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(value) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                text.set(value.as_string().unwrap_or_default());
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, text);
    }
}

/// A full page load, so that every part of the page sees the new sign-in state.
pub fn reload_to(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = path;
    }
}

/// The logo mark and name, on pages without the top bar.
#[component]
pub fn Wordmark() -> impl IntoView {
    view! {
        <div class="auth-brand">
            <span class="brand-mark" aria-hidden="true"></span>
            "Pareto"
        </div>
    }
}

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into, optional)] lead: Option<String>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>{title}</h1>
            {lead.map(|lead| view! { <p class="lead">{lead}</p> })}
        </div>
    }
}

#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    view! { <span class=format!("badge role-{}", role.as_str())>{role.as_str()}</span> }
}

/// A message box: `kind` is info, success, warning or error.
#[component]
pub fn Notice(#[prop(into)] kind: String, children: Children) -> impl IntoView {
    let role = if kind == "error" { "alert" } else { "status" };
    view! {
        <div class=format!("notice notice-{kind}") role=role>
            {children()}
        </div>
    }
}

/// The error a form's last submission produced, if any.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// How many times the action has succeeded, as a signal that changes only on success: data that
/// an action changes reloads when it succeeds, and a failed submission leaves the page (and what
/// the user typed) as it was.
pub fn successes<S>(action: ServerAction<S>) -> Memo<usize>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Memo::new(move |previous: Option<&usize>| {
        let version = action.version().get();
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            version
        } else {
            previous.copied().unwrap_or_default()
        }
    })
}

/// One button that posts a server action from a small form of its own: a row's "Delete", a rule's
/// "↑". The form works before the page's scripts load, as every `ActionForm` does.
#[component]
pub fn ActionButton<S, O>(
    action: ServerAction<S>,
/// The hidden fields the action reads: (name, value).
    fields: Vec<(&'static str, String)>,
/// What the button says.
    #[prop(into)]
    text: String,
/// What it does, for screen readers and tests: "Delete budget Fraud".
    #[prop(into)]
    label: String,
    #[prop(optional)] disabled: bool,
/// Styled as a destructive action.
    #[prop(optional)]
    danger: bool,
) -> impl IntoView
where
    S: serde::de::DeserializeOwned
        + leptos::server_fn::ServerFn<
            Protocol = leptos::server_fn::Http<leptos::server_fn::codec::PostUrl, O>,
        > + Clone
        + Send
        + Sync
        + 'static,
    <<S::Client as leptos::server_fn::client::Client<S::Error>>::Request as leptos::server_fn::request::ClientReq<
        S::Error,
    >>::FormData: From<leptos::web_sys::FormData>,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
    <S as leptos::server_fn::ServerFn>::Client:
        leptos::server_fn::client::Client<<S as leptos::server_fn::ServerFn>::Error>,
    O: 'static,
{
    let class = if danger {
        "button small ghost danger"
    } else {
        "button small ghost"
    };
    view! {
        <ActionForm action attr:class="inline-form">
            {fields
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            <button type="submit" class=class disabled=disabled aria-label=label>
                {text}
            </button>
        </ActionForm>
    }
}

/// A form's primary button, disabled while the form is being sent.
#[component]
pub fn FormActions(
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="form-actions">
            <button type="submit" class="button primary" disabled=move || pending.get()>
                {label}
            </button>
        </div>
    }
}

/// A form that empties itself after its action succeeds, so that the next entry starts clean.
pub fn reset_on_success<S>(action: ServerAction<S>) -> NodeRef<leptos::html::Form>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    form
}

/// A labelled select that calls `set` with the chosen value; `options` are (value, label).
#[component]
pub fn Choice(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
    value: String,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <div class="field compact">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| set(event_target_value(&ev))>
                {options
                    .into_iter()
                    .map(|(v, l)| {
                        let selected = v == value;
                        view! {
                            <option value=v selected=selected>
                                {l}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// A labelled input with its inline error, linked for screen readers.
#[component]
pub fn Field(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] id_prefix: Option<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("{}{}", id_prefix.unwrap_or_default(), name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = {
        let name = name.clone();
        Signal::derive(move || error.get().and_then(|error| error.field_message(&name)))
    };
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        let has_hint = hint.is_some();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if message.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:has-error=move || message.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint
                .map(|hint| {
                    view! {
                        <p class="hint" id=hint_id.clone()>
                            {hint}
                        </p>
                    }
                })}
            <input
                id=id.clone()
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described_by
            />
            <FieldMessage id=error_id message=message />
        </div>
    }
}

#[component]
pub fn FieldMessage(#[prop(into)] id: String, message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" id=id.clone()>
                {move || message.get()}
            </p>
        </Show>
    }
}

/// The error of a form that is not about one field (throttling, permissions, conflicts).
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>) -> impl IntoView {
    let message = Signal::derive(move || match error.get() {
        Some(AppError::Validation(errors)) if errors.len() > 1 => {
            Some(format!("{} fields need attention.", errors.len()))
        }
        Some(AppError::Validation(_)) | None => None,
        Some(other) => Some(other.to_string()),
    });
    view! {
        <Show when=move || message.get().is_some()>
            <div class="notice notice-error" role="alert">
                {move || message.get()}
            </div>
        </Show>
    }
}

/// What an uploaded file came to: a refusal with every problem it names (its line, entry or
/// field), any other error, or `done` once it was taken.
#[component]
pub fn ImportAnswer(
    error: Signal<Option<AppError>>,
    /// The sentence above a refusal's problems.
    #[prop(into)]
    refused: String,
    /// Whether each problem starts with the field it names (when its message does not say it).
    #[prop(optional)]
    name_fields: bool,
    done: Signal<Option<String>>,
) -> impl IntoView {
    let other = Signal::derive(move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Validation(_)))
    });
    let problems = Signal::derive(move || match error.get() {
        Some(AppError::Validation(problems)) => problems
            .into_iter()
            .map(|p| {
                if name_fields {
                    format!("{}: {}", p.field, p.message)
                } else {
                    p.message
                }
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    view! {
        <FormAlert error=other />
        <Show when=move || !problems.with(Vec::is_empty)>
            <div class="notice notice-error" role="alert">
                <p>{refused.clone()}</p>
                <ul class="line-errors">
                    {move || {
                        problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()
                    }}
                </ul>
            </div>
        </Show>
        <Show when=move || done.with(Option::is_some)>
            <div class="notice notice-success" role="status">
                {move || done.get()}
            </div>
        </Show>
    }
}

/// A price row's note, with an "example" badge on rows shipped as a starting point and `tag`
/// (where the row came from) as a badge of its own.
#[component]
pub fn RowNote(
    is_example: bool,
    #[prop(into)] note: String,
    #[prop(optional_no_strip)] tag: Option<String>,
) -> impl IntoView {
    view! {
        {is_example
            .then(|| {
                view! {
                    <span class="badge badge-warning">"example"</span>
                    " "
                }
            })}
        {tag
            .map(|tag| {
                view! {
                    <span class="badge">{tag}</span>
                    " "
                }
            })}
        <span class="muted small">{note}</span>
    }
}

/// A timestamp in UTC, the same on the server and in the browser.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn Time(time: DateTime<Utc>) -> impl IntoView {
    view! { <time datetime=time.to_rfc3339()>{format_time(time)}</time> }
}

/// Shows a resource: "Loading…" until it arrives, then its content, or the error that stopped it.
#[component]
pub fn Loaded<T, F, V>(resource: Resource<Result<T, AppError>>, children: F) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = std::sync::Arc::new(children);
    view! {
        <Transition fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => children(value).into_any(),
                        Err(error) => view! { <LoadError error=error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// Shows an error that stopped a page from loading.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    match error {
        AppError::Unauthenticated => view! { <SignInAgain /> }.into_any(),
        other => view! { <Notice kind="error">{other.to_string()}</Notice> }.into_any(),
    }
}

/// A group of buttons of which one is pressed, switching `value` in place; `options` are
/// (value, label).
#[component]
pub fn Toggle(
    /// What the group chooses, for screen readers.
    label: &'static str,
    value: RwSignal<&'static str>,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <div class="segmented" role="group" aria-label=label>
            {options
                .iter()
                .map(|&(key, text)| {
                    view! {
                        <button
                            type="button"
                            aria-pressed=move || (value.get() == key).to_string()
                            on:click=move |_| value.set(key)
                        >
                            {text}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// A deployment's drift state as a coloured badge, wherever a page lists deployments or models.
#[component]
pub fn DriftBadge(state: crate::drift::DriftState) -> impl IntoView {
    use crate::drift::DriftState;
    let class = match state {
        DriftState::Drifting => "badge badge-danger",
        DriftState::Warning => "badge badge-warning",
        DriftState::Healthy => "badge badge-ok",
        DriftState::Unmeasured => "badge badge-muted",
    };
    view! { <span class=class>{state.label()}</span> }
}

/// A figure that explains itself in place: a small "how?" beside it opens the formula with its
/// inputs, their sources and dates. A disclosure, so it works by touch and without script.
#[component]
pub fn Explain(
    /// The formula and its inputs, in a sentence or two.
    #[prop(into)]
    text: String,
) -> impl IntoView {
    view! {
        <details class="explain">
            <summary aria-label="How this figure is worked out">"how?"</summary>
            <p class="explain-text">{text}</p>
        </details>
    }
}
