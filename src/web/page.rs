//! The page: plain HTML, CSS and JavaScript from `web/`, compiled into the binary so that the
//! server needs no files and the page makes no request to anywhere else.

use axum::http::header::{self, HeaderName};
use axum::response::IntoResponse;

/// `web/index.html`.
pub const INDEX_HTML: &str = include_str!("../../web/index.html");
/// `web/app.js`.
pub const APP_JS: &str = include_str!("../../web/app.js");
/// `web/style.css`.
pub const STYLE_CSS: &str = include_str!("../../web/style.css");
/// `web/docs.css`: served as `/docs/index.css` in place of Swagger UI's own.
pub const DOCS_CSS: &str = include_str!("../../web/docs.css");
/// `web/favicon.svg`.
pub const FAVICON_SVG: &str = include_str!("../../web/favicon.svg");

/// The page's files may be cached but are checked on every load, so a new binary's page shows
/// at once. (Everything else, the API above all, says `no-store`.)
const REVALIDATE: (HeaderName, &str) = (header::CACHE_CONTROL, "no-cache");

/// An embedded file with its media type.
fn file(media_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, media_type), REVALIDATE], body)
}

/// `GET /`: the page.
pub async fn index() -> impl IntoResponse {
    file("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /app.js`: the page's script.
pub async fn script() -> impl IntoResponse {
    file("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /style.css`: the page's styles.
pub async fn style() -> impl IntoResponse {
    file("text/css; charset=utf-8", STYLE_CSS)
}

/// `GET /favicon.svg`: the page's icon.
pub async fn favicon() -> impl IntoResponse {
    file("image/svg+xml", FAVICON_SVG)
}

/// `GET /docs/index.css`: the API docs in the page's colours (light and dark), in place of the
/// vendored Swagger UI's own small stylesheet.
pub async fn docs_style() -> impl IntoResponse {
    file("text/css; charset=utf-8", DOCS_CSS)
}
