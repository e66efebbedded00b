//! The whole HTTP surface in one place: probes, metrics, the agent API and the Leptos site.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::middleware::{self, SiteSettings};
use app::state::AppState;
use app::{shell, App};

pub fn router(state: AppState, config: &Config) -> Router {
    let site_settings = SiteSettings {
        public_origin: config.public_origin.clone(),
        trust_proxy_headers: config.trust_proxy_headers,
    };
    // Install the recorder before the first request is counted.
    crate::metrics::handle();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || leptos::prelude::provide_context(state.clone())
    };
    // What the pages embed or download; each needs a signed-in session.
    let files = Router::new()
        .route(
            "/charts/deployments/{key}/{file}",
            get(crate::charts::deployment_chart),
        )
        .route(
            "/charts/experiments/{id}/{file}",
            get(crate::charts::frontier_chart),
        )
        .route(
            "/charts/pipelines/{id}/{file}",
            get(crate::charts::pipeline_chart),
        )
        .route(
            "/charts/models/{id}/{file}",
            get(crate::charts::model_chart),
        )
        .route(
            "/charts/drift/quadrant.svg",
            get(crate::charts::drift::quadrant_chart),
        )
        .route(
            "/charts/drift/spend.svg",
            get(crate::charts::drift::spend_chart),
        )
        .route(
            "/charts/drift/deployments/{file}",
            get(crate::charts::drift::deployment_chart),
        )
        .route("/cards/{id}/README.md", get(crate::cards::export))
        .route(
            "/experiments/{id}/report.md",
            get(crate::evaluation::experiment_markdown),
        )
        .route(
            "/experiments/{id}/report.html",
            get(crate::evaluation::experiment_html),
        )
        .route(
            "/pipelines/{id}/report.md",
            get(crate::evaluation::pipeline_markdown),
        )
        .route(
            "/pipelines/{id}/report.html",
            get(crate::evaluation::pipeline_html),
        )
        .route("/reports/{file}", get(crate::reports::download))
        .route("/portfolio/{file}", get(crate::portfolio::export))
        .route("/bills/export.csv", get(crate::bills::export))
        .route("/charts/bills/spend.svg", get(crate::charts::bill_chart))
        .route_layer(axum::middleware::from_fn(middleware::signed_in));
    let site = Router::new()
        .merge(files)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), site_settings.clone()),
            middleware::sessions,
        ))
        .layer(axum::middleware::from_fn_with_state(
            site_settings.clone(),
            middleware::refuse_cross_site,
        ))
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .layer(axum::middleware::from_fn(cache_site_files));

    // Bill imports stream files of gigabytes: their own body limit, and no request timeout.
    let bill_limit = usize::try_from(config.bill_limit_bytes).unwrap_or(usize::MAX);
    let bill_upload = Router::new()
        .route("/bills/upload", post(crate::bills::upload))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), site_settings.clone()),
            middleware::sessions,
        ))
        .layer(axum::middleware::from_fn_with_state(
            site_settings,
            middleware::refuse_cross_site,
        ));
    let api = crate::api::routes(config.body_limit_bytes, config.ingest_concurrency);
    // The bill import has no decompression layer: the importer opens one gzip layer itself and
    // counts what it expands to against PARETO_BILL_LIMIT, so gzip inside gzip cannot multiply it.
    let imports = api
        .bill_import
        .merge(bill_upload)
        .layer(RequestBodyLimitLayer::new(bill_limit));

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::render))
        .nest("/api/v1", api.api)
        .merge(site)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .merge(imports)
        // Pages, JSON and exports compressed for clients that accept it; the site's own files are
        // sent from their brotli or gzip copies (the build writes them) and are not compressed again.
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map_or(request.uri().path(), MatchedPath::as_str);
            tracing::info_span!("request", method = %request.method(), route, token = tracing::field::Empty)
        }))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

/// The site's files (`/pkg/`): those with a content hash in their name never change, so browsers
/// keep them for a year without asking again; the others are checked on every use.
async fn cache_site_files(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let policy = path.strip_prefix("/pkg/").map(|file| {
        if hashed(file) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }
    });
    let mut response = next.run(request).await;
    if let Some(policy) = policy {
        if response.status().is_success() {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
    }
    response
}

/// Whether a file name carries the build's content hash: `<name>.<16 to 32 hex digits>.<extension>`,
/// as `pareto.<hash>.wasm`, a page's `split_<page>.<hash>.wasm` and the loader
/// `__wasm_split.<hash>.js` are named.
fn hashed(file: &str) -> bool {
    let mut parts = file.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(_), Some(hash), Some(_), None)
            if (16..=32).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    )
}

/// Ready when the database answers within two seconds.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let check = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query("select 1").execute(&state.pool),
    )
    .await;
    match check {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database did not answer within 2 s",
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_names_with_the_builds_hash_are_kept_for_a_year() {
        assert!(super::hashed("pareto.0123456789abcdef.wasm"));
        assert!(super::hashed("chunk_3.0123456789abcdef.wasm"));
        assert!(super::hashed("__wasm_split.0123456789abcdef012345.js"));
        assert!(!super::hashed("__wasm_split.______________________.js"));
        assert!(!super::hashed("pareto.0123456789abcdef.js.br"));
        assert!(!super::hashed("pareto.wasm"));
        assert!(!super::hashed("pareto.0123456789abcdeg.css"));
        assert!(!super::hashed(
            "snippets/leptos-0123456789abcdef/inline0.js"
        ));
    }
}
