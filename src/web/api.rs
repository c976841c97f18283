//! The JSON API under `/api/v1`: one handler per route, each documented for the OpenAPI
//! document by its `#[utoipa::path]`.
//!
//! The handlers only translate HTTP to the library and back: the photo goes through
//! [`crate::pipeline`], the mood through [`recommend`]; the JSON types are theirs, so the API and
//! the command line's `--json` print the same documents.

use std::str::FromStr;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::header;
use catalog::{Genre, Movie, MovieQuery};
use mood::EmotionDistribution;
use recommend::{Filters, Mode, Recommendations};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, Problem};
use super::schema;
use super::upload::{PhotoForm, UploadForm, is_multipart};
use super::{MAX_CERTIFICATES, MAX_EXCLUDED_TITLES, MAX_GENRES, MAX_TEXT_CHARS};
use crate::pipeline::{AnalyzeResponse, FilmChoice};

/// Films a `/movies` page holds unless `limit` says.
pub const DEFAULT_PAGE: usize = 20;
/// Most films one `/movies` page holds.
pub const MAX_PAGE: usize = 100;

/// Finds every face in the photo and reads each one's expression.
///
/// A photo without a face is not an error: the answer has `"faces": []` and `"mood": null`.
#[utoipa::path(
    post,
    path = "/api/v1/analyze",
    tag = "photos",
    request_body(content = schema::PhotoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The faces, their expressions and the group mood", body = AnalyzeResponse),
        (status = 400, description = "Broken multipart body, no `image` field, or an empty file", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 15 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG, WebP, GIF or BMP file (judged from its bytes)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The image cannot be decoded, or has more than 40 megapixels", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Busy: try again after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn analyze(
    State(app): State<AppState>,
    PhotoForm(form): PhotoForm,
) -> Result<Json<AnalyzeResponse>, ApiError> {
    let reading = app.read_photo(form.photo()?).await?;
    Ok(Json(AnalyzeResponse::new(None, &reading)))
}

/// Recommends films for a mood, given as JSON or read from a photo.
///
/// As JSON (`application/json`): `{"mood": "sad" | {"sad": 0.7, "fear": 0.3}, "mode", "n",
/// "seed", ...filters}`. As a form (`multipart/form-data`): the photo in `image` (its group mood
/// is used) or a `mood` field (`sad` or `sad=0.7,fear=0.3`), plus the same fields; repeat a
/// list field (`genres`, `exclude_genres`, `certificates`, `exclude_titles`) for several values.
#[utoipa::path(
    post,
    path = "/api/v1/recommendations",
    tag = "films",
    request_body(content(
        (JsonRequest = "application/json"),
        (schema::RecommendationForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The films, best first, each with its reasons", body = Recommendations),
        (status = 400, description = "Malformed request, a bad field value, or a list over its cap (50 genres or certificates, 1,000 titles, 200 characters each)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 64 KiB (JSON, or a form's text fields together) or 15 MiB (a form's photo)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor a form, or a file that is not an image we read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Undecodable image, no face in the photo (`code` `no_face`: pick a mood instead), or filters that leave no film (`field` names the filter)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Busy: try again after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn recommendations(
    State(app): State<AppState>,
    input: RecommendationInput,
) -> Result<Json<Recommendations>, ApiError> {
    let request = match input {
        RecommendationInput::Json(mut request) => {
            check_lists(&mut request.filters)?;
            request
        }
        RecommendationInput::Form(form) => {
            let mut settings = FormSettings::parse(&form.fields)?;
            // Checked before any photo is read.
            check_lists(&mut settings.choice.filters)?;
            match (&form.image, settings.mood) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::BadRequest(
                        "send either a photo in `image` or a `mood`, not both".into(),
                    ));
                }
                (Some(_), None) => {
                    let reading = app.read_photo(form.photo()?).await?;
                    settings.choice.for_photo(&reading)?
                }
                (None, Some(mood)) => settings.choice.for_mood(mood),
                (None, None) => {
                    return Err(ApiError::BadRequest(
                        "send a photo in the field `image` or a mood in the field `mood`".into(),
                    ));
                }
            }
        }
    };
    Ok(Json(app.recommend(request).await?))
}

/// Searches and browses the catalog, in catalog order.
#[utoipa::path(
    get,
    path = "/api/v1/movies",
    tag = "films",
    params(MovieSearch),
    responses(
        (status = 200, description = "One page of matching films", body = MovieList),
        (status = 400, description = "A bad parameter (unknown genre, limit out of range, ...)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn movies(
    State(app): State<AppState>,
    search: Result<Query<MovieSearch>, QueryRejection>,
) -> Result<Json<MovieList>, ApiError> {
    let Query(search) = search?;
    let limit = search.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_PAGE}, got {limit}"
        )));
    }
    // An empty `genre=` is refused like any other name that is not a genre: the schema says
    // the parameter is one of the genres, and a client that means "any genre" leaves it out.
    let genre = search
        .genre
        .as_deref()
        .map(Genre::from_str)
        .transpose()
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    let query = MovieQuery {
        title: search.q.filter(|text| !text.trim().is_empty()),
        genre,
        year: search.year,
    };
    let catalog = app.catalog();
    let offset = search.offset.unwrap_or(0);
    let mut total = 0;
    let mut movies = Vec::new();
    for movie in catalog.search(&query) {
        if total >= offset && movies.len() < limit {
            movies.push(movie.clone());
        }
        total += 1;
    }
    Ok(Json(MovieList {
        source: catalog.source().to_owned(),
        total,
        offset,
        movies,
    }))
}

