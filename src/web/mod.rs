//! The web server of `moodreel serve`: the page, the JSON API under `/api/v1`, its OpenAPI
//! document and the interactive docs at `/docs`, all in one [`Router`].
//!
//! [`AppState`] holds what is loaded once at start-up and shared by every request (the photo
//! pipeline with its model, the catalog, the OpenAPI document) and the limit on concurrent
//! photo reading. [`router`] builds the app; [`serve`] runs it on a listener until a shutdown
//! signal, which is what both `moodreel serve` and the integration tests (on port 0) call.
//!
//! Privacy: uploads are parsed in memory (no temporary files), never logged, and every API
//! response says `Cache-Control: no-store`.

pub mod api;
pub mod error;
pub mod openapi;
pub mod page;
pub mod upload;

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use catalog::Catalog;
use recommend::Recommendations;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::pipeline::{PhotoPipeline, PhotoReading, load_model};
use api::{CatalogFacts, Health, ModelFacts};
use error::ApiError;

/// Largest photo accepted: the decoder's own limit (`vision::DecodeLimits`), 15 MiB.
pub const IMAGE_LIMIT: usize = 15 * 1024 * 1024;

/// Largest request body: a photo of [`IMAGE_LIMIT`] plus room for the form around it.
pub const BODY_LIMIT: usize = IMAGE_LIMIT + 64 * 1024;

/// The Content Security Policy of the page: nothing from elsewhere, no inline script.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// [`PAGE_CSP`] with images from `https:` allowed too: the policy of the page when the catalog
/// holds poster links (`https` ones only; the page shows no other). The posters are the user's
/// catalog data; the page itself still fetches nothing from elsewhere.
pub const PAGE_CSP_WITH_POSTERS: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob:; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The Content Security Policy of `/docs`: Swagger UI sets inline styles, and nothing else.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// How many photos may wait for a busy slot, per inference slot. A photo beyond
/// `inference_slots × WAITING_PER_SLOT` waiting ones is answered 503 at once, so that under
/// overload the refusals are fast instead of each taking [`Limits::inference_wait`].
pub const WAITING_PER_SLOT: usize = 4;

/// How much work the server takes on at once, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Photos read at the same time at most (each uses one core). Zero refuses every photo with
    /// 503, which is how the tests check the overload answer.
    pub inference_slots: usize,
    /// How long a photo may wait for a free slot before the answer is 503. At most
    /// [`WAITING_PER_SLOT`] photos per slot wait; one beyond them is answered 503 at once.
    pub inference_wait: Duration,
    /// Longest time for a whole request, upload included.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            inference_slots: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            inference_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What every request shares: loaded once, read-only, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    pipeline: PhotoPipeline,
    catalog: Cow<'static, Catalog>,
    health: Health,
    openapi_json: Bytes,
    slots: Arc<Semaphore>,
    /// Places in the queue for a slot: [`WAITING_PER_SLOT`] per slot.
    waiting: Arc<Semaphore>,
    limits: Limits,
}

impl AppState {
    /// Loads the expression model (from `model_dir`, else the built-in one) and builds the
    /// state around it and `catalog`. Mirror averaging (`tta`) reads each face twice.
    pub fn load(
        model_dir: Option<&Path>,
        catalog: Cow<'static, Catalog>,
        tta: bool,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        let model = load_model(model_dir)?;
        let model_facts = ModelFacts {
            source: model_dir
                .map_or_else(|| "built-in".to_owned(), |dir| dir.display().to_string()),
            parameters: model.parameter_count(),
            mirror_averaging: tta,
        };
        let pipeline = PhotoPipeline::new(Arc::new(model), tta)?;
        Ok(Self::new(pipeline, catalog, model_facts, limits))
    }

