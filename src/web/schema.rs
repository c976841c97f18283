//! Schemas of the API's JSON documents, for the OpenAPI document only: the JSON the API sends is
//! made by the library types (`recommend::Recommendations`, `pipeline::AnalyzeResponse`,
//! `catalog::Movie`, ...), which know nothing of OpenAPI. The lists of emotions, modes and genres
//! come from the library's own constants, and `tests/http_api.rs` checks that every key of a real
//! response is a property of its schema. The handlers ([`super::api`]) name these schemas; the
//! document ([`super::openapi`]) lists them.

use std::borrow::Cow;

use catalog::Genre;
use mood::Emotion;
use recommend::Mode;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder,
    OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

/// One of the seven emotions, lower-case, in FER-2013 order.
pub struct EmotionName;

impl PartialSchema for EmotionName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            Emotion::ALL.map(Emotion::name),
            "An emotion (FER-2013 order: angry, disgust, fear, happy, sad, surprise, neutral)",
        )
        .into()
    }
}

impl ToSchema for EmotionName {
    fn name() -> Cow<'static, str> {
        "Emotion".into()
    }
}

/// `match`, `lift` or `auto`.
pub struct ModeName;

impl PartialSchema for ModeName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            Mode::ALL.map(Mode::name),
            "match: films whose tone fits the feeling; lift: films that move the viewer toward \
             a better state; auto (default): lift for angry, disgust, fear and sad, match for \
             happy, surprise and neutral",
        )
        .into()
    }
}

impl ToSchema for ModeName {
    fn name() -> Cow<'static, str> {
        "Mode".into()
    }
}

/// A genre name as the catalog spells it.
pub struct GenreName;

impl PartialSchema for GenreName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            Genre::ALL.map(Genre::name),
            "A genre (other spellings such as \"Science Fiction\" are accepted in requests)",
        )
        .into()
    }
}

impl ToSchema for GenreName {
    fn name() -> Cow<'static, str> {
        "Genre".into()
    }
}

/// An entry of a text list (a certificate, a title): at most 200 characters.
pub struct ShortText;

impl PartialSchema for ShortText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .max_length(Some(super::MAX_TEXT_CHARS))
            .into()
    }
}

impl ToSchema for ShortText {}

/// A tone tag, kebab-case.
pub struct ToneTagName;

impl PartialSchema for ToneTagName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            catalog::ToneTag::ALL.map(catalog::ToneTag::name),
            "A word for how a film feels",
        )
        .into()
    }
}

impl ToSchema for ToneTagName {
    fn name() -> Cow<'static, str> {
        "ToneTag".into()
    }
}

/// A dark theme, kebab-case.
pub struct DarkThemeName;

impl PartialSchema for DarkThemeName {
    fn schema() -> RefOr<Schema> {
        string_enum(
            catalog::DarkTheme::ALL.map(catalog::DarkTheme::name),
            "A dark theme: such films are never offered to lift a mood",
        )
        .into()
    }
}

impl ToSchema for DarkThemeName {
    fn name() -> Cow<'static, str> {
        "DarkTheme".into()
    }
}

/// How a recommended film feels.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Tone {
    /// Pleasantness, -1 (grim) to 1 (delightful).
    #[schema(minimum = -1, maximum = 1)]
    valence: f64,
    /// Intensity, 0 (calm) to 1 (relentless).
    #[schema(minimum = 0, maximum = 1)]
    arousal: f64,
    /// Darkness, 0 (light) to 1 (very dark).
    #[schema(minimum = 0, maximum = 1)]
    darkness: f64,
    /// Tone tags.
    tags: Vec<ToneTagName>,
}