/// Says the server is up, with facts about its model and catalog.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "service",
    responses((status = 200, description = "The server is up", body = Health))
)]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    Json(app.health())
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "service",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi(State(app): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.openapi_json(),
    )
}

/// The query of `GET /api/v1/movies`; every parameter is optional.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MovieSearch {
    /// Text the title contains (case-insensitive).
    pub q: Option<String>,
    /// A genre the film has (`Comedy`, `Sci-Fi`, ...).
    #[param(value_type = Option<Genre>)]
    pub genre: Option<String>,
    /// The year of release.
    #[param(minimum = 0, maximum = 65535)]
    pub year: Option<u16>,
    /// Films per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<usize>,
    /// Matching films to skip (default 0).
    #[param(minimum = 0, maximum = 18446744073709551615_u64, default = 0)]
    pub offset: Option<usize>,
}

/// One page of films from the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovieList {
    /// The catalog's source (`built-in` or the file's name).
    pub source: String,
    /// How many films match in all.
    pub total: usize,
    /// How many matching films were skipped before this page.
    pub offset: usize,
    /// The films on this page.
    pub movies: Vec<Movie>,
}

/// What `GET /api/v1/health` says.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: &'static str,
    /// The version of moodreel.
    pub version: &'static str,
    /// The expression model in use.
    pub model: ModelFacts,
    /// The film catalog in use.
    pub catalog: CatalogFacts,
    /// How many photos are read at the same time at most.
    pub inference_slots: usize,
}

/// Facts about the expression model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelFacts {
    /// `built-in`, or the model directory given with `--model`.
    pub source: String,
    /// Number of trained parameters.
    pub parameters: usize,
    /// Whether each face is also read mirrored and the two readings averaged.
    pub mirror_averaging: bool,
}

impl ModelFacts {
    /// The facts of a pipeline's model, loaded from `model_dir` (else the built-in one).
    pub fn new(
        model_dir: Option<&std::path::Path>,
        pipeline: &crate::pipeline::PhotoPipeline,
    ) -> Self {
        Self {
            source: model_dir
                .map_or_else(|| "built-in".to_owned(), |dir| dir.display().to_string()),
            parameters: pipeline.parameter_count(),
            mirror_averaging: pipeline.mirror_averaging(),
        }
    }
}

/// Facts about the film catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogFacts {
    /// `built-in`, or the catalog file given with `--catalog`.
    pub source: String,
    /// Number of films.
    pub films: usize,
}

