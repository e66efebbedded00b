//! Pareto's pages, components and server functions, grouped by feature.
//! Compiled twice: with `ssr` into the server and with `hydrate` into the browser's wasm.

#![recursion_limit = "256"]

pub mod advice;
pub mod alerts;
pub mod api_prices;
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
pub mod genai;
pub mod guardrails;
pub mod guide;
mod named_enum;
pub mod ordered;
#[cfg(feature = "ssr")]
pub mod outbound;
pub mod overview;
pub mod pipelines;
pub mod prices;
#[cfg(feature = "ssr")]
pub mod progress;
pub mod reports;
pub mod reviews;
#[cfg(feature = "ssr")]
pub mod state;
pub mod teams;
pub mod telemetry;
pub mod tokens;
pub mod upload;
pub mod users;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, ChooseView, SsrMode};

use crate::advice::AdvicePage;
use crate::alerts::AlertsPage;
use crate::api_prices::ApiPricesPage;
use crate::audit::AuditPage;
use crate::auth::{get_current_user, AccountPage, LoginPage, SetupPage};
use crate::bills::{BillsPage, ExplorerPage, ReconcilePage, RulesPage};
use crate::cards::CardPage;
use crate::catalog::{CatalogPage, ModelPage, TierRulesPage};
use crate::components::{Frame, UserResource, Wordmark};
use crate::drift::{DeploymentDriftPage, DriftPage};
use crate::experiments::{ComparePage, ExperimentPage, ExperimentsPage};
use crate::fleet::{DeploymentPage, FleetPage};
use crate::guardrails::GuardrailsPage;
use crate::guide::GuidePage;
use crate::overview::OverviewPage;
use crate::pipelines::{PipelinePage, PipelinesPage, PortfolioPage};
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
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                // pkg/pareto.<hash>.css, named by the build's hash.txt (see xtask/src/site.rs).
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The pages, in the parts of the wasm bundle they ship in: a visit loads the frame and the part
/// of the page it opens, and another part when it navigates there (`cargo xtask site` splits the
/// bundle at each part's `#[lazy]` function). Pages that share most of their code share a part:
/// fewer, larger parts mean fewer requests and less code repeated across the parts.
macro_rules! parts {
    ($($part:ident, $preload:ident { $($page:ident => $view:expr;)* })*) => {
        /// One page of the site.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        enum Page {
            $($($page,)*)*
        }

        $(
            #[leptos::lazy]
            fn $part(page: Page) -> AnyView {
                match page {
                    $(Page::$page => $view.into_any(),)*
                    _ => unreachable!("{page:?} is not in the {} part", stringify!($part)),
                }
            }
        )*

        impl ChooseView for Page {
            async fn choose(self) -> AnyView {
                match self {
                    $($(Page::$page)|* => $part(self).await,)*
                }
            }

            /// Fetches the page's part before the route is drawn, so that hydration finds its
            /// code already there.
            async fn preload(&self) {
                #[cfg(feature = "hydrate")]
                match self {
                    $($(Page::$page)|* => $preload().await,)*
                }
            }
        }
    };
}

