//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! attributes and the schemas of the types that make and read the JSON (the library crates'
//! through their `openapi` feature; the forms' in [`super::schema`]).

use utoipa::OpenApi;

use super::api;
use super::error;
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
        mood::Emotion,
        mood::EmotionDistribution,
        mood::openapi::MoodInput,
        recommend::Mode,
        recommend::MoodSummary,
        recommend::Recommendations,
        recommend::RecommendedMovie,
        recommend::ToneSummary,
        catalog::Genre,
        catalog::Movie,
        catalog::Tone,
        catalog::ToneTag,
        catalog::DarkTheme,
        catalog::ToneSource,
        crate::pipeline::AnalyzeResponse,
        crate::pipeline::FaceResponse,
        crate::pipeline::BoxResponse,
        crate::pipeline::LandmarksResponse,
        crate::pipeline::PointResponse,
        schema::PhotoUpload,
        schema::RecommendationForm,
        api::JsonRequest,
        api::MovieList,
        api::Health,
        api::ModelFacts,
        api::CatalogFacts,
        error::Problem,
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

    /// The property names of a component schema.
    fn properties(doc: &Value, name: &str) -> Vec<String> {
        let mut names: Vec<String> = doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has properties"))
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// The member names of a JSON object.
    fn members(value: impl serde::Serialize) -> Vec<String> {
        let mut names: Vec<String> = serde_json::to_value(value)
            .expect("serialisable")
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    #[test]
    fn schemas_list_exactly_the_members_the_types_write() {
        // Every optional fact set, so that every member is written.
        let mut movie = catalog::Movie::new("Up", vec![catalog::Genre::Animation]);
        movie.year = Some(2009);
        movie.rating = Some(8.3);
        movie.votes = Some(1000);
        movie.runtime_min = Some(96);
        movie.certificate = Some("PG".into());
        movie.director = Some("Pete Docter".into());
        movie.stars = vec!["Ed Asner".into()];
        movie.overview = Some("A balloon house.".into());
        movie.poster_url = Some("https://example.org/up.jpg".into());
        movie.keywords = vec!["balloon".into()];
        movie.tagline = Some("Fly.".into());
        movie.adult = Some(false);
        movie.popularity = Some(1.0);
        movie.popularity_rank = Some(0.5);
        let catalog = catalog::Catalog::from_movies("test", vec![movie]).expect("a catalog");
        let movie = catalog.movies()[0].clone();
        let doc = document();
        assert_eq!(members(&movie), properties(&doc, "Movie"));
        let tone = movie.tone.clone().expect("the catalog sets a tone");
        assert_eq!(members(&tone), properties(&doc, "FilmTone"));

        let mood = mood::EmotionDistribution::certain(mood::Emotion::Sad);
        let list =
            recommend::recommend(&catalog, &recommend::Request::new(mood)).expect("one film");
        let mut recommended = list.movies[0].clone();
        recommended.poster_url = Some("https://example.org/up.jpg".into());
        assert_eq!(members(&recommended), properties(&doc, "RecommendedMovie"));
        assert_eq!(members(&recommended.tone), properties(&doc, "Tone"));
        let mut list = list;
        list.notes = vec!["a note".into()];
        assert_eq!(members(&list), properties(&doc, "Recommendations"));
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
