//! OpenAPI schemas of this crate's JSON (the `openapi` feature). The answer's types derive
//! theirs ([`Recommendations`](crate::Recommendations) and its parts); the two below are
//! written from the types' own lists.

use std::borrow::Cow;

use mood::openapi::probability_properties;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::{Mode, MoodSummary};

impl PartialSchema for Mode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(Mode::ALL.map(Mode::name)))
            .description(Some(
                "match: films whose tone fits the feeling; lift: films that move the viewer \
                 toward a better state; auto (default): lift for angry, disgust, fear and sad, \
                 match for happy, surprise and neutral",
            ))
            .into()
    }
}

impl ToSchema for Mode {
    fn name() -> Cow<'static, str> {
        "Mode".into()
    }
}

/// The seven probabilities and the most probable emotion in one object (the JSON of a
/// [`MoodSummary`], whose probabilities are flattened into it).
impl PartialSchema for MoodSummary {
    fn schema() -> RefOr<Schema> {
        probability_properties(ObjectBuilder::new())
            .property("emotion", mood::Emotion::schema())
            .required("emotion")
            .description(Some(
                "A mood: the probability of each emotion (they sum to 1) and the most \
                 probable one",
            ))
            .into()
    }
}

impl ToSchema for MoodSummary {
    fn name() -> Cow<'static, str> {
        "Mood".into()
    }
}
