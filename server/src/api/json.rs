//! A JSON extractor whose rejections are problem+json with the failing path, not axum's plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::{ApiError, InvalidField};

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonDataError(error)) => {
                // serde's message names the path, e.g. "samples[3].ts: invalid type ...".
                let text = std::error::Error::source(&error)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| error.body_text());
                let (path, message) = match text.split_once(": ") {
                    Some((path, message)) if !path.contains(' ') => {
                        (path.to_owned(), message.to_owned())
                    }
                    _ => (String::new(), text),
                };
                Err(ApiError::Validation(vec![InvalidField { path, message }]))
            }
            Err(JsonRejection::JsonSyntaxError(error)) => Err(ApiError::BadRequest(format!(
                "the body is not valid JSON: {}",
                std::error::Error::source(&error)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ))),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "send the body with `Content-Type: application/json`".into(),
            )),
            Err(other) if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge)
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}