/// The body of `POST /recommendations`: JSON or a multipart form, told apart by `Content-Type`.
#[derive(Debug)]
pub enum RecommendationInput {
    /// `application/json`: a [`recommend::Request`].
    Json(recommend::Request),
    /// `multipart/form-data`: a photo or a mood, and settings as text fields.
    Form(UploadForm),
}

/// The text fields a recommendation form may carry besides `image`.
pub const FORM_FIELDS: &[&str] = &[
    "mood",
    "mode",
    "n",
    "seed",
    "min_year",
    "max_year",
    "min_rating",
    "genres",
    "exclude_genres",
    "max_runtime",
    "certificates",
    "exclude_titles",
    "max_age",
    "family",
];

impl FromRequest<AppState> for RecommendationInput {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if is_multipart(request.headers()) {
            let form = UploadForm::extract(request, state, FORM_FIELDS).await?;
            Ok(Self::Form(form))
        } else {
            let Json(body) = Json::<JsonRequest>::from_request(request, state).await?;
            Ok(Self::Json(body.into()))
        }
    }
}

/// The JSON body of `POST /recommendations`, read field by field.
///
/// [`recommend::Request`] keeps its filters in a flattened [`Filters`], and serde's `flatten`
/// loses the name of a field whose value has the wrong type (`invalid type: string "x"` without
/// saying where). Spelled out here, every error names its field (`min_year: invalid type: ...`),
/// and a field that does not exist is refused instead of silently ignored. The unit test below
/// keeps the two in step. The fields' doc comments are the OpenAPI document's descriptions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = RecommendationRequest,
    description = "A recommendation request as JSON. A field not listed here is refused (400)."
)]
pub struct JsonRequest {
    /// The mood to recommend for.
    #[schema(value_type = mood::openapi::MoodInput)]
    mood: EmotionDistribution,
    /// Match or lift the mood (default `auto`).
    #[serde(default)]
    mode: Mode,
    /// How many films, 1 to 100 (default 10).
    #[serde(default = "default_count", deserialize_with = "whole::number")]
    #[schema(minimum = 1, maximum = 100, default = 10)]
    n: usize,
    /// Shuffle among near-ties, the same way for the same seed.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 18446744073709551615_u64)]
    seed: Option<u64>,
    /// Released in this year or later.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 65535)]
    min_year: Option<u16>,
    /// Released in this year or earlier.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 65535)]
    max_year: Option<u16>,
    /// Rated at least this (0 to 10).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
    /// Has at least one of these genres.
    #[serde(default)]
    #[schema(max_items = 50)]
    genres: Vec<Genre>,
    /// Has none of these genres.
    #[serde(default)]
    #[schema(max_items = 50)]
    exclude_genres: Vec<Genre>,
    /// Runs at most this many minutes.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 65535)]
    max_runtime: Option<u16>,
    /// Has one of these certificates (case-insensitive).
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<schema::ShortText>)]
    certificates: Vec<String>,
    /// Not these films (seen already): "Title" or "Title (1999)".
    #[serde(default)]
    #[schema(max_items = 1000, value_type = Vec<schema::ShortText>)]
    exclude_titles: Vec<String>,
    /// Admitted at this age: the film's age band starts at this age or younger; films of
    /// unknown band are left out (and `notes` says how many).
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 255)]
    max_age: Option<u8>,
    /// Family-safe films only: age band 8 or younger and no dark theme; films of unknown
    /// band are left out (and `notes` says how many).
    #[serde(default)]
    #[schema(default = false)]
    family: bool,
}

/// Whole numbers in JSON as JSON Schema counts them: `2926` and `2926.0` alike.
mod whole {
    use serde::de::{Error, Unexpected};
    use serde::{Deserialize, Deserializer};

