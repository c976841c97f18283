//! The one error type of the web layer and its one conversion to HTTP: an RFC 9457
//! `application/problem+json` body with the right status.
//!
//! Every failure a handler, an extractor or a middleware can meet becomes an [`ApiError`]; the
//! [`IntoResponse`] impl below is the only place where a status code is chosen for one.

use axum::Json;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::pipeline::PipelineError;
use recommend::RecommendError;
use vision::DecodeError;

/// The media type of an error body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Longest `detail` sent, in characters: a message that quotes the request (an unknown field's
/// name, a bad value) is cut there, so that a huge input is not echoed back or logged whole.
pub const MAX_DETAIL_CHARS: usize = 300;

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a field has a bad value (400).
    #[error("{0}")]
    BadRequest(String),
    /// The request body is larger than the limit (413).
    #[error("the request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The body limit in bytes.
        limit: usize,
    },
    /// The request body is not of a media type this route reads (415).
    #[error("{0}")]
    UnsupportedRequestType(String),
    /// The uploaded file is not an image type we read, judged from its bytes (415).
    #[error(
        "the file is not an image moodreel reads ({found}); send {}",
        vision::SUPPORTED_FORMATS
    )]
    NotAnImage {
        /// What the bytes look like.
        found: String,
    },
    /// The image cannot be decoded, or is too large once decoded (422).
    #[error("{0}")]
    Undecodable(DecodeError),
    /// A photo was needed for the mood but has no face (422).
    #[error("no face found; pick a mood instead")]
    NoFace,
    /// The filters leave no film (422); the message names the filter.
    #[error("{detail}")]
    NothingLeft {
        /// Which filter emptied the list, in words.
        detail: String,
        /// Its request field.
        field: &'static str,
    },
    /// No such route (404).
    #[error("there is nothing at {0}")]
    NotFound(String),
    /// The route exists but not with this method (405).
    #[error("this route does not answer {0}")]
    MethodNotAllowed(String),
    /// Every inference slot stayed busy for the whole wait (503).
    #[error("the server is busy reading other photos; try again in {retry_after} s")]
    Overloaded {
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The request took longer than the server allows (503).
    #[error("the request took longer than {seconds} s")]
    Timeout {
        /// The time limit in seconds.
        seconds: u64,
    },
    /// The upload came in too slowly: it stalled, or stayed under the minimum rate (408).
    #[error(
        "the upload came in too slowly (under {min_rate} bytes/s, or nothing for {stall_seconds} s)"
    )]
    TooSlow {
        /// The minimum average rate in bytes per second.
        min_rate: u64,
        /// The longest pause between two pieces of the body, in seconds.
        stall_seconds: u64,
    },
    /// The `Host` header names a server other than this one (421): a page reached through a
    /// foreign name (DNS rebinding) must not be answered as this server's own.
    #[error(
        "this server does not answer for the host {0:?}; use http://127.0.0.1 or pass --allowed-host"
    )]
    UnknownHost(String),
    /// The request comes from another site's page (403): `Sec-Fetch-Site: cross-site` or a
    /// foreign `Origin`.
    #[error("requests from other sites are refused ({0})")]
    CrossSite(String),
    /// A fault of the server, not of the request (500). The cause is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// An error (RFC 9457 problem details), sent as `application/problem+json`: the RFC's members
