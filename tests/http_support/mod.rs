//! What the HTTP tests share: the app started on port 0 (`spawn_app`), test pictures made here,
//! and checks on problem+json answers.
#![allow(dead_code)] // Each test file uses its own part of this module.
#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

use std::borrow::Cow;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use catalog::{Catalog, Genre, Movie};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use moodreel::pipeline::PhotoPipeline;
use moodreel::web::api::ModelFacts;
use moodreel::web::{self, AppState, Limits};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::sync::oneshot;

/// The app running on a free port of 127.0.0.1, stopped when dropped.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client for it.
    pub client: reqwest::Client,
    /// The state the app shares with its requests (to hold inference slots, say).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestApp {
    /// `127.0.0.1:PORT`: the address, and the `Host` of requests to it.
    pub fn host(&self) -> String {
        self.address.trim_start_matches("http://").to_owned()
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Starts `POST path` with `bytes` as the form's `image` on a task of its own, so that
    /// several uploads are in flight at once; the task gives the answer.
    pub fn spawn_upload(
        &self,
        path: &str,
        bytes: Vec<u8>,
    ) -> tokio::task::JoinHandle<reqwest::Response> {
        let request = self
            .client
            .post(self.url(path))
            .multipart(image_form(bytes));
        tokio::spawn(async move { request.send().await.unwrap() })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with a multipart form.
    pub async fn post_form(&self, path: &str, form: Form) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with a raw body and content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Checks that the server still answers (after a bad request, say).
    pub async fn assert_alive(&self) {
        let response = self.get("/api/v1/health").await;
        assert_eq!(response.status(), 200, "the server stopped answering");
    }
}

/// The pipeline, built once per test binary (the model is the slow part).
fn pipeline() -> (PhotoPipeline, ModelFacts) {
    static PIPELINE: OnceLock<(PhotoPipeline, ModelFacts)> = OnceLock::new();
    PIPELINE
        .get_or_init(|| {
            let pipeline = PhotoPipeline::load(None, true).expect("the built-in model loads");
            let facts = ModelFacts::new(None, &pipeline);
            (pipeline, facts)
        })
        .clone()
}

/// The app with the built-in catalog and default limits.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Cow::Borrowed(Catalog::builtin()), Limits::default()).await
}

/// The app with this catalog and these limits, on port 0.
pub async fn spawn_app_with(catalog: Cow<'static, Catalog>, limits: Limits) -> TestApp {
    let (pipeline, facts) = pipeline();
    let state = AppState::new(pipeline, catalog, facts, limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stop) = oneshot::channel::<()>();
    tokio::spawn(web::serve(listener, state.clone(), async {
        let _ = stop.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
        state,
        shutdown: Some(shutdown),
    }
}

/// Limits that refuse every photo at once with 503.
pub fn no_inference_slots() -> Limits {
    Limits {
        inference_slots: 0,
        inference_wait: Duration::from_millis(50),
        ..Limits::default()
    }
}

/// A five-film catalog whose lists do not change when the built-in catalog does.
pub fn tiny_catalog() -> Cow<'static, Catalog> {
    let film = |title: &str, year: u16, genres: &[Genre], rating: f64, director: &str| {
        let mut movie = Movie::new(title, genres.to_vec());
        movie.year = Some(year);
        movie.rating = Some(rating);
        movie.runtime_min = Some(100);
        movie.certificate = Some("PG".into());
        movie.director = Some(director.into());
        movie.stars = vec!["A. Actor".into()];
        movie
    };
    let movies = vec![
        film("Laughs", 1990, &[Genre::Comedy], 7.5, "A"),
        film("More Laughs", 1992, &[Genre::Comedy], 7.4, "A"),
        film("Tears", 2001, &[Genre::Drama], 8.5, "B"),
        film("Screams", 2010, &[Genre::Horror], 7.0, "C"),
        film("Songs", 1965, &[Genre::Musical, Genre::Romance], 7.2, "D"),
    ];
    Cow::Owned(Catalog::from_movies("tiny", movies).unwrap())
}

/// [`tiny_catalog`] where two films have poster links: `Laughs` an `https` one, `Tears` a plain
/// `http` one.
pub fn poster_catalog() -> Cow<'static, Catalog> {
    let mut movies = tiny_catalog().movies().to_vec();
    for movie in &mut movies {
        movie.poster_url = match movie.title.as_str() {
            "Laughs" => Some(POSTER_LINK.into()),
            "Tears" => Some("http://posters.example/tears.jpg".into()),
            _ => None,
        };
    }
    Cow::Owned(Catalog::from_movies("posters", movies).unwrap())
}