    pub fn convert<T: TryFrom<u64>, E: Error>(number: &serde_json::Number) -> Result<T, E> {
        let value = number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= u64::MAX as f64)
                .map(|v| v as u64)
        });
        value
            .and_then(|value| T::try_from(value).ok())
            .ok_or_else(|| {
                let unexpected = match (number.as_u64(), number.as_i64(), number.as_f64()) {
                    (Some(value), _, _) => Unexpected::Unsigned(value),
                    (_, Some(value), _) => Unexpected::Signed(value),
                    (_, _, value) => Unexpected::Float(value.unwrap_or(f64::NAN)),
                };
                E::invalid_value(unexpected, &"a whole number in range")
            })
    }

    pub fn number<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        convert(&serde_json::Number::deserialize(deserializer)?)
    }

    pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        Option::<serde_json::Number>::deserialize(deserializer)?
            .map(|number| convert(&number))
            .transpose()
    }
}

fn default_count() -> usize {
    recommend::DEFAULT_COUNT
}

impl From<JsonRequest> for recommend::Request {
    fn from(body: JsonRequest) -> Self {
        recommend::Request {
            mood: body.mood,
            mode: body.mode,
            n: body.n,
            seed: body.seed,
            filters: Filters {
                min_year: body.min_year,
                max_year: body.max_year,
                min_rating: body.min_rating,
                genres: body.genres,
                exclude_genres: body.exclude_genres,
                max_runtime: body.max_runtime,
                certificates: body.certificates,
                exclude_titles: body.exclude_titles,
                max_age: body.max_age,
                family: body.family,
            },
        }
    }
}

/// Refuses lists longer than their caps and entries longer than [`MAX_TEXT_CHARS`] (400,
/// naming the field), then drops repeated entries, keeping the first: ranking time grows with
/// the lists, and a repeat changes nothing.
fn check_lists(filters: &mut Filters) -> Result<(), ApiError> {
    fn cap<T>(field: &str, list: &[T], max: usize) -> Result<(), ApiError> {
        if list.len() > max {
            return Err(ApiError::BadRequest(format!(
                "{field}: at most {max} entries, got {}",
                list.len()
            )));
        }
        Ok(())
    }
    fn short(field: &str, list: &[String]) -> Result<(), ApiError> {
        match list
            .iter()
            .find(|text| text.chars().count() > MAX_TEXT_CHARS)
        {
            Some(_) => Err(ApiError::BadRequest(format!(
                "{field}: an entry is longer than {MAX_TEXT_CHARS} characters"
            ))),
            None => Ok(()),
        }
    }
    fn dedup<T, K: Eq + std::hash::Hash>(list: &mut Vec<T>, key: impl Fn(&T) -> K) {
        let mut seen = std::collections::HashSet::new();
        list.retain(|item| seen.insert(key(item)));
    }
    cap("genres", &filters.genres, MAX_GENRES)?;
    cap("exclude_genres", &filters.exclude_genres, MAX_GENRES)?;
    cap("certificates", &filters.certificates, MAX_CERTIFICATES)?;
    cap(
        "exclude_titles",
        &filters.exclude_titles,
        MAX_EXCLUDED_TITLES,
    )?;
    short("certificates", &filters.certificates)?;
    short("exclude_titles", &filters.exclude_titles)?;
    dedup(&mut filters.genres, |genre| *genre);
    dedup(&mut filters.exclude_genres, |genre| *genre);
    // Certificates are compared without regard to case; titles as written.
    dedup(&mut filters.certificates, |text| text.to_lowercase());
    dedup(&mut filters.exclude_titles, Clone::clone);
    Ok(())
}

/// The form fields that may be repeated, one value each.
const LIST_FIELDS: &[&str] = &["genres", "exclude_genres", "certificates", "exclude_titles"];

/// The settings of a recommendation form, parsed from its text fields.
#[derive(Debug, Default)]
struct FormSettings {
    mood: Option<EmotionDistribution>,
    choice: FilmChoice,
}

