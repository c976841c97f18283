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
//!
//! Hardening (see `docs/web.md`): connections are served by hyper with a header-read timeout
//! that also ends idle keep-alive connections, and their number is capped; request bodies are
//! small except a photo's, are read under a shared byte budget and a minimum rate; photos and
//! rankings each take a permit, and a photo's decode memory is budgeted; only requests for
//! this server's own host names from its own pages are answered.

pub mod api;
pub mod error;
pub mod openapi;
pub mod page;
pub mod schema;
pub mod upload;

use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use catalog::Catalog;
use futures_util::StreamExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use recommend::Recommendations;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::pipeline::{PhotoPipeline, PhotoReading};
use api::{CatalogFacts, Health, ModelFacts};
use error::{ApiError, Escaped};

/// Limits on a recommendation request's lists (the API refuses longer ones with 400, and the
/// OpenAPI document states them).
/// Most genres in `genres` or `exclude_genres` (there are fewer genres than this).
pub const MAX_GENRES: usize = 50;
/// Most certificates in `certificates`.
pub const MAX_CERTIFICATES: usize = 50;
/// Most titles in `exclude_titles`.
pub const MAX_EXCLUDED_TITLES: usize = 1000;
/// Longest certificate or excluded title, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Largest photo accepted: the decoder's own limit (`vision::DecodeLimits`), 15 MiB.
pub const IMAGE_LIMIT: usize = 15 * 1024 * 1024;

/// Largest body without a photo: a JSON request, and the text fields of a form together. A
/// request of the largest lists allowed (1,000 titles of 200 characters is more) has no use
/// for more, and ranking time grows with the lists.
pub const SMALL_BODY_LIMIT: usize = 64 * 1024;

/// Largest request body: a photo of [`IMAGE_LIMIT`] plus room for the form around it. Only a
/// `multipart/form-data` request to a route that reads photos may be this large; every other
/// body is held to [`SMALL_BODY_LIMIT`].
pub const BODY_LIMIT: usize = IMAGE_LIMIT + SMALL_BODY_LIMIT;

/// The routes that read a photo from a multipart form.
const PHOTO_ROUTES: &[&str] = &["/api/v1/analyze", "/api/v1/recommendations"];

/// Largest read buffer of a connection, which bounds a request's head (line and headers): a
/// larger head is answered 431 by hyper. hyper's default, about 400 KiB, let a thousand
/// connections hold 400 MB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

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
    /// Films ranked at the same time at most; like photos, at most [`WAITING_PER_SLOT`] per
    /// slot wait (for [`Limits::inference_wait`]), beyond them the answer is 503.
    pub ranking_slots: usize,
    /// Bytes of request bodies held at once, all requests together. A request with a body
    /// reserves its declared length (or its route's limit, when the length is not declared)
    /// before reading it; one that does not fit is answered 503 at once.
    pub body_budget: usize,
    /// Bytes of decoded pixels held at once, all photos together. A photo reserves what its
    /// header says decoding will take before decoding; one that cannot fit even alone is
    /// refused (422 `image_too_large`), one that must wait queues like a photo for a slot.
    pub decode_budget: u64,
    /// Slowest accepted upload, in bytes per second on average, judged after
    /// [`Limits::upload_stall`]; slower is answered 408.
    pub min_upload_rate: u64,
    /// Longest pause between two pieces of a body; longer is answered 408.
    pub upload_stall: Duration,
    /// Longest time to receive a request's head (line and headers), and longest time an idle
    /// keep-alive connection stays open: the connection is closed after it.
    pub header_read_timeout: Duration,
    /// Connections open at once at most; one more is closed at once, before anything is read.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        Self {
            inference_slots: cores,
            inference_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            ranking_slots: cores,
            body_budget: 64 * 1024 * 1024,
            decode_budget: DECODE_BUDGET,
            min_upload_rate: 32 * 1024,
            upload_stall: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// The default [`Limits::decode_budget`], 160 MiB: a 40-megapixel photo in 8-bit RGBA (160 MB)
/// fits, so does a 22-megapixel RGB photo turned on its side by its EXIF orientation (decoded,
/// then turned into a second buffer). The idle server holds about 40 MB, and about 100 MB after
/// a burst of thousands of requests (memory its allocator keeps); with this budget it stays
/// under 300 MB whatever photos are sent (`scripts/loadtest.sh`, figures in `docs/web.md`).
pub const DECODE_BUDGET: u64 = 160 * 1024 * 1024;