parts! {
    auth, __preload_auth {
        Login => view! { <LoginPage/> };
        Setup => view! { <SetupPage/> };
    }
    overview, __preload_overview {
        Overview => view! { <OverviewPage/> };
        Guide => view! { <GuidePage/> };
    }
    experiments, __preload_experiments {
        Experiments => view! { <ExperimentsPage/> };
        Experiment => view! { <ExperimentPage/> };
        Compare => view! { <ComparePage/> };
        Pipelines => view! { <PipelinesPage/> };
        Pipeline => view! { <PipelinePage/> };
        Portfolio => view! { <PortfolioPage/> };
    }
    catalog, __preload_catalog {
        Catalog => view! { <CatalogPage/> };
        TierRules => view! { <TierRulesPage/> };
        Model => view! { <ModelPage/> };
        Card => view! { <CardPage/> };
        Alerts => view! { <AlertsPage/> };
        Reviews => view! { <ReviewsPage/> };
    }
    bills, __preload_bills {
        Bills => view! { <BillsPage/> };
        Rules => view! { <RulesPage/> };
        Explorer => view! { <ExplorerPage/> };
        Reconcile => view! { <ReconcilePage/> };
    }
    drift, __preload_drift {
        Drift => view! { <DriftPage/> };
        DeploymentDrift => view! { <DeploymentDriftPage/> };
    }
    reports, __preload_reports {
        Reports => view! { <ReportsPage/> };
    }
    fleet, __preload_fleet {
        Fleet => view! { <FleetPage/> };
        Deployment => view! { <DeploymentPage/> };
        Advice => view! { <AdvicePage/> };
        Guardrails => view! { <GuardrailsPage/> };
    }
    settings, __preload_settings {
        Audit => view! { <AuditPage/> };
        Teams => view! { <TeamsPage/> };
        Users => view! { <UsersPage/> };
        Tokens => view! { <TokensPage/> };
        Prices => view! { <PricesPage/> };
        ApiPrices => view! { <ApiPricesPage/> };
        Account => view! { <AccountPage/> };
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user: UserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(user);

    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Meta name="description" content="Pareto: the cost ledger for machine-learning models." />
        <Title text="Pareto" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=Page::Login />
                <Route path=path!("/setup") view=Page::Setup />
                // Every signed-in page inside one frame, kept across navigations. The page of one
                // thing (a deployment, a model) is sent whole, so that its status can say 404
                // when the thing does not exist.
                <ParentRoute
                    path=path!("")
                    view=|| {
                        view! {
                            <Frame>
                                <Outlet />
                            </Frame>
                        }
                    }
                >
                    <Route path=path!("/") view=Page::Overview ssr=SsrMode::Async />
                    <Route path=path!("/guide") view=Page::Guide />
                    <Route path=path!("/experiments") view=Page::Experiments />
                    <Route
                        path=path!("/experiments/:id")
                        view=Page::Experiment
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/experiments/:id/compare")
                        view=Page::Compare
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/catalog") view=Page::Catalog />
                    <Route path=path!("/catalog/tiers") view=Page::TierRules />
                    <Route path=path!("/models/:id") view=Page::Model ssr=SsrMode::Async />
                    <Route path=path!("/cards/:id") view=Page::Card ssr=SsrMode::Async />
                    <Route path=path!("/settings/audit") view=Page::Audit />
                    <Route path=path!("/alerts") view=Page::Alerts />
                    <Route path=path!("/reviews") view=Page::Reviews />
                    <Route path=path!("/bills") view=Page::Bills />
                    <Route path=path!("/bills/rules") view=Page::Rules />
                    <Route path=path!("/bills/explorer") view=Page::Explorer />
                    <Route path=path!("/bills/reconciliation") view=Page::Reconcile />
                    <Route path=path!("/drift") view=Page::Drift />
                    <Route
                        path=path!("/drift/:key")
                        view=Page::DeploymentDrift
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/reports") view=Page::Reports />
                    <Route path=path!("/fleet") view=Page::Fleet />
                    <Route path=path!("/advice") view=Page::Advice />
                    <Route path=path!("/guardrails") view=Page::Guardrails />
                    <Route path=path!("/pipelines") view=Page::Pipelines />
                    <Route path=path!("/pipelines/:id") view=Page::Pipeline ssr=SsrMode::Async />
                    <Route path=path!("/portfolio") view=Page::Portfolio ssr=SsrMode::Async />
                    <Route
                        path=path!("/deployments/:key")
                        view=Page::Deployment
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/settings")
                        view=|| view! { <Redirect path="/settings/teams" /> }
                    />
                    <Route path=path!("/settings/teams") view=Page::Teams />
                    <Route path=path!("/settings/users") view=Page::Users />
                    <Route path=path!("/settings/tokens") view=Page::Tokens />
                    <Route path=path!("/settings/prices") view=Page::Prices />
                    <Route path=path!("/settings/api-prices") view=Page::ApiPrices />
                    <Route path=path!("/settings/account") view=Page::Account />
                </ParentRoute>
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
        <Title text="Page not found · Pareto" />
        <div class="auth-wrap">
            <section class="card auth-card error-page">
                <Wordmark />
                <p class="error-code">"404"</p>
                <h1>"This page does not exist"</h1>
                <p class="muted">"The address may be mistyped, or the page may have moved."</p>
                <a class="button primary" href="/">
                    "Go to the overview"
                </a>
            </section>
        </div>
    }
}
