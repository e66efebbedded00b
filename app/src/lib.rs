//! Pareto's pages, components and server functions, grouped by feature.
//! Compiled twice: with `ssr` into the server and with `hydrate` into the browser's wasm.

#![recursion_limit = "256"]

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod bills;
pub mod cards;
pub mod catalog;
pub mod clock;
pub mod components;
pub mod drift;
pub mod error;
pub mod experiments;
pub mod fleet;
pub mod format;
mod named_enum;
pub mod overview;
pub mod prices;
pub mod reports;
pub mod reviews;
#[cfg(feature = "ssr")]
pub mod state;
pub mod teams;
pub mod telemetry;
pub mod tokens;
pub mod users;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute};

use crate::alerts::AlertsPage;
use crate::audit::AuditPage;
use crate::auth::{get_current_user, AccountPage, LoginPage, SetupPage};
use crate::bills::{BillsPage, ExplorerPage, ReconcilePage, RulesPage};
use crate::cards::CardPage;
use crate::catalog::{CatalogPage, ModelPage, TierRulesPage};
use crate::components::{Frame, UserResource, Wordmark};
use crate::drift::{DeploymentDriftPage, DriftPage};
use crate::experiments::{ComparePage, ExperimentPage, ExperimentsPage};
use crate::fleet::{DeploymentPage, FleetPage};
use crate::overview::OverviewPage;
use crate::prices::PricesPage;
use crate::reports::ReportsPage;
use crate::reviews::ReviewsPage;
use crate::teams::TeamsPage;
use crate::tokens::TokensPage;
use crate::users::UsersPage;

/// The Content-Security-Policy of every page: scripts only from this site or carrying this
/// response's nonce (the hydration script and the streamed resources), the wasm bundle compiled
/// by the browser, charts embedded from this site only, and framing by this site only.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; object-src 'self'; \
         frame-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'; \
         connect-src 'self'"
    )
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // pkg/pareto.<hash>.css, named by the build's hash.txt (see xtask/src/site.rs).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every page is a part of the wasm bundle of its own, fetched when the page is first shown
/// (Leptos's lazy routes; `cargo xtask site` splits the bundle): a visit loads the frame and the
/// page it opens, and another page's part when it navigates there.
macro_rules! lazy_pages {
    ($($route:ident => $view:expr;)*) => {
        $(
            struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_this: Self) -> AnyView {
                    $view.into_any()
                }
            }
        )*
    };
}

lazy_pages! {
    LoginRoute => view! { <LoginPage/> };
    SetupRoute => view! { <SetupPage/> };
    OverviewRoute => view! { <Frame><OverviewPage/></Frame> };
    ExperimentsRoute => view! { <Frame><ExperimentsPage/></Frame> };
    ExperimentRoute => view! { <Frame><ExperimentPage/></Frame> };
    CompareRoute => view! { <Frame><ComparePage/></Frame> };
    CatalogRoute => view! { <Frame><CatalogPage/></Frame> };
    TierRulesRoute => view! { <Frame><TierRulesPage/></Frame> };
    ModelRoute => view! { <Frame><ModelPage/></Frame> };
    CardRoute => view! { <Frame><CardPage/></Frame> };
    AuditRoute => view! { <Frame><AuditPage/></Frame> };
    AlertsRoute => view! { <Frame><AlertsPage/></Frame> };
    ReviewsRoute => view! { <Frame><ReviewsPage/></Frame> };
    BillsRoute => view! { <Frame><BillsPage/></Frame> };
    RulesRoute => view! { <Frame><RulesPage/></Frame> };
    ExplorerRoute => view! { <Frame><ExplorerPage/></Frame> };
    ReconcileRoute => view! { <Frame><ReconcilePage/></Frame> };
    DriftRoute => view! { <Frame><DriftPage/></Frame> };
    DeploymentDriftRoute => view! { <Frame><DeploymentDriftPage/></Frame> };
    ReportsRoute => view! { <Frame><ReportsPage/></Frame> };
    FleetRoute => view! { <Frame><FleetPage/></Frame> };
    DeploymentRoute => view! { <Frame><DeploymentPage/></Frame> };
    TeamsRoute => view! { <Frame><TeamsPage/></Frame> };
    UsersRoute => view! { <Frame><UsersPage/></Frame> };
    TokensRoute => view! { <Frame><TokensPage/></Frame> };
    PricesRoute => view! { <Frame><PricesPage/></Frame> };
    AccountRoute => view! { <Frame><AccountPage/></Frame> };
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user: UserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(user);

    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Meta name="description" content="Pareto: the cost ledger for machine-learning models."/>
        <Title text="Pareto"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()}/>
                <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()}/>
                <Route path=path!("/") view={Lazy::<OverviewRoute>::new()}/>
                <Route path=path!("/experiments") view={Lazy::<ExperimentsRoute>::new()}/>
                <Route path=path!("/experiments/:id") view={Lazy::<ExperimentRoute>::new()}/>
                <Route path=path!("/experiments/:id/compare") view={Lazy::<CompareRoute>::new()}/>
                <Route path=path!("/catalog") view={Lazy::<CatalogRoute>::new()}/>
                <Route path=path!("/catalog/tiers") view={Lazy::<TierRulesRoute>::new()}/>
                <Route path=path!("/models/:id") view={Lazy::<ModelRoute>::new()}/>
                <Route path=path!("/cards/:id") view={Lazy::<CardRoute>::new()}/>
                <Route path=path!("/settings/audit") view={Lazy::<AuditRoute>::new()}/>
                <Route path=path!("/alerts") view={Lazy::<AlertsRoute>::new()}/>
                <Route path=path!("/reviews") view={Lazy::<ReviewsRoute>::new()}/>
                <Route path=path!("/bills") view={Lazy::<BillsRoute>::new()}/>
                <Route path=path!("/bills/rules") view={Lazy::<RulesRoute>::new()}/>
                <Route path=path!("/bills/explorer") view={Lazy::<ExplorerRoute>::new()}/>
                <Route path=path!("/bills/reconciliation") view={Lazy::<ReconcileRoute>::new()}/>
                <Route path=path!("/drift") view={Lazy::<DriftRoute>::new()}/>
                <Route path=path!("/drift/:id") view={Lazy::<DeploymentDriftRoute>::new()}/>
                <Route path=path!("/reports") view={Lazy::<ReportsRoute>::new()}/>
                <Route path=path!("/fleet") view={Lazy::<FleetRoute>::new()}/>
                <Route path=path!("/deployments/:key") view={Lazy::<DeploymentRoute>::new()}/>
                <Route path=path!("/settings") view=|| view! { <Redirect path="/settings/teams"/> }/>
                <Route path=path!("/settings/teams") view={Lazy::<TeamsRoute>::new()}/>
                <Route path=path!("/settings/users") view={Lazy::<UsersRoute>::new()}/>
                <Route path=path!("/settings/tokens") view={Lazy::<TokensRoute>::new()}/>
                <Route path=path!("/settings/prices") view={Lazy::<PricesRoute>::new()}/>
                <Route path=path!("/settings/account") view={Lazy::<AccountRoute>::new()}/>
            </Routes>
        </Router>
    }
}

/// Shown for any address that is not a page, with the status set to 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found · Pareto"/>
        <div class="auth-wrap">
            <section class="card auth-card error-page">
                <Wordmark/>
                <p class="error-code">"404"</p>
                <h1>"This page does not exist"</h1>
                <p class="muted">"The address may be mistyped, or the page may have moved."</p>
                <a class="button primary" href="/">"Go to the overview"</a>
            </section>
        </div>
    }
}