/// What every request shares: loaded once, read-only, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
    /// Host names answered besides `localhost` and IP addresses, lower case.
    allowed_hosts: Arc<[String]>,
}

struct Shared {
    pipeline: PhotoPipeline,
    catalog: Cow<'static, Catalog>,
    health: Health,
    openapi_json: Bytes,
    /// Photos being read.
    photos: Gate,
    /// Rankings under way.
    rankings: Gate,
    /// Bodies being read, in KiB.
    bodies: Arc<Semaphore>,
    /// Decoded pixels held, in KiB.
    decoding: Arc<Semaphore>,
    limits: Limits,
}

/// A fixed number of slots for one kind of work, with a bounded queue in front: at most
/// [`WAITING_PER_SLOT`] per slot wait, each for at most the given time.
struct Gate {
    slots: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    wait: Duration,
}

impl Gate {
    fn new(slots: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            waiting: Arc::new(Semaphore::new(slots.saturating_mul(WAITING_PER_SLOT))),
            wait,
        }
    }

    fn busy(&self) -> ApiError {
        ApiError::Overloaded {
            retry_after: self.wait.as_secs().max(1),
        }
    }

    /// A free slot, after waiting in the queue if every slot is taken; 503 when the queue is
    /// full or the wait runs out.
    async fn enter(&self, what: &'static str) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() {
            return Ok(permit);
        }
        // Every slot is busy: wait in the queue if it has room, else refuse at once.
        let Ok(_place) = Arc::clone(&self.waiting).try_acquire_owned() else {
            tracing::debug!(what, "queue full: refused at once");
            return Err(self.busy());
        };
        match tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (or the semaphore closed, which it never is): busy.
            _ => Err(self.busy()),
        }
    }
}

/// Semaphores count permits in `u32`; budgets are kept in KiB, rounded up.
fn kib(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

fn budget_semaphore(bytes: u64) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(kib(bytes) as usize))
}

impl AppState {
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
                photos: Gate::new(limits.inference_slots, limits.inference_wait),
                rankings: Gate::new(limits.ranking_slots, limits.inference_wait),
                bodies: budget_semaphore(limits.body_budget as u64),
                decoding: budget_semaphore(limits.decode_budget),
                limits,
            }),
            allowed_hosts: Arc::from(Vec::new()),
        }
    }

    /// Also answers requests whose `Host` is one of `hosts` (names this server is reached by,
    /// besides `localhost` and IP addresses, which are always answered).
    pub fn with_allowed_hosts(mut self, hosts: impl IntoIterator<Item = String>) -> Self {
        let mut allowed = self.allowed_hosts.to_vec();
        allowed.extend(hosts.into_iter().map(|host| normalise_host(&host)));
        self.allowed_hosts = Arc::from(allowed);
        self
    }

    /// Whether a request for `host` (a `Host` header's value, port included or not) is one for
    /// this server: an IP address (a page that reached the server by address is on it; DNS
    /// rebinding needs a name), `localhost`, or a name given to [`Self::with_allowed_hosts`].
    pub fn is_own_host(&self, host: &str) -> bool {
        let name = normalise_host(strip_port(host));
        name == "localhost"
            || name.parse::<IpAddr>().is_ok()
            || name
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .is_some_and(|inner| inner.parse::<std::net::Ipv6Addr>().is_ok())
            || self.allowed_hosts.contains(&name)
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
        Arc::clone(&self.shared.photos.slots)
            .try_acquire_owned()
            .ok()
    }

    /// Reads a photo on the blocking pool, once a slot is free, within the current request's
    /// tracing span. Without a free slot it queues, if one of the [`WAITING_PER_SLOT`] places
    /// per slot is free, for at most [`Limits::inference_wait`]; then, or at once without a
    /// place, the answer is 503.
    ///
    /// The decoded picture's memory is reserved from [`Limits::decode_budget`] first, from
    /// what the header says (a picture that cannot fit even alone is 422 `image_too_large`).
    pub async fn read_photo(&self, photo: Bytes) -> Result<PhotoReading, ApiError> {
        let memory = self.reserve_decode_memory(&photo).await?;
        let permit = self.shared.photos.enter("photo").await?;
        let shared = Arc::clone(&self.shared);
        let span = tracing::Span::current();
        let reading = tokio::task::spawn_blocking(move || {
            // The slot and the memory are held until the work is done, even if the client has
            // gone.
            let _permit = (permit, memory);
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

    /// Ranks films for `request` on the blocking pool, once a ranking slot is free (queued
    /// and refused like photos: see [`Limits::ranking_slots`]).
    pub async fn recommend(
        &self,
        request: recommend::Request,
    ) -> Result<Recommendations, ApiError> {
        let permit = self.shared.rankings.enter("ranking").await?;
        let shared = Arc::clone(&self.shared);
        let span = tracing::Span::current();
        let list = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| recommend::recommend(&shared.catalog, &request))
        })
        .await??;
        Ok(list)
    }

    /// Reserves the memory decoding `photo` will take, judged from its header; waits for it
    /// (queued like a photo for a slot) when other photos hold the budget.
    async fn reserve_decode_memory(&self, photo: &[u8]) -> Result<OwnedSemaphorePermit, ApiError> {
        let budget = self.shared.limits.decode_budget;
        let needed = vision::decode_memory(photo, &vision::DecodeLimits::default())
            .map_err(ApiError::Undecodable)?;
        if needed > budget {
            return Err(ApiError::Undecodable(vision::DecodeError::TooMuchMemory {
                limit: budget,
            }));
        }
        let permits = kib(needed).max(1);
        let memory = Arc::clone(&self.shared.decoding);
        if let Ok(permit) = Arc::clone(&memory).try_acquire_many_owned(permits) {
            return Ok(permit);
        }
        let wait = self.shared.limits.inference_wait;
        match tokio::time::timeout(wait, memory.acquire_many_owned(permits)).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Overloaded {
                retry_after: wait.as_secs().max(1),
            }),
        }
    }
}

