//! API errors as `application/problem+json` (RFC 9457). Internal details are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One wrong field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct InvalidField {
    /// Where in the request, e.g. `samples[41].utilization_pct`.
    pub path: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("this token lacks the `{0}` scope")]
    MissingScope(app::tokens::Scope),
    /// The token may not act on this: it is bound to another team.
    #[error("{0}")]
    Forbidden(String),
    #[error("the request is invalid")]
    Validation(Vec<InvalidField>),
    /// A refused upload: what was wrong as a sentence, and each problem.
    #[error("{0}")]
    Refused(String, Vec<InvalidField>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than this server accepts")]
    PayloadTooLarge,
    #[error("the server is busy")]
    Overloaded { retry_after_seconds: u64 },
    /// Every connection long streams may hold is taken (`PARETO_STREAM_CONNECTIONS`).
    #[error(
        "as many exports and imports as this server runs at once are running; try again in a minute"
    )]
    StreamsBusy,
    #[error("internal error")]
    Internal,
}

/// A problem (RFC 9457): what went wrong, and for invalid fields each one by its path.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Problem")]
pub(crate) struct Problem<'a> {
    /// A short name of the kind of problem: `unauthorized`, `forbidden`, `validation`,
    /// `bad-request`, `not-found`, `conflict`, `payload-too-large`, `overloaded`, `streams-busy`, `internal`.
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    /// What happened, as a sentence a person can act on.
    detail: String,
    /// Each invalid field, for `validation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [InvalidField]>,
}

/// The problem's shape, for the API's description.
pub(crate) type ProblemDoc = Problem<'static>;

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid token",
            ),
            ApiError::MissingScope(_) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Token lacks a required scope",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not this token's team"),
            ApiError::Validation(_) | ApiError::Refused(..) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
            ),
            ApiError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "bad-request", "Malformed request")
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            ApiError::Overloaded { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "overloaded", "Server busy")
            }
            ApiError::StreamsBusy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "streams-busy",
                "Too many exports and imports at once",
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.parts();
        let kind = format!("urn:pareto:problem:{kind}");
        let detail = match &self {
            ApiError::Validation(errors) => format!(
                "{} {} invalid",
                errors.len(),
                if errors.len() == 1 {
                    "field is"
                } else {
                    "fields are"
                }
            ),
            ApiError::Internal => "The error has been logged; try again later.".into(),
            other => other.to_string(),
        };
        let errors = match &self {
            ApiError::Validation(errors) | ApiError::Refused(_, errors) => Some(errors.as_slice()),
            _ => None,
        };
        let body = Problem {
            kind: &kind,
            title,
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Overloaded {
                retry_after_seconds,
            } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            ApiError::StreamsBusy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            }
            _ => {}
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error in the API");
        ApiError::Internal
    }
}

impl From<app::error::AppError> for ApiError {
    fn from(error: app::error::AppError) -> Self {
        use app::error::AppError;
        match error {
            AppError::Validation(fields) => ApiError::Validation(
                fields
                    .into_iter()
                    .map(|f| InvalidField {
                        path: f.field,
                        message: f.message,
                    })
                    .collect(),
            ),
            AppError::NotFound(message) => ApiError::NotFound(message),
            AppError::Conflict(message) => ApiError::Conflict(message),
            AppError::BadRequest(message) => ApiError::BadRequest(message),
            AppError::Unauthenticated => ApiError::Unauthorized("missing or invalid token"),
            AppError::Forbidden(message) => ApiError::Forbidden(message),
            AppError::TooManyAttempts { .. } | AppError::Internal => ApiError::Internal,
        }
    }
}