/// plus `code`, a stable name to branch on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and `code` say what happened.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The HTTP status in words.
    title: &'static str,
    /// The HTTP status code.
    status: u16,
    /// What went wrong, for a person.
    detail: String,
    /// A stable name to branch on: `bad_request`, `too_large`, `not_an_image`,
    /// `empty_image`, `undecodable_image`, `image_too_large`, `no_face`, `nothing_left`,
    /// `overloaded`, ...
    code: &'static str,
    /// With `nothing_left`: the request field of the filter that emptied the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedRequestType(_) | ApiError::NotAnImage { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::Undecodable(DecodeError::Empty) => StatusCode::BAD_REQUEST,
            ApiError::Undecodable(DecodeError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Undecodable(DecodeError::UnsupportedFormat { .. }) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::Undecodable(_) | ApiError::NoFace | ApiError::NothingLeft { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnknownHost(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::CrossSite(_) => StatusCode::FORBIDDEN,
            ApiError::Overloaded { .. } | ApiError::Timeout { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short stable name for the kind of problem (the body's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::UnsupportedRequestType(_) => "unsupported_request_type",
            ApiError::NotAnImage { .. } => "not_an_image",
            ApiError::Undecodable(DecodeError::Empty) => "empty_image",
            ApiError::Undecodable(DecodeError::TooLarge { .. }) => "too_large",
            ApiError::Undecodable(DecodeError::UnsupportedFormat { .. }) => "not_an_image",
            ApiError::Undecodable(
                DecodeError::TooManyPixels { .. } | DecodeError::TooMuchMemory { .. },
            ) => "image_too_large",
            ApiError::Undecodable(_) => "undecodable_image",
            ApiError::NoFace => "no_face",
            ApiError::NothingLeft { .. } => "nothing_left",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::TooSlow { .. } => "too_slow",
            ApiError::UnknownHost(_) => "unknown_host",
            ApiError::CrossSite(_) => "cross_site",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Timeout { .. } => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(cause = %Escaped(cause), "internal error");
                "the server failed on this request; the cause is in its log".to_owned()
            }
            other => shorten(other.to_string()),
        };
        if status.is_client_error() {
            // The detail may quote the request (a field name, a value): escaped, it cannot
            // forge a log line or send a terminal an escape sequence.
            tracing::info!(
                status = status.as_u16(),
                code = self.code(),
                detail = %Escaped(&detail),
                "request refused"
            );
        }
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            code: self.code(),
            field: match &self {
                ApiError::NothingLeft { field, .. } => Some(field),
                _ => None,
            },
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::Overloaded { retry_after }
        | ApiError::Timeout {
            seconds: retry_after,
        } = self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

/// Text from a request, written with its control characters escaped (`\n` as `\\n`, ESC as
/// `\\u{1b}`), so that a logged value stays on its own line and cannot drive a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for ch in self.0.chars() {
            if ch.is_control() {
                write!(f, "{}", ch.escape_default())?;
            } else {
                f.write_char(ch)?;
            }
        }
        Ok(())
    }
}

/// `text` cut to [`MAX_DETAIL_CHARS`] characters, with `…` where it was cut.
pub(crate) fn shorten(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_DETAIL_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

impl From<PipelineError> for ApiError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Decode(error) => ApiError::Undecodable(error),
            PipelineError::NoFace => ApiError::NoFace,
            // The detector, the model and its output are the server's business, not the client's.
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RecommendError> for ApiError {
    fn from(error: RecommendError) -> Self {
        match error {
            RecommendError::NothingLeft { field, .. } => ApiError::NothingLeft {
                detail: error.to_string(),
                field,
            },
            RecommendError::InvalidCount { .. } | RecommendError::InvalidRating(_) => {
                ApiError::BadRequest(error.to_string())
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedRequestType(
                "send the request as application/json or multipart/form-data".to_owned(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
                limit: super::SMALL_BODY_LIMIT,
            },
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<MultipartRejection> for ApiError {
    fn from(rejection: MultipartRejection) -> Self {
        match rejection {
            MultipartRejection::InvalidBoundary(_) => ApiError::BadRequest(
                "the multipart/form-data request has no valid boundary".to_owned(),
            ),
            other => ApiError::UnsupportedRequestType(other.body_text()),
        }
    }
}

impl From<MultipartError> for ApiError {
    fn from(error: MultipartError) -> Self {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: super::BODY_LIMIT,
            }
        } else {
            ApiError::BadRequest(format!(
                "broken multipart/form-data body: {}",
                error.body_text()
            ))
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a worker task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_product_contract() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Undecodable(DecodeError::Empty), 400),
            (ApiError::TooLarge { limit: 1 }, 413),
            (
                ApiError::NotAnImage {
                    found: "text".into(),
                },
                415,
            ),
            (ApiError::Undecodable(DecodeError::Truncated), 422),
            (
                ApiError::Undecodable(DecodeError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    limit: 40_000_000,
                }),
                422,
            ),
            (ApiError::NoFace, 422),
            (ApiError::Overloaded { retry_after: 1 }, 503),
            (ApiError::Internal("x".into()), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn logged_text_has_no_control_characters() {
        let forged = Escaped("x\n2026-12-04T15:00:00Z WARN forged \u{1b}[2K\u{85}end").to_string();
        assert!(!forged.chars().any(char::is_control), "{forged}");
        assert!(
            forged.contains("\\n2026") && forged.contains("\\u{1b}[2K"),
            "{forged}"
        );
        assert_eq!(Escaped("plain é text").to_string(), "plain é text");
    }

    #[test]
    fn long_details_are_cut() {
        assert_eq!(shorten("short".into()), "short");
        let long = shorten("é".repeat(5000));
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn overload_says_when_to_come_back() {
        let response = ApiError::Overloaded { retry_after: 2 }.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