/// A host name as compared: lower case, without a trailing dot.
fn normalise_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `host` without its `:port`, if it has one (`[::1]:5000` → `[::1]`).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
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
        .layer(middleware::from_fn_with_state(state.clone(), guard_body))
        .layer(middleware::from_fn(move |request, next| {
            time_limit(limits.request_timeout, request, next)
        }))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_other_sites,
        ));
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
///
/// Each connection is served by hyper's HTTP/1 server with a timer, so that a request head
/// must arrive within [`Limits::header_read_timeout`] and an idle keep-alive connection is
/// closed after it (axum's own `serve` has neither); at most [`Limits::max_connections`] are
/// open at once.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.shared.limits;
    let app = router(state);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait a little instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            // Closed at once (dropped): its file descriptor is not kept.
            tracing::debug!(
                open = limits.max_connections,
                "too many connections: one closed"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(error) = connection.await {
                // A timed-out head, a reset, a malformed request: the client's business.
                tracing::debug!(error = %Escaped(&error.to_string()), "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Raises the soft limit on open files to the hard limit (where the system allows it), so
/// that [`Limits::max_connections`] sockets fit beside the process's other files; returns the
/// soft limit now in force, if it could be read.
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    if let Some(maximum) = limit.maximum
        && maximum > current
    {
        limit.current = Some(maximum);
        if let Err(error) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(%error, current, "cannot raise the limit on open files");
            return Some(current);
        }
        return Some(maximum);
    }
    Some(current)
}

/// Raises the soft limit on open files where the system has one (a no-op here).
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
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

/// The largest body `request` may have: [`BODY_LIMIT`] for a form sent to a photo route,
/// [`SMALL_BODY_LIMIT`] for anything else.
pub fn body_limit(method: &Method, path: &str, headers: &HeaderMap) -> usize {
    if method == Method::POST && PHOTO_ROUTES.contains(&path) && upload::is_multipart(headers) {
        BODY_LIMIT
    } else {
        SMALL_BODY_LIMIT
    }
}

/// How a guarded body ended, when it ended badly.
const BODY_OK: u8 = 0;
const BODY_TOO_SLOW: u8 = 1;
const BODY_TOO_LARGE: u8 = 2;

/// Guards the reading of a request body: 413 at once when the declared length is over the
/// route's limit; 503 at once when the bodies already being read hold the whole
/// [`Limits::body_budget`]; then, while it is read, 413 past the limit (a body without a
/// declared length) and 408 when it stalls or comes in under the minimum rate.
async fn guard_body(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let limits = app.shared.limits;
    let limit = body_limit(request.method(), request.uri().path(), request.headers());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::TooLarge { limit });
    }
    let has_body = match declared {
        Some(length) => length > 0,
        None => request.headers().contains_key(header::TRANSFER_ENCODING),
    };
    if !has_body {
        return Ok(next.run(request).await);
    }
    let reserved = declared.unwrap_or(limit as u64);
    let Ok(permit) = Arc::clone(&app.shared.bodies).try_acquire_many_owned(kib(reserved).max(1))
    else {
        tracing::debug!(reserved, "body budget spent: refused at once");
        return Err(ApiError::Overloaded { retry_after: 1 });
    };
    let verdict = Arc::new(AtomicU8::new(BODY_OK));
    let request = request.map(|body| guarded(body, limit, &limits, Arc::clone(&verdict)));
    let response = next.run(request).await;
    // The body's bytes live until the answer is made (a photo until it is read).
    drop(permit);
    match verdict.load(Ordering::Relaxed) {
        BODY_TOO_SLOW => Err(ApiError::TooSlow {
            min_rate: limits.min_upload_rate,
            stall_seconds: limits.upload_stall.as_secs().max(1),
        }),
        BODY_TOO_LARGE => Err(ApiError::TooLarge { limit }),
        _ => Ok(response),
    }
}

