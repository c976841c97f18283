//! OpenAPI schemas of this crate's JSON (the `openapi` feature). [`Movie`](crate::Movie) and
//! [`Tone`](crate::Tone) derive theirs; the names below are written from the types' own lists,
//! so a new genre, tag or theme reaches the document by itself.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::{DarkTheme, Genre, ToneSource, ToneTag};

/// Gives `$type` the schema of a string that is one of `$type::ALL`'s names, under the
/// component name `$name`.
macro_rules! names_schema {
    ($type:ty, $name:literal, $description:expr) => {
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .enum_values(Some(<$type>::ALL.map(<$type>::name)))
                    .description(Some($description))
                    .into()
            }
        }

        impl ToSchema for $type {
            fn name() -> Cow<'static, str> {
                $name.into()
            }
        }
    };
}

names_schema!(
    Genre,
    "Genre",
    "A genre (other spellings such as \"Science Fiction\" are accepted in requests)"
);
names_schema!(ToneTag, "ToneTag", "A word for how a film feels");
names_schema!(
    DarkTheme,
    "DarkTheme",
    "A dark theme: such films are never offered to lift a mood"
);
names_schema!(
    ToneSource,
    "ToneSource",
    "Where a film's tone came from: `hand-set` (the project's facts), `text` (read from the \
     overview, tagline and keywords) or `genres`"
);
