//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! attributes and the schemas below.
//!
//! The schemas are in [`super::schema`] (see there why they are written out).

use utoipa::OpenApi;

use super::api;
use super::schema;

/// The API description served at `/api/v1/openapi.json` and shown at `/docs`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "moodreel",
        description = "[← Back to the moodreel page](/)\n\n\
Reads the facial expression in a photo and recommends films that match or lift the mood. \
Photos are read in memory and never stored. Errors are `application/problem+json` (RFC 9457) with a \
stable `code`.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(api::analyze, api::recommendations, api::movies, api::health, api::openapi),
    components(schemas(
        schema::EmotionName,
        schema::ModeName,
        schema::GenreName,
        schema::Mood,
        schema::Probabilities,
        schema::MoodInput,
        schema::Analysis,
        schema::Face,
        schema::FaceBox,
        schema::Landmarks,
        schema::Point,
        schema::PhotoUpload,
        schema::RecommendationRequest,
        schema::RecommendationForm,
        schema::Recommendations,
        schema::RecommendedMovie,
        schema::Movie,
        schema::Tone,
        schema::FilmTone,
        schema::ToneTagName,
        schema::DarkThemeName,
        schema::Problem,
        api::MovieList,
        api::Health,
        api::ModelFacts,
        api::CatalogFacts,
    )),
    tags(
        (name = "photos", description = "Faces and expressions in a photo"),
        (name = "films", description = "Recommendations and the film catalog"),
        (name = "service", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document as pretty JSON.
pub fn document_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|error| {
        format!("{{\"error\": \"cannot render the OpenAPI document: {error}\"}}")
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn document() -> Value {
        serde_json::from_str(&document_json()).expect("the document is JSON")
    }

    #[test]
    fn the_uncertain_threshold_is_the_pipelines() {
        let face = &document()["components"]["schemas"]["Face"]["properties"]["uncertain"];
        let text = face["description"].as_str().expect("described");
        let threshold = format!("below {}", crate::pipeline::UNCERTAIN_BELOW);
        assert!(text.contains(&threshold), "{text:?} lacks {threshold:?}");
    }

    #[test]
    fn bounds_in_the_document_are_the_servers() {
        let doc = document();
        let limit = doc["paths"]["/api/v1/movies"]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|parameter| parameter["name"] == "limit")
            .expect("a limit parameter")["schema"]
            .clone();
        assert_eq!(limit["minimum"], 1);
        assert_eq!(limit["maximum"], api::MAX_PAGE);
        let json = &doc["components"]["schemas"]["RecommendationRequest"]["properties"];
        assert_eq!(json["n"]["maximum"], recommend::MAX_COUNT);
        assert_eq!(json["n"]["type"], "integer", "n may not be null");
        for variant in doc["components"]["schemas"]["RecommendationForm"]["oneOf"]
            .as_array()
            .expect("two kinds of form")
        {
            let n = &variant["properties"]["n"];
            assert_eq!(
                (&n["minimum"], &n["maximum"]),
                (&1.into(), &recommend::MAX_COUNT.into())
            );
        }
    }
}