    /// The state around a pipeline already built.
    pub fn new(
        pipeline: PhotoPipeline,
        catalog: Cow<'static, Catalog>,
        model: ModelFacts,
        limits: Limits,
    ) -> Self {
        let health = Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            model,
            catalog: CatalogFacts {
                source: catalog.source().to_owned(),
                films: catalog.len(),
            },
            inference_slots: limits.inference_slots,
        };
        Self {
            shared: Arc::new(Shared {
                pipeline,
                catalog,
                health,
                openapi_json: Bytes::from(openapi::document_json()),
                slots: Arc::new(Semaphore::new(limits.inference_slots)),
                waiting: Arc::new(Semaphore::new(
                    limits.inference_slots.saturating_mul(WAITING_PER_SLOT),
                )),
                limits,
            }),
        }
    }

    /// The film catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.shared.catalog
    }

    /// What `/api/v1/health` says.
    pub fn health(&self) -> Health {
        self.shared.health.clone()
    }

    /// The OpenAPI document, rendered once.
    pub fn openapi_json(&self) -> Bytes {
        self.shared.openapi_json.clone()
    }

    /// The page's Content Security Policy: [`PAGE_CSP_WITH_POSTERS`] when a film of the
    /// catalog has an `https` poster link, else the stricter [`PAGE_CSP`].
    pub fn page_csp(&self) -> &'static str {
        let posters = self
            .catalog()
            .movies()
            .iter()
            .filter_map(|movie| movie.poster_url.as_deref())
            .any(is_https_link);
        if posters {
            PAGE_CSP_WITH_POSTERS
        } else {
            PAGE_CSP
        }
    }

    /// Takes a free inference slot, if there is one, and holds it until the permit is dropped,
    /// as a photo being read does. With every slot held, photos are answered 503: this is how
    /// the overload answer is checked (and how an operator could drain a server of photo work).
    pub fn hold_inference_slot(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.shared.slots).try_acquire_owned().ok()
    }

    /// Reads a photo on the blocking pool, once a slot is free, within the current request's
    /// tracing span. Without a free slot it queues, if one of the [`WAITING_PER_SLOT`] places
    /// per slot is free, for at most [`Limits::inference_wait`]; then, or at once without a
    /// place, the answer is 503.
    pub async fn read_photo(&self, photo: Bytes) -> Result<PhotoReading, ApiError> {
        let permit = self.inference_slot().await?;
        let shared = Arc::clone(&self.shared);
        let span = tracing::Span::current();
        let reading = tokio::task::spawn_blocking(move || {
            // The slot is held until the work is done, even if the client has gone.
            let _permit = permit;
            span.in_scope(|| {
                let started = Instant::now();
                let result = shared.pipeline.read_bytes(&photo);
                if let Ok((_, reading)) = &result {
                    tracing::info!(
                        width = reading.width,
                        height = reading.height,
                        faces = reading.faces.len(),
                        millis = started.elapsed().as_millis() as u64,
                        "photo read"
                    );
                }
                result.map(|(_, reading)| reading)
            })
        })
        .await??;
        Ok(reading)
    }

    /// Ranks films for `request` on the blocking pool.
    pub async fn recommend(
        &self,
        request: recommend::Request,
    ) -> Result<Recommendations, ApiError> {
        let shared = Arc::clone(&self.shared);
        let span = tracing::Span::current();
        let list = tokio::task::spawn_blocking(move || {
            span.in_scope(|| recommend::recommend(&shared.catalog, &request))
        })
        .await??;
        Ok(list)
    }

    async fn inference_slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let wait = self.shared.limits.inference_wait;
        let busy = || ApiError::Overloaded {
            retry_after: wait.as_secs().max(1),
        };
        let slots = Arc::clone(&self.shared.slots);
        if let Ok(permit) = Arc::clone(&slots).try_acquire_owned() {
            return Ok(permit);
        }
        // Every slot is busy: wait in the queue if it has room, else refuse at once.
        let Ok(_place) = Arc::clone(&self.shared.waiting).try_acquire_owned() else {
            tracing::debug!("inference queue full: refused at once");
            return Err(busy());
        };
        match tokio::time::timeout(wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (or the semaphore closed, which it never is): busy.
            _ => Err(busy()),
        }
    }
}

