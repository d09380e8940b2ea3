//! Errors as RFC 9457 problem details. The `detail` is the message the CLI
//! prints for the same failure (both come from the same `AppError` or
//! validation function); `type` is a URN naming the kind of problem.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::engine::EngineError;
use crate::service::AppError;
use crate::store::StoreError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

pub const CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:steward:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The problem for a service error: refusals are the client's (4xx), a
    /// locked or broken database the server's (5xx).
    pub fn from_app(e: &AppError) -> Problem {
        let detail = e.to_string();
        match e {
            AppError::UnknownTicket(_) => {
                Problem::new(StatusCode::NOT_FOUND, "unknown-ticket", detail)
            }
            AppError::Engine(EngineError::Exists(_)) => {
                Problem::new(StatusCode::CONFLICT, "ticket-exists", detail)
            }
            AppError::Engine(EngineError::InvalidTransition { .. }) => {
                Problem::new(StatusCode::CONFLICT, "illegal-transition", detail)
            }
            AppError::Engine(EngineError::Refused { .. }) => {
                Problem::new(StatusCode::CONFLICT, "refused", detail)
            }
            AppError::Engine(EngineError::InThePast { .. }) => {
                Problem::new(StatusCode::CONFLICT, "in-the-past", detail)
            }
            AppError::Engine(EngineError::Invalid(_))
            | AppError::Invalid(_)
            | AppError::UnknownEstate(_) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
            }
            AppError::NoPolicy => Problem::new(StatusCode::CONFLICT, "no-policy", detail),
            AppError::Store(StoreError::Locked { .. }) => Problem::unavailable(detail),
            AppError::Store(_)
            | AppError::Corrupt(..)
            | AppError::Tampered(..)
            | AppError::Compile(_)
            | AppError::MissingPolicy(_)
            | AppError::UnreadablePolicy(..)
            | AppError::PartlyFailed { .. }
            | AppError::System(_) => Problem::internal(detail),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, self.to_json()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        Problem::from_app(&e)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        Problem::from_app(&AppError::Store(e))
    }
}
