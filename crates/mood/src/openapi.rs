//! OpenAPI schemas of this crate's JSON (the `openapi` feature): [`Emotion`] as a name,
//! [`EmotionDistribution`] as it is written (the seven probabilities) and as it is read
//! ([`MoodInput`]: a name, or weights).

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ObjectBuilder, OneOfBuilder, Schema,
    SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::{Emotion, EmotionDistribution};

/// The schema of a string that is one of `values`.
pub fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

fn emotion_schema() -> Schema {
    string_enum(
        Emotion::ALL.map(Emotion::name),
        "An emotion (FER-2013 order: angry, disgust, fear, happy, sad, surprise, neutral)",
    )
}

impl PartialSchema for Emotion {
    fn schema() -> RefOr<Schema> {
        emotion_schema().into()
    }
}

impl ToSchema for Emotion {}

/// An object with the seven probabilities as required properties, each 0 to 1: the JSON of an
/// [`EmotionDistribution`], to which a mood summary adds its `emotion`.
pub fn probability_properties(mut object: ObjectBuilder) -> ObjectBuilder {
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

impl PartialSchema for EmotionDistribution {
    fn schema() -> RefOr<Schema> {
        probability_properties(ObjectBuilder::new())
            .description(Some("Probability of each emotion; they sum to 1"))
            .into()
    }
}

impl ToSchema for EmotionDistribution {
    fn name() -> Cow<'static, str> {
        "Probabilities".into()
    }
}

/// The schema of an [`EmotionDistribution`] as a request gives it (what its `Deserialize`
/// accepts): one emotion's name, or weights per emotion, normalised to sum to 1.
pub struct MoodInput;

impl PartialSchema for MoodInput {
    fn schema() -> RefOr<Schema> {
        // At least one weight above 0 (all-zero weights are refused), and small enough that
        // seven of them have a finite sum.
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
            .property_names(Some(emotion_schema()))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::Number))
                    .minimum(Some(0.0))
                    .maximum(Some(1e300))
                    .into(),
            )))
            .description(Some(
                "Weights per emotion, missing ones 0, normalised to sum to 1: \
                 {\"sad\": 0.7, \"fear\": 0.3}",
            ));
        OneOfBuilder::new()
            .item(emotion_schema())
            .item(AllOfBuilder::new().item(weights).item(positive))
            .description(Some("One emotion (\"sad\") or weights per emotion"))
            .into()
    }
}

impl ToSchema for MoodInput {}
