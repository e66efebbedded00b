//! The checks every server function makes before it does anything: who is calling, with what role.

use http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::session::ActiveSession;
use super::{CurrentUser, Role};
use crate::error::AppError;
use crate::state::AppState;

/// The client's address as the server determined it (the socket peer, or a trusted proxy's header).
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The session the server resolved from the cookie for this request, if any.
pub fn session() -> Option<ActiveSession> {
    parts().and_then(|parts| parts.extensions.get::<ActiveSession>().cloned())
}

pub fn client_address() -> String {
    parts()
        .and_then(|parts| parts.extensions.get::<ClientAddress>().map(|a| a.0.clone()))
        .unwrap_or_else(|| "unknown".into())
}

pub fn user_agent() -> String {
    parts()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// The signed-in user with at least `role`, or the error that says why not.
pub fn require(role: Role) -> Result<CurrentUser, AppError> {
    let user = session().ok_or(AppError::Unauthenticated)?.user;
    if user.can(role) {
        Ok(user)
    } else {
        Err(AppError::Forbidden(format!(
            "this needs the {role} role or higher, and you are a {}.",
            user.role
        )))
    }
}

/// Whether the browser posted the form itself (scripts not loaded yet, or turned off). Such a
/// request is answered with a redirect back to the page, which an error status would replace.
fn is_plain_form_post() -> bool {
    parts().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Runs a server function body and turns its error into the matching HTTP status.
pub async fn respond<T>(
    body: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let result = body.await;
    if let Err(error) = &result {
        if is_plain_form_post() {
            return result;
        }
        if let Some(options) = use_context::<ResponseOptions>() {
            options.set_status(
                http::StatusCode::from_u16(error.status())
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
        if let AppError::TooManyAttempts {
            retry_after_seconds,
        } = error
        {
            if let (Some(options), Ok(value)) = (
                use_context::<ResponseOptions>(),
                http::HeaderValue::from_str(&retry_after_seconds.to_string()),
            ) {
                options.insert_header(http::header::RETRY_AFTER, value);
            }
        }
    }
    result
}