/// How a catalog film feels, with its dark themes and where the tone came from.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FilmTone {
    /// Pleasantness, -1 (grim) to 1 (delightful).
    #[schema(minimum = -1, maximum = 1)]
    valence: f64,
    /// Intensity, 0 (calm) to 1 (relentless).
    #[schema(minimum = 0, maximum = 1)]
    arousal: f64,
    /// Darkness, 0 (light) to 1 (very dark).
    #[schema(minimum = 0, maximum = 1)]
    darkness: f64,
    /// Tone tags.
    tags: Vec<ToneTagName>,
    /// Dark themes the film deals with.
    themes: Vec<DarkThemeName>,
    /// `hand-set` (the project's facts), `text` (read from the overview, tagline and
    /// keywords) or `genres`.
    #[schema(pattern = "^(hand-set|text|genres)$")]
    source: String,
}

fn probability_properties(mut object: ObjectBuilder) -> ObjectBuilder {
    for emotion in Emotion::ALL {
        object = object
            .property(
                emotion.name(),
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::Number))
                    .minimum(Some(0.0))
                    .maximum(Some(1.0)),
            )
            .required(emotion.name());
    }
    object
}

/// The seven probabilities, summing to 1.
pub struct Probabilities;

impl PartialSchema for Probabilities {
    fn schema() -> RefOr<Schema> {
        probability_properties(ObjectBuilder::new())
            .description(Some("Probability of each emotion; they sum to 1"))
            .into()
    }
}

impl ToSchema for Probabilities {}

/// A mood: the seven probabilities and the most probable emotion.
pub struct Mood;

impl PartialSchema for Mood {
    fn schema() -> RefOr<Schema> {
        probability_properties(ObjectBuilder::new())
            .property("emotion", EmotionName::schema())
            .required("emotion")
            .description(Some(
                "A mood: the probability of each emotion (they sum to 1) and the most \
                 probable one",
            ))
            .into()
    }
}

impl ToSchema for Mood {}

/// A mood as a request gives it: one emotion's name, or weights (normalised to sum to 1).
pub struct MoodInput;

impl PartialSchema for MoodInput {
    fn schema() -> RefOr<Schema> {
        // At least one weight above 0 (the server refuses all-zero weights), and small
        // enough that seven of them have a finite sum.
        let mut positive = AnyOfBuilder::new();
        for emotion in Emotion::ALL {
            positive = positive.item(
                ObjectBuilder::new()
                    .property(
                        emotion.name(),
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::Number))
                            .exclusive_minimum(Some(0.0)),
                    )
                    .required(emotion.name()),
            );
        }
        let weights = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .property_names(Some(EmotionName::schema_object()))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::Number))
                    .minimum(Some(0.0))
                    .maximum(Some(1e300))
                    .into(),
            )))

            .description(Some(
                "Weights per emotion, missing ones 0, normalised to sum to 1: {\"sad\": 0.7, \"fear\": 0.3}",
            ));
        let weights = AllOfBuilder::new().item(weights).item(positive);
        OneOfBuilder::new()
            .item(EmotionName::schema())
            .item(weights)
            .description(Some("One emotion (\"sad\") or weights per emotion"))
            .into()
    }
}

impl ToSchema for MoodInput {}

impl EmotionName {
    fn schema_object() -> Schema {
        match Self::schema() {
            RefOr::T(schema) => schema,
            RefOr::Ref(_) => Schema::default(),
        }
    }
}

/// The faces in a photo and the group mood (`POST /analyze`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Analysis {
    /// Width of the photo in pixels, as shown (after EXIF orientation).
    width: u32,
    /// Height in pixels.
    height: u32,
    /// Every face found, in reading order; empty when there is none.
    faces: Vec<Face>,
    /// The group mood (faces weighted by their area); `null` without a face.
    #[schema(nullable)]
    mood: Option<Mood>,
}

/// One face and how it reads.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Face {
    /// Where the face is, in pixels of the photo as shown.
    #[schema(rename = "box")]
    bounds: FaceBox,
    /// The detector's score, 0..1 (higher is surer).
    score: f64,
    /// Eyes, nose tip, mouth and ears; absent when the detector gave none.
    landmarks: Option<Landmarks>,
    /// The most probable emotion.
    emotion: EmotionName,
    /// Its probability.
    confidence: f64,
    /// Whether the confidence is below 0.45 (`pipeline::UNCERTAIN_BELOW`; a test keeps the
    /// two in step): shown, but not to be trusted.
    uncertain: bool,
    /// All seven probabilities.
    probabilities: Probabilities,
}