/// Whether a poster link is one the page shows: `https://` with a host.
pub fn is_https_link(link: &str) -> bool {
    link.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
        && link.len() > 8
}

/// The whole app: page, API, docs, error fallbacks and the layers every response passes.
pub fn router(state: AppState) -> Router {
    let limits = state.shared.limits;
    let page_csp = state.page_csp();
    let api = Router::new()
        .route("/analyze", post(api::analyze))
        .route("/recommendations", post(api::recommendations))
        .route("/movies", get(api::movies))
        .route("/health", get(api::health))
        .route("/openapi.json", get(api::openapi))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let docs = Router::from(
        SwaggerUi::new("/docs").config(
            Config::new(["/api/v1/openapi.json"])
                .validator_url("none")
                .try_it_out_enabled(true),
        ),
    )
    .layer(middleware::from_fn(docs_not_found))
    .layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    ));
    let app = Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/favicon.svg", get(page::favicon))
        .route("/docs/index.css", get(page::docs_style))
        .nest("/api/v1", api)
        .merge(docs)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_large_bodies))
        .layer(middleware::from_fn(move |request, next| {
            time_limit(limits.request_timeout, request, next)
        }));
    with_security_headers(app, page_csp)
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // Method and path only: no query, no headers, never a body.
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .with_state(state)
}

/// Serves the app on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Listens for Ctrl-C and SIGTERM from the moment it is called (so a signal that comes before the
/// server's first request still stops it cleanly); the future completes on either.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

/// Listens for Ctrl-C; the future completes on it.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    })
}

/// Adds the headers every response carries unless a route set its own.
fn with_security_headers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    page_csp: &'static str,
) -> Router<S> {
    let headers = [
        (header::CONTENT_SECURITY_POLICY, page_csp),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

/// Answers 413 at once when the declared length is over the limit, before reading anything.
async fn refuse_large_bodies(request: Request, next: Next) -> Result<Response, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(ApiError::TooLarge { limit: BODY_LIMIT });
    }
    Ok(next.run(request).await)
}

/// Ends a request that runs longer than the limit (a slow upload, say) with 503.
async fn time_limit(limit: Duration, request: Request, next: Next) -> Result<Response, ApiError> {
    tokio::time::timeout(limit, next.run(request))
        .await
        .map_err(|_| ApiError::Timeout {
            seconds: limit.as_secs().max(1),
        })
}

/// Swagger UI answers an unknown file with a bare 404; make it the same problem as elsewhere.
async fn docs_not_found(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        ApiError::NotFound(path).into_response()
    } else {
        response
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_limit_is_the_decoders() {
        assert_eq!(IMAGE_LIMIT, vision::DecodeLimits::default().max_bytes);
    }

    #[test]
    fn only_https_poster_links_count() {
        assert!(is_https_link("https://posters.example/a.jpg"));
        assert!(is_https_link("HTTPS://posters.example/a.jpg"));
        for link in [
            "http://posters.example/a.jpg",
            "https://",
            "javascript:x",
            "",
            "ftp://x",
        ] {
            assert!(!is_https_link(link), "{link}");
        }
    }

    /// A SIGTERM that arrives between `shutdown_signal()` and the first poll of its future (as
    /// one sent the moment `serve` prints its address can) ends the future instead of killing
    /// the process: without the handler in place, this test's own process would die.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_sigterm_before_the_first_poll_is_caught() {
        let shutdown = shutdown_signal().expect("signal handlers");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        tokio::time::timeout(std::time::Duration::from_secs(10), shutdown)
            .await
            .expect("the SIGTERM sent before the first poll ends the shutdown future");
    }

    #[test]
    fn the_poster_policy_differs_only_in_https_images() {
        assert_eq!(
            PAGE_CSP_WITH_POSTERS,
            PAGE_CSP.replace(
                "img-src 'self' data: blob:",
                "img-src 'self' data: blob: https:"
            )
        );
    }
}