/// The `https` poster link of [`poster_catalog`].
pub const POSTER_LINK: &str = "https://posters.example/laughs.jpg";

/// A picture encoded in `format`.
pub fn encode(picture: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture.clone())
        .write_to(&mut bytes, format)
        .unwrap();
    bytes.into_inner()
}

/// A smooth gradient: a picture with nothing like a face in it.
pub fn faceless(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    })
}

/// A PNG chunk: length, type, data and CRC.
pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A PNG whose header claims `width`×`height` 8-bit RGB pixels, with almost no data behind it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    png_header_claiming(width, height, 8, 2)
}

/// A PNG whose header claims `width`×`height` pixels of this bit depth and colour type, with
/// almost no data behind it.
pub fn png_header_claiming(width: u32, height: u32, depth: u8, colour: u8) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[depth, colour, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// The address a `moodreel serve` child announces on the first line of its stdout
/// (`http://127.0.0.1:PORT`, without a trailing slash).
pub fn announced_address(child: &mut std::process::Child) -> String {
    use std::io::BufRead as _;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("the first line of stdout");
    let start = line.find("http://").expect("the address is printed");
    line[start..]
        .split_whitespace()
        .next()
        .expect("an address")
        .trim_end_matches('/')
        .to_owned()
}

/// A multipart form with `bytes` as the `image` field.
pub fn image_form(bytes: Vec<u8>) -> Form {
    Form::new().part("image", Part::bytes(bytes).file_name("photo"))
}

/// A photo with one face: the astronaut portrait committed in `testdata/` (public domain; see
/// `testdata/README.md`), so the face-photo tests run in a fresh clone too.
pub fn face_photo() -> Option<Vec<u8>> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/astronaut.png");
    Some(std::fs::read(&path).expect("testdata/astronaut.png is committed"))
}

/// Checks an error answer: status, `application/problem+json`, the RFC 9457 members and our
/// `code`; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "errors are problem+json"
    );
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], "about:blank");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// [`assert_problem`] for an answer read off a [`RawConnection`] (head and body as text).
pub fn assert_raw_problem(answer: &str, status: u16, code: &str) -> Value {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("a whole answer: {answer:?}"));
    assert!(
        head.starts_with(&format!("HTTP/1.1 {status} ")),
        "status: {head}"
    );
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/problem+json"),
        "errors are problem+json"
    );
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    let body: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body:?}"));
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], "about:blank");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// Replaces every number under the keys in `volatile` (at any depth) with `"[number]"`, so that
/// snapshots keep the shape and the stable values only.
pub fn redact(value: &mut Value, volatile: &[&str]) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if volatile.contains(&key.as_str()) && child.is_number() {
                    *child = Value::String("[number]".into());
                } else {
                    redact(child, volatile);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact(item, volatile)),
        _ => {}
    }
}

/// The emotion names, the keys of a probability object.
pub const EMOTIONS: [&str; 7] = [
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
];

/// A raw TCP connection to the app, for what an HTTP client will not send (half a request, a
/// stalled body, a foreign `Host`).
pub struct RawConnection {
    stream: std::net::TcpStream,
}

impl RawConnection {
    /// Connects to `host` (`127.0.0.1:PORT`, see [`TestApp::host`]); reads give up after
    /// `timeout`. Blocking: call it off the async runtime (`spawn_blocking`).
    pub fn open(host: &str, timeout: Duration) -> Self {
        let address = host;
        let stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(timeout)).unwrap();
        Self { stream }
    }

    /// Sends `bytes`; false when the server has closed the connection.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        use std::io::Write as _;
        self.stream.write_all(bytes).is_ok()
    }

    /// Reads until the server closes the connection or the read timeout passes; returns what
    /// came and whether the connection was closed (false: still open at the timeout).
    pub fn read_until_closed(&mut self) -> (String, bool) {
        use std::io::Read as _;
        let mut answer = Vec::new();
        let mut buffer = [0_u8; 4096];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => return (String::from_utf8_lossy(&answer).into_owned(), true),
                Ok(read) => answer.extend_from_slice(&buffer[..read]),
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return (String::from_utf8_lossy(&answer).into_owned(), false);
                }
                // Reset by the server: closed.
                Err(_) => return (String::from_utf8_lossy(&answer).into_owned(), true),
            }
        }
    }

    /// Reads one answer's head (up to the blank line), or what came before the timeout.
    pub fn read_head(&mut self) -> String {
        use std::io::Read as _;
        let mut answer = Vec::new();
        let mut byte = [0_u8; 1];
        while !answer.ends_with(b"\r\n\r\n") {
            match self.stream.read(&mut byte) {
                Ok(1) => answer.push(byte[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    }
}