/// A face box: left, top, width and height in pixels.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FaceBox {
    /// Left edge.
    x: i32,
    /// Top edge.
    y: i32,
    /// Width.
    w: u32,
    /// Height.
    h: u32,
}

/// Six face keypoints in pixels of the photo as shown. "Right" and "left" are the person's: in
/// a frontal photo the right eye is on the photo's left.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Landmarks {
    /// The person's right eye.
    right_eye: Point,
    /// The person's left eye.
    left_eye: Point,
    /// The tip of the nose.
    nose_tip: Point,
    /// The centre of the mouth.
    mouth: Point,
    /// The person's right ear (tragion).
    right_ear: Point,
    /// The person's left ear (tragion).
    left_ear: Point,
}

/// A point in pixels (one decimal), from the photo's top-left corner.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Point {
    /// From the left edge.
    x: f32,
    /// From the top edge.
    y: f32,
}

/// A photo sent as `multipart/form-data`; no other field.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// JPEG, PNG, WebP, GIF or BMP, at most 15 MiB and 40 megapixels.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream", min_length = 1)]
    image: Vec<u8>,
}

/// A recommendation request as JSON. A field not listed here is refused (400).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RecommendationRequest {
    /// The mood to recommend for.
    mood: MoodInput,
    /// Match or lift the mood (default `auto`).
    #[schema(required = false)]
    mode: ModeName,
    /// How many films, 1 to 100 (default 10).
    #[schema(required = false, minimum = 1, maximum = 100, default = 10)]
    n: usize,
    /// Shuffle among near-ties, the same way for the same seed.
    #[schema(minimum = 0, maximum = 18446744073709551615_u64)]
    seed: Option<u64>,
    /// Released in this year or later.
    #[schema(minimum = 0, maximum = 65535)]
    min_year: Option<u16>,
    /// Released in this year or earlier.
    #[schema(minimum = 0, maximum = 65535)]
    max_year: Option<u16>,
    /// Rated at least this (0 to 10).
    #[schema(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
    /// Has at least one of these genres.
    #[schema(required = false, max_items = 50)]
    genres: Vec<GenreName>,
    /// Has none of these genres.
    #[schema(required = false, max_items = 50)]
    exclude_genres: Vec<GenreName>,
    /// Runs at most this many minutes.
    #[schema(minimum = 0, maximum = 65535)]
    max_runtime: Option<u16>,
    /// Has one of these certificates (case-insensitive).
    #[schema(required = false, max_items = 50, value_type = Vec<ShortText>)]
    certificates: Vec<String>,
    /// Not these films (seen already): "Title" or "Title (1999)".
    #[schema(required = false, max_items = 1000, value_type = Vec<ShortText>)]
    exclude_titles: Vec<String>,
    /// Admitted at this age: the film's age band starts at this age or younger; films of
    /// unknown band are left out (and `notes` says how many).
    #[schema(minimum = 0, maximum = 255)]
    max_age: Option<u8>,
    /// Family-safe films only: age band 8 or younger and no dark theme; films of unknown
    /// band are left out (and `notes` says how many).
    #[schema(required = false, default = false)]
    family: bool,
}

/// A recommendation request as `multipart/form-data`: `image` or `mood` (one of the two),
/// plus settings. Empty fields count as unset; repeat a list field for several values.
pub struct RecommendationForm;

fn integer(minimum: u64, maximum: u64, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(minimum as usize))
        .maximum(Some(maximum as usize))
        .description(Some(description))
}

fn list(items: impl Into<RefOr<Schema>>, max: usize, description: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(items.into())
        .max_items(Some(max))
        .description(Some(description))
}