impl FormSettings {
    fn parse(fields: &[(String, String)]) -> Result<Self, ApiError> {
        let mut settings = FormSettings::default();
        let choice = &mut settings.choice;
        let filters = &mut choice.filters;
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in fields {
            let value = value.trim();
            // An empty field is an unset one: forms send every input, filled or not.
            if value.is_empty() {
                continue;
            }
            let bad = |problem: String| ApiError::BadRequest(format!("field `{name}`: {problem}"));
            // A list field may repeat; a second value for any other is ambiguous.
            if !LIST_FIELDS.contains(&name.as_str()) {
                if seen.contains(&name.as_str()) {
                    return Err(bad("given more than once; send it once".into()));
                }
                seen.push(name.as_str());
            }
            match name.as_str() {
                "mood" => {
                    settings.mood =
                        Some(EmotionDistribution::parse(value).map_err(|e| bad(e.to_string()))?);
                }
                "mode" => {
                    choice.mode = value
                        .parse()
                        .map_err(|e: recommend::UnknownMode| bad(e.to_string()))?
                }
                "n" => choice.n = number(value).map_err(bad)?,
                "seed" => choice.seed = Some(number(value).map_err(bad)?),
                "min_year" => filters.min_year = Some(number(value).map_err(bad)?),
                "max_year" => filters.max_year = Some(number(value).map_err(bad)?),
                "max_runtime" => filters.max_runtime = Some(number(value).map_err(bad)?),
                "max_age" => filters.max_age = Some(number(value).map_err(bad)?),
                "family" => filters.family = switch(value).map_err(bad)?,
                "min_rating" => filters.min_rating = Some(decimal(value).map_err(bad)?),
                "genres" | "exclude_genres" => {
                    // Genre names have no commas, so "Comedy,Drama" is two genres.
                    let genres = value
                        .split(',')
                        .filter(|part| !part.trim().is_empty())
                        .map(Genre::from_str)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| bad(e.to_string()))?;
                    if name == "genres" {
                        filters.genres.extend(genres);
                    } else {
                        filters.exclude_genres.extend(genres);
                    }
                }
                "certificates" => filters.certificates.push(value.to_owned()),
                "exclude_titles" => filters.exclude_titles.push(value.to_owned()),
                other => return Err(bad(format!("`{other}` is not a field of this form"))),
            }
        }
        Ok(settings)
    }
}

