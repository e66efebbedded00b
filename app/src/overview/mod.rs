//! The overview: what exists in this Pareto today and what changed recently.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
#[cfg(feature = "ssr")]
use crate::auth::Role;
use crate::components::{Loaded, PageHeader, Time, WithUser};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use crate::auth::guard;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub teams: i64,
    pub users: i64,
    pub live_tokens: i64,
    pub recent: Vec<AuditEvent>,
}

#[server]
pub async fn load_overview() -> Result<Overview, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = guard::state()?.pool;
        Ok(Overview {
            teams: crate::teams::store::count(&pool).await?,
            users: crate::users::store::count(&pool).await?,
            live_tokens: crate::tokens::store::count_live(&pool).await?,
            recent: crate::audit::recent(&pool, 12).await?,
        })
    })
    .await
}

#[component]
fn Stat(label: &'static str, value: i64, href: &'static str) -> impl IntoView {
    view! {
        <a class="stat card" href=href>
            <span class="stat-value">{value}</span>
            <span class="stat-label">{label}</span>
        </a>
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_overview());
    view! {
        <Title text="Overview · Pareto"/>
        <WithUser children=|user| view! {
            <PageHeader
                title=format!("Welcome, {}", user.display_name)
                lead="What your organization has set up in Pareto so far."
            />
        }/>
        <Loaded resource=data children=|data| view! {
                        <div class="stats">
                            <Stat label="teams" value=data.teams href="/settings/teams"/>
                            <Stat label="people" value=data.users href="/settings/users"/>
                            <Stat label="live API tokens" value=data.live_tokens href="/settings/tokens"/>
                        </div>
                        <section class="card">
                            <h2>"Recent activity"</h2>
                            {if data.recent.is_empty() {
                                view! { <p class="muted">"Nothing has changed yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ol class="activity">
                                        {data.recent.into_iter().map(|event| view! {
                                            <li>
                                                <span class="activity-what">
                                                    <span class="strong">{event.actor}</span> " " {event.summary}
                                                </span>
                                                <span class="muted small"><Time time=event.created_at/></span>
                                            </li>
                                        }).collect_view()}
                                    </ol>
                                }.into_any()
                            }}
                        </section>
                        <section class="card">
                            <h2>"Getting started"</h2>
                            <ol class="steps">
                                <li>"Create the teams that own models, under " <a href="/settings/teams">"Teams"</a> "."</li>
                                <li>"Add colleagues with the role they need, under " <a href="/settings/users">"Users"</a> "."</li>
                                <li>
                                    "Create an " <code>"ingest"</code> " token for each GPU host's agent, under "
                                    <a href="/settings/tokens">"API tokens"</a> "."
                                </li>
                            </ol>
                        </section>
        }/>
    }
}