/// `body`, cut off with an error (and `verdict` set) when it grows past `limit`, pauses longer
/// than [`Limits::upload_stall`], or comes in slower than [`Limits::min_upload_rate`].
fn guarded(body: Body, limit: usize, limits: &Limits, verdict: Arc<AtomicU8>) -> Body {
    struct Reading {
        data: axum::body::BodyDataStream,
        received: u64,
        over: bool,
    }
    let (stall, min_rate) = (limits.upload_stall, limits.min_upload_rate);
    let started = Instant::now();
    let fail = move |verdict: &AtomicU8, kind: u8, words: &str| {
        verdict.store(kind, Ordering::Relaxed);
        std::io::Error::other(words.to_owned())
    };
    let start = Reading {
        data: body.into_data_stream(),
        received: 0,
        over: false,
    };
    let chunks = futures_util::stream::unfold(start, move |mut reading| {
        let verdict = Arc::clone(&verdict);
        async move {
            if reading.over {
                return None;
            }
            let chunk = match tokio::time::timeout(stall, reading.data.next()).await {
                Err(_) => Err(fail(&verdict, BODY_TOO_SLOW, "the body stalled")),
                Ok(None) => return None,
                Ok(Some(Err(error))) => Err(std::io::Error::other(error)),
                Ok(Some(Ok(chunk))) => {
                    reading.received += chunk.len() as u64;
                    let elapsed = started.elapsed();
                    if reading.received > limit as u64 {
                        Err(fail(&verdict, BODY_TOO_LARGE, "the body is too large"))
                    } else if elapsed > stall
                        && (reading.received as f64) < min_rate as f64 * elapsed.as_secs_f64()
                    {
                        Err(fail(&verdict, BODY_TOO_SLOW, "the body is too slow"))
                    } else {
                        Ok(chunk)
                    }
                }
            };
            reading.over = chunk.is_err();
            Some((chunk, reading))
        }
    });
    Body::from_stream(chunks)
}

/// Answers only requests for this server from its own pages: 421 for a `Host` that is not one
/// of this server's names ([`AppState::is_own_host`]; a foreign name is how DNS rebinding
/// makes another site's page same-origin), 403 for an `Origin` other than the server's own
/// and for `Sec-Fetch-Site: cross-site` (except a plain link followed to a page: `GET` or
/// `HEAD` navigations).
async fn refuse_other_sites(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let host = match headers.get(header::HOST) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::UnknownHost("(not text)".into()))?,
        ),
        None => None,
    };
    // An absolute request target names the host too.
    for name in host.into_iter().chain(request.uri().host()) {
        if !app.is_own_host(name) {
            return Err(ApiError::UnknownHost(error::shorten(name.to_owned())));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let authority = origin
            .to_str()
            .ok()
            .and_then(|origin| origin.split_once("://"))
            .map(|(_, authority)| authority);
        let same = match (authority, host) {
            (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
            _ => false,
        };
        if !same {
            return Err(ApiError::CrossSite("the Origin is another site's".into()));
        }
    }
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"navigate"))
        && (request.method() == Method::GET || request.method() == Method::HEAD);
    if cross_site && !navigation {
        return Err(ApiError::CrossSite("Sec-Fetch-Site: cross-site".into()));
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
