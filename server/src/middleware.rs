//! Request checks that apply to the browser-facing site: cross-site request refusal, session
//! resolution, and the sign-in gate in front of pages.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;

use app::auth::guard::ClientAddress;
use app::auth::session::{self, ActiveSession};
use app::state::AppState;

/// What the site middleware needs beyond the shared state.
#[derive(Clone)]
pub struct SiteSettings {
    pub public_origin: Option<String>,
    pub trust_proxy_headers: bool,
}

/// Whether a request to a mutating endpoint came from another site and must be refused.
/// Browsers send `Sec-Fetch-Site`; older ones send `Origin`; clients that send neither are not
/// browsers and carry no ambient cookies an attacker could ride on.
pub fn is_cross_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return true;
    }
    match public_origin {
        Some(expected) => origin != expected,
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
            origin_host != host
        }
    }
}

pub async fn refuse_cross_site(
    State(settings): State<SiteSettings>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && is_cross_site(request.headers(), settings.public_origin.as_deref()) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
        return (StatusCode::FORBIDDEN, "Cross-site requests are refused.").into_response();
    }
    next.run(request).await
}

/// The address a request came from. Behind a trusted proxy that is the last `X-Forwarded-For`
/// entry, the one the proxy itself appended: every entry before it is whatever the client sent,
/// so a client that writes its own header cannot pick another address's sign-in allowance.
fn client_address(request: &Request, trust_proxy_headers: bool) -> String {
    if trust_proxy_headers {
        let appended = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty());
        if let Some(address) = appended {
            return address.to_owned();
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Paths anyone may load without signing in.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login" | "/setup" | "/favicon.svg" | "/favicon.ico" | "/robots.txt"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

/// Resolves the session cookie into the signed-in user, and sends people who are not signed in
/// (or, before the first account exists, everyone) to the right page.
pub async fn sessions(
    State((state, settings)): State<(AppState, SiteSettings)>,
    mut request: Request,
    next: Next,
) -> Response {
    let address = client_address(&request, settings.trust_proxy_headers);
    request.extensions_mut().insert(ClientAddress(address));
    let cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| session::from_cookie_header(value).map(str::to_owned));
    let mut clear_cookie = false;
    let active: Option<ActiveSession> = match cookie {
        Some(value) => match session::resolve(&state.pool, &state.auth, &value).await {
            Ok(found) => {
                clear_cookie = found.is_none();
                found
            }
            Err(error) => {
                tracing::error!(%error, "session lookup failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable; try again shortly.",
                )
                    .into_response();
            }
        },
        None => None,
    };
    if let Some(active) = &active {
        request.extensions_mut().insert(active.clone());
    }
    if *request.method() == Method::GET {
        if let Some(redirect) = gate(&state, request.uri().path(), active.is_some()).await {
            return redirect;
        }
    }
    let mut response = next.run(request).await;
    if clear_cookie {
        if let Ok(value) = session::clearing_cookie(&state.auth).parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Refuses a request without a signed-in session: the files behind the pages (charts, exports,
/// reports), for which a redirect to the sign-in page would be no answer. Runs inside `sessions`.
pub async fn signed_in(request: Request, next: Next) -> Response {
    if request.extensions().get::<ActiveSession>().is_none() {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    }
    next.run(request).await
}

async fn gate(state: &AppState, path: &str, signed_in: bool) -> Option<Response> {
    if signed_in {
        return matches!(path, "/login" | "/setup").then(|| Redirect::to("/").into_response());
    }
    let needs_setup = match app::users::store::count(&state.pool).await {
        Ok(count) => count == 0,
        Err(error) => {
            tracing::error!(%error, "counting users failed");
            return Some(
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable; try again shortly.",
                )
                    .into_response(),
            );
        }
    };
    if needs_setup {
        return (path != "/setup" && !path.starts_with("/pkg/"))
            .then(|| Redirect::to("/setup").into_response());
    }
    if path == "/setup" {
        return Some(Redirect::to("/login").into_response());
    }
    (!is_public(path)).then(|| Redirect::to("/login").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "none")]),
            None
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            None
        ));
    }

    #[test]
    fn origin_must_match_the_host_or_the_public_url() {
        let same = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(!is_cross_site(&same, None));
        let other = headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(is_cross_site(&other, None));
        let proxied = headers(&[
            ("origin", "https://pareto.example.com"),
            ("host", "10.0.0.5:3000"),
        ]);
        assert!(!is_cross_site(&proxied, Some("https://pareto.example.com")));
        assert!(is_cross_site(&headers(&[("origin", "null")]), None));
    }

    #[test]
    fn requests_without_browser_headers_are_not_cross_site() {
        assert!(!is_cross_site(&HeaderMap::new(), None));
    }
}