/// The settings every recommendation form may carry, with the bounds the server enforces.
fn form_settings(object: ObjectBuilder) -> ObjectBuilder {
    let year = u64::from(u16::MAX);
    object
        .property(
            "mode",
            string_enum(
                Mode::ALL.map(Mode::name),
                "`match`, `lift` or `auto` (default)",
            ),
        )
        .property(
            "n",
            integer(
                1,
                recommend::MAX_COUNT as u64,
                "How many films (default 10)",
            ),
        )
        .property(
            "seed",
            integer(
                0,
                u64::MAX,
                "Shuffle among near-ties, the same way for the same seed",
            ),
        )
        .property(
            "min_year",
            integer(0, year, "Released in this year or later"),
        )
        .property(
            "max_year",
            integer(0, year, "Released in this year or earlier"),
        )
        .property(
            "min_rating",
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Number))
                .minimum(Some(0))
                .maximum(Some(10))
                .description(Some("Rated at least this (0 to 10)")),
        )
        .property(
            "max_runtime",
            integer(0, year, "Runs at most this many minutes"),
        )
        .property(
            "genres",
            list(
                GenreName::schema(),
                super::MAX_GENRES,
                "A genre the film may have (repeatable, or comma-separated)",
            ),
        )
        .property(
            "exclude_genres",
            list(
                GenreName::schema(),
                super::MAX_GENRES,
                "A genre the film must not have (repeatable, or comma-separated)",
            ),
        )
        .property(
            "certificates",
            list(
                ShortText::schema(),
                super::MAX_CERTIFICATES,
                "A certificate the film may have (repeatable)",
            ),
        )
        .property(
            "exclude_titles",
            list(
                ShortText::schema(),
                super::MAX_EXCLUDED_TITLES,
                "A film not to recommend, \"Title\" or \"Title (1999)\" (repeatable)",
            ),
        )
        .property(
            "max_age",
            integer(
                0,
                u64::from(u8::MAX),
                "Admitted at this age (films of unknown age band are left out)",
            ),
        )
        .property(
            "family",
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .enum_values(Some(["true", "false", "on", "off", "1", "0", "yes", "no"]))
                .description(Some(
                    "Family-safe films only (age band 8 or younger, no dark theme)",
                )),
        )
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

/// The `image` field of a form: a file of at least one byte.
fn image_field(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .content_media_type("application/octet-stream")
        .min_length(Some(1))
        .description(Some(description))
}

impl PartialSchema for RecommendationForm {
    fn schema() -> RefOr<Schema> {
        let photo = form_settings(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Object))
                .property(
                    "image",
                    image_field(
                        "A photo; its group mood is used. A photo without a face is \
                         answered 422 `no_face`.",
                    ),
                )
                .required("image"),
        )
        .title(Some("photo"));
        let mood = form_settings(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Object))
                .property(
                    "mood",
                    string_enum(
                        Emotion::ALL.map(Emotion::name),
                        "An emotion (`sad`); weights such as `sad=0.7,fear=0.3` are \
                         accepted too",
                    ),
                )
                .required("mood"),
        )
        .title(Some("mood"));
        OneOfBuilder::new()
            .item(photo)
            .item(mood)
            .description(Some(
                "A photo in `image` or a mood in `mood` (not both), plus settings. Empty \
                 fields count as unset; repeat a list field for several values.",
            ))
            .into()
    }
}

impl ToSchema for RecommendationForm {}

/// Films recommended for a mood.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Recommendations {
    /// The mood the films were chosen for.
    mood: Mood,
    /// The mode as requested (`auto` stays `auto`; the reasons say what it resolved to).
    mode: ModeName,
    /// The films, best first.
    movies: Vec<RecommendedMovie>,
    /// How the list was made, where the reader should know (e.g. films an age filter left
    /// out for want of a known age band); absent when there is nothing to say.
    #[schema(required = false)]
    notes: Vec<String>,
}