/// Parses an on/off field: `true`/`false`, `on`/`off` (what a checkbox sends), `1`/`0`.
fn switch(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Ok(true),
        "false" | "off" | "0" | "no" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

/// Parses a number field, saying what was wrong in words. A whole number may be written as
/// JSON would (`1e3`, `5.0`), so that the form accepts what the JSON body does.
fn number<T: FromStr + TryFrom<u64>>(text: &str) -> Result<T, String> {
    let wrong = || format!("{text:?} is not a valid number here");
    text.parse().or_else(|_| {
        let number: serde_json::Number = serde_json::from_str(text).map_err(|_| wrong())?;
        whole::convert::<T, serde_json::Error>(&number).map_err(|_| wrong())
    })
}

/// Parses a decimal number field (`min_rating`).
fn decimal(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| format!("{text:?} is not a valid number here"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn form_fields_become_a_request() {
        let settings = FormSettings::parse(&fields(&[
            ("mood", "sad=0.7,fear=0.3"),
            ("mode", "lift"),
            ("n", "5"),
            ("genres", "Comedy,Animation"),
            ("genres", "Family"),
            ("exclude_titles", "Up (2009)"),
            ("min_year", ""),
            ("max_age", "12"),
            ("family", "on"),
        ]))
        .expect("valid form");
        assert_eq!(settings.choice.filters.max_age, Some(12));
        assert!(settings.choice.filters.family);
        assert_eq!(settings.choice.mode, Mode::Lift);
        assert_eq!(settings.choice.n, 5);
        assert_eq!(settings.choice.filters.genres.len(), 3);
        assert_eq!(settings.choice.filters.exclude_titles, ["Up (2009)"]);
        assert_eq!(settings.choice.filters.min_year, None);
        assert_eq!(settings.mood.map(|m| m.emotion()), Some(mood::Emotion::Sad));
    }

    #[test]
    fn the_json_body_reads_every_field_of_a_request() {
        let request = recommend::Request {
            mood: EmotionDistribution::parse("sad=0.7,fear=0.3").expect("valid mood"),
            mode: Mode::Lift,
            n: 7,
            seed: Some(3),
            filters: Filters {
                min_year: Some(1990),
                max_year: Some(2010),
                min_rating: Some(7.0),
                genres: vec![Genre::Comedy],
                exclude_genres: vec![Genre::Horror],
                max_runtime: Some(120),
                certificates: vec!["PG".into()],
                exclude_titles: vec!["Up (2009)".into()],
                max_age: Some(12),
                family: true,
            },
        };
        // Every field the library writes is one this body reads, with the same meaning.
        let json = serde_json::to_string(&request).expect("serialisable");
        let body: JsonRequest = serde_json::from_str(&json).expect("every field is known");
        assert_eq!(recommend::Request::from(body), request);
        let minimal: JsonRequest = serde_json::from_str(r#"{"mood": "happy"}"#).expect("valid");
        assert_eq!(
            recommend::Request::from(minimal),
            serde_json::from_str::<recommend::Request>(r#"{"mood": "happy"}"#).expect("valid")
        );
    }

    #[test]
    fn form_numbers_are_read_as_the_json_body_reads_them() {
        let settings = FormSettings::parse(&fields(&[("n", "1e1"), ("min_year", "1990.0")]))
            .expect("whole numbers");
        assert_eq!(settings.choice.n, 10);
        assert_eq!(settings.choice.filters.min_year, Some(1990));
        for value in ["1.5", "-1", "1e30", "NaN"] {
            assert!(
                FormSettings::parse(&fields(&[("n", value)])).is_err(),
                "{value}"
            );
        }
    }

    #[test]
    fn lists_are_capped_and_repeats_dropped() {
        let mut filters = Filters {
            genres: vec![Genre::Comedy, Genre::Comedy, Genre::Drama],
            certificates: vec!["PG".into(), "pg".into(), "R".into()],
            exclude_titles: vec!["Up".into(), "Up".into()],
            ..Filters::default()
        };
        check_lists(&mut filters).expect("within the caps");
        assert_eq!(filters.genres, [Genre::Comedy, Genre::Drama]);
        assert_eq!(filters.certificates, ["PG", "R"]);
        assert_eq!(filters.exclude_titles, ["Up"]);
        let mut many = Filters {
            exclude_titles: vec!["Up".into(); MAX_EXCLUDED_TITLES + 1],
            ..Filters::default()
        };
        let error = check_lists(&mut many).unwrap_err();
        assert_eq!(error.status().as_u16(), 400);
        assert!(error.to_string().starts_with("exclude_titles"), "{error}");
        let mut long = Filters {
            certificates: vec!["x".repeat(MAX_TEXT_CHARS + 1)],
            ..Filters::default()
        };
        assert!(check_lists(&mut long).is_err());
    }

    #[test]
    fn single_value_fields_may_not_repeat() {
        let error =
            FormSettings::parse(&fields(&[("mode", "lift"), ("n", "3"), ("mode", "match")]))
                .unwrap_err();
        assert_eq!(error.status().as_u16(), 400);
        assert!(error.to_string().starts_with("field `mode`"), "{error}");
        // An empty repeat is an unset input, and list fields repeat freely.
        let settings = FormSettings::parse(&fields(&[
            ("n", ""),
            ("n", "4"),
            ("certificates", "PG"),
            ("certificates", "R"),
        ]))
        .expect("valid form");
        assert_eq!(settings.choice.n, 4);
        assert_eq!(settings.choice.filters.certificates, ["PG", "R"]);
    }

    #[test]
    fn bad_form_values_name_their_field() {
        for (name, value) in [
            ("n", "ten"),
            ("mode", "cheer"),
            ("genres", "Jazz"),
            ("mood", "glee"),
            ("family", "maybe"),
            ("max_age", "-3"),
        ] {
            let error = FormSettings::parse(&fields(&[(name, value)])).unwrap_err();
            assert_eq!(error.status().as_u16(), 400);
            assert!(
                error.to_string().starts_with(&format!("field `{name}`")),
                "{error}"
            );
        }
    }
}
