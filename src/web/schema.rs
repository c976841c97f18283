//! Schemas of the API's bodies that have no Rust type of their own: the multipart forms (read
//! field by field by [`super::upload`]) and their text entries. Every JSON document has its
//! schema derived from the type that makes or reads it: the library's (`catalog::Movie`,
//! `recommend::Recommendations`, ... through their `openapi` feature), the pipeline's
//! ([`crate::pipeline::AnalyzeResponse`]) and the handlers' ([`super::api`],
//! [`super::error::Problem`]). The document ([`super::openapi`]) lists them all.

use catalog::Genre;
use mood::Emotion;
use mood::openapi::string_enum;
use recommend::Mode;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

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

/// A photo sent as `multipart/form-data`; no other field.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// JPEG, PNG, WebP, GIF or BMP, at most 15 MiB and 40 megapixels.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream", min_length = 1)]
    image: Vec<u8>,
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
                Genre::schema(),
                super::MAX_GENRES,
                "A genre the film may have (repeatable, or comma-separated)",
            ),
        )
        .property(
            "exclude_genres",
            list(
                Genre::schema(),
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