/// A recommended film.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RecommendedMovie {
    /// Title.
    title: String,
    /// Year of release.
    #[schema(nullable)]
    year: Option<u16>,
    /// Genres.
    genres: Vec<GenreName>,
    /// The film's rating, 1–10.
    #[schema(nullable)]
    rating: Option<f64>,
    /// Running time in minutes.
    #[schema(nullable)]
    runtime_min: Option<u16>,
    /// Age certificate.
    #[schema(nullable)]
    certificate: Option<String>,
    /// Director(s).
    #[schema(nullable)]
    director: Option<String>,
    /// Leading actors.
    stars: Vec<String>,
    /// A poster link, when the catalog has one (the member is absent otherwise).
    #[schema(required = false)]
    poster_url: Option<String>,
    /// Relevance (mood fit and quality), 3 decimals.
    score: f64,
    /// One line saying what the film is, when the catalog has one.
    #[schema(nullable)]
    synopsis: Option<String>,
    /// The youngest age the film's age band admits, when known.
    #[schema(nullable, minimum = 0, maximum = 255)]
    min_age: Option<u8>,
    /// How the film feels.
    tone: Tone,
    /// Why this film: first one sentence in tone words for this mood and mode, then any
    /// note (a content note, a genre that works against the mood).
    reasons: Vec<String>,
}

/// A film in the catalog.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Movie {
    /// Title.
    title: String,
    /// Year of release.
    #[schema(nullable)]
    year: Option<u16>,
    /// Genres, never empty.
    genres: Vec<GenreName>,
    /// Rating, 1–10.
    #[schema(nullable)]
    rating: Option<f64>,
    /// Votes behind the rating, when known.
    #[schema(nullable)]
    votes: Option<u64>,
    /// Running time in minutes.
    #[schema(nullable)]
    runtime_min: Option<u16>,
    /// Age certificate.
    #[schema(nullable)]
    certificate: Option<String>,
    /// Director(s).
    #[schema(nullable)]
    director: Option<String>,
    /// Up to four leading actors.
    stars: Vec<String>,
    /// A short summary, when the catalog has one.
    #[schema(nullable)]
    overview: Option<String>,
    /// A poster link, when the catalog has one.
    #[schema(nullable)]
    poster_url: Option<String>,
    /// Keywords, when the catalog has them (absent otherwise).
    #[schema(required = false)]
    keywords: Vec<String>,
    /// A tagline, when the catalog has one (absent otherwise).
    #[schema(required = false)]
    tagline: Option<String>,
    /// The catalog's adults-only flag, when it has one (absent otherwise).
    #[schema(required = false)]
    adult: Option<bool>,
    /// The catalog's own popularity figure, when it has one (absent otherwise).
    #[schema(required = false)]
    popularity: Option<f64>,
    /// One line saying what the film is.
    #[schema(nullable)]
    synopsis: Option<String>,
    /// The youngest age the film's age band admits, when known.
    #[schema(nullable, minimum = 0, maximum = 255)]
    min_age: Option<u8>,
    /// How the film feels.
    #[schema(nullable)]
    tone: Option<FilmTone>,
    /// Share of the catalog's films less popular than this one (absent when unknown).
    #[schema(required = false, minimum = 0, maximum = 1)]
    popularity_rank: Option<f64>,
}

/// An error (RFC 9457 problem details), sent as `application/problem+json`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    /// Always `about:blank`: the status and `code` say what happened.
    #[schema(rename = "type")]
    kind: String,
    /// The HTTP status in words.
    title: String,
    /// The HTTP status code.
    status: u16,
    /// What went wrong, for a person.
    detail: String,
    /// A stable name to branch on: `bad_request`, `too_large`, `not_an_image`,
    /// `empty_image`, `undecodable_image`, `image_too_large`, `no_face`, `nothing_left`,
    /// `overloaded`, ...
    code: String,
    /// With `nothing_left`: the request field of the filter that emptied the list.
    field: Option<String>,
}
