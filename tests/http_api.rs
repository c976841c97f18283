//! Every route of `moodreel serve` answering as it should, through real HTTP to the app on
//! port 0: JSON shapes (snapshots, volatile numbers redacted), headers, the page, the docs, and
//! an OpenAPI document that lists every route and describes every key the API sends.
#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod http_support;

use std::collections::BTreeSet;

use image::ImageFormat;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use http_support::*;

#[tokio::test]
async fn health_reports_the_model_and_the_catalog() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let mut health: Value = response.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["model"]["source"], "built-in");
    assert!(health["model"]["parameters"].as_u64().unwrap() > 100_000);
    assert!(health["catalog"]["films"].as_u64().unwrap() >= 500);
    redact(&mut health, &["parameters", "films", "inference_slots"]);
    health["version"] = json!("[version]");
    insta::assert_json_snapshot!("health", health);
}

#[tokio::test]
async fn recommendations_from_json_match_the_command_line_shape() {
    let app = spawn_app_with(tiny_catalog(), Default::default()).await;
    let response = app
        .post_json(
            "/api/v1/recommendations",
            &json!({"mood": {"sad": 0.7, "fear": 0.3}, "mode": "lift", "n": 3, "max_year": 2005}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let mut list: Value = response.json().await.unwrap();
    // The mood sent comes back normalised, with its most probable emotion.
    assert_eq!(list["mood"]["sad"], 0.7);
    assert_eq!(list["mood"]["emotion"], "sad");
    assert_eq!(list["movies"].as_array().unwrap().len(), 3);
    assert!(
        list["movies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|movie| movie["year"].as_u64().unwrap() <= 2005)
    );
    redact(&mut list, &["score"]);
    insta::assert_json_snapshot!("recommendations_json", list);
}

#[tokio::test]
async fn recommendations_accept_a_mood_name_and_defaults() {
    let app = spawn_app().await;
    let response = app
        .post_json("/api/v1/recommendations", &json!({"mood": "happy"}))
        .await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["mode"], "auto");
    assert_eq!(list["movies"].as_array().unwrap().len(), 10);
    let first = &list["movies"][0];
    for key in [
        "title",
        "year",
        "genres",
        "rating",
        "runtime_min",
        "certificate",
        "director",
        "stars",
        "score",
        "synopsis",
        "min_age",
        "tone",
        "reasons",
    ] {
        assert!(first.get(key).is_some(), "film without {key}: {first}");
    }
    for key in ["valence", "arousal", "darkness", "tags"] {
        assert!(
            first["tone"].get(key).is_some(),
            "tone without {key}: {first}"
        );
    }
}

#[tokio::test]
async fn the_family_switch_works_as_json_and_as_a_form_field() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/v1/recommendations",
            &json!({"mood": "happy", "family": true, "max_age": 8, "n": 5}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    for movie in list["movies"].as_array().unwrap() {
        assert!(
            movie["min_age"].as_u64().is_some_and(|age| age <= 8),
            "{movie}"
        );
    }
    assert!(
        list["notes"]
            .as_array()
            .is_some_and(|notes| !notes.is_empty())
    );
    let form = Form::new()
        .text("mood", "sad")
        .text("family", "on")
        .text("n", "3");
    let response = app.post_form("/api/v1/recommendations", form).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    for movie in list["movies"].as_array().unwrap() {
        assert!(
            movie["min_age"].as_u64().is_some_and(|age| age <= 8),
            "{movie}"
        );
    }
    let bad = app
        .post_json(
            "/api/v1/recommendations",
            &json!({"mood": "sad", "max_age": -1}),
        )
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn recommendations_from_a_form_with_a_mood_field() {
    let app = spawn_app_with(tiny_catalog(), Default::default()).await;
    let form = Form::new()
        .text("mood", "happy")
        .text("mode", "match")
        .text("n", "2")
        .text("genres", "Comedy")
        .text("genres", "Musical")
        .text("exclude_titles", "Laughs (1990)")
        .text("min_year", "");
    let response = app.post_form("/api/v1/recommendations", form).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["mode"], "match");
    let titles: Vec<&str> = list["movies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|movie| movie["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2);
    assert!(!titles.contains(&"Laughs"), "{titles:?}");
}

#[tokio::test]
async fn a_photo_without_a_face_is_an_answer_not_an_error() {
    let app = spawn_app().await;
    let photo = encode(&faceless(160, 120), ImageFormat::Png);
    let response = app.post_form("/api/v1/analyze", image_form(photo)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let analysis: Value = response.json().await.unwrap();
    insta::assert_json_snapshot!("analyze_no_face", analysis);
}

#[tokio::test]
async fn a_face_photo_gives_boxes_probabilities_and_films() {
    let Some(photo) = face_photo() else { return };
    let app = spawn_app().await;
    let response = app
        .post_form("/api/v1/analyze", image_form(photo.clone()))
        .await;
    assert_eq!(response.status(), 200);
    let mut analysis: Value = response.json().await.unwrap();
    let faces = analysis["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1, "{analysis}");
    let probabilities = &faces[0]["probabilities"];
    let total: f64 = EMOTIONS
        .iter()
        .map(|emotion| probabilities[emotion].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-6, "probabilities sum to {total}");
    assert_eq!(analysis["mood"]["emotion"], faces[0]["emotion"]);
    let mut volatile = EMOTIONS.to_vec();
    volatile.extend(["x", "y", "w", "h", "score", "confidence"]);
    redact(&mut analysis, &volatile);
    analysis["faces"][0]["emotion"] = json!("[emotion]");
    analysis["faces"][0]["uncertain"] = json!("[bool]");
    analysis["mood"]["emotion"] = json!("[emotion]");
    insta::assert_json_snapshot!("analyze_face", analysis);

    // The same photo as the mood of a recommendation (multipart `image` + settings).
    let form = image_form(photo).text("n", "5").text("mode", "lift");
    let response = app.post_form("/api/v1/recommendations", form).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["mode"], "lift");
    assert_eq!(list["movies"].as_array().unwrap().len(), 5);
    assert!(list["mood"]["emotion"].is_string());
}

#[tokio::test]
async fn movies_search_and_browse_the_catalog() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/movies?q=toy%20story&limit=2").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["source"], "built-in");
    assert!(page["total"].as_u64().unwrap() >= 1);
    assert!(page["movies"].as_array().unwrap().len() <= 2);
    assert!(
        page["movies"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Toy Story")
    );

    let page: Value = app
        .get("/api/v1/movies?genre=science%20fiction&limit=5&offset=5")
        .await
        .json()
        .await
        .unwrap();
    let movies = page["movies"].as_array().unwrap();
    assert_eq!(movies.len(), 5);
    assert_eq!(page["offset"], 5);
    assert!(movies.iter().all(|movie| {
        movie["genres"]
            .as_array()
            .unwrap()
            .contains(&json!("Sci-Fi"))
    }));

    let everything: Value = app.get("/api/v1/movies").await.json().await.unwrap();
    assert_eq!(everything["movies"].as_array().unwrap().len(), 20);
    assert!(everything["total"].as_u64().unwrap() >= 500);
}

#[tokio::test]
async fn the_page_is_served_with_its_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    assert!(html.contains("never stored"), "the privacy line");
    assert!(html.contains(r#"<script src="/app.js" defer></script>"#));
    // No inline script and nothing from elsewhere.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("http://") && !html.contains("https://"));

    for (path, media_type) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], media_type, "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body = response.text().await.unwrap();
        // (The SVG's XML namespace is a name, not a link.)
        let body = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} links elsewhere"
        );
    }
}

#[tokio::test]
async fn poster_links_reach_the_films_and_only_then_the_page_may_show_https_images() {
    let app = spawn_app_with(poster_catalog(), Default::default()).await;
    let list: Value = app
        .post_json(
            "/api/v1/recommendations",
            &json!({"mood": "happy", "mode": "match", "n": 5}),
        )
        .await
        .json()
        .await
        .unwrap();
    let movies = list["movies"].as_array().unwrap();
    assert_eq!(movies.len(), 5, "{list}");
    for movie in movies {
        let title = movie["title"].as_str().unwrap();
        match title {
            "Laughs" => assert_eq!(movie["poster_url"], POSTER_LINK),
            "Tears" => assert_eq!(movie["poster_url"], "http://posters.example/tears.jpg"),
            // Without a link the member is left out, as in the command line's JSON.
            _ => assert!(movie.get("poster_url").is_none(), "{movie}"),
        }
    }
    let document: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert_described(
        &document,
        &json!({"$ref": "#/components/schemas/Recommendations"}),
        &list,
        "recommendations",
    );
    // This catalog has an https poster: the page may load images from https, and only that.
    let csp = app.get("/").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("img-src 'self' data: blob: https:;"), "{csp}");
    assert!(!csp.contains("http:"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");

    // The tiny catalog has none: the page loads nothing from elsewhere at all.
    let plain = spawn_app_with(tiny_catalog(), Default::default()).await;
    let csp = plain.get("/").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    assert!(!csp.contains("https:"), "{csp}");
}

#[tokio::test]
async fn the_docs_are_served_from_the_binary() {
    let app = spawn_app().await;
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.bytes().await.unwrap().len() > 100_000);
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
    // /docs without the slash leads there.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client.get(app.url("/docs")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app().await;
    assert_problem(app.get("/api/v1/nothing").await, 404, "not_found").await;
    assert_problem(app.get("/nothing.html").await, 404, "not_found").await;
    assert_problem(app.get("/docs/nothing.js").await, 404, "not_found").await;
    let response = app
        .client
        .delete(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
    assert_problem(app.get("/api/v1/analyze").await, 405, "method_not_allowed").await;
}

/// The properties a schema of the document lists, following `$ref`s, `allOf` and `oneOf`.
fn schema_properties(document: &Value, schema: &Value) -> BTreeSet<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return schema_properties(document, &document["components"]["schemas"][name]);
    }
    let mut properties: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default();
    for combined in ["allOf", "oneOf", "anyOf"] {
        for part in schema[combined].as_array().into_iter().flatten() {
            properties.extend(schema_properties(document, part));
        }
    }
    properties
}

/// Every key of `value` is a property of `schema`, recursively where the schema says more.
fn assert_described(document: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    };
    let schema = match schema["oneOf"].as_array() {
        // Option<T> comes out as oneOf [null, T].
        Some(parts) => parts
            .iter()
            .find(|part| part["type"] != "null")
            .unwrap_or(schema),
        None => schema,
    };
    match value {
        Value::Object(map) => {
            let described = schema_properties(document, schema);
            for (key, child) in map {
                assert!(
                    described.contains(key),
                    "{at}.{key} is sent but not in the OpenAPI schema ({described:?})"
                );
                let child_schema = match schema["$ref"].as_str() {
                    Some(_) => &Value::Null,
                    None => &schema["properties"][key],
                };
                if !child_schema.is_null() {
                    assert_described(document, child_schema, child, &format!("{at}.{key}"));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                assert_described(document, &schema["items"], item, &format!("{at}[]"));
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_describes_every_answer() {
    let app = spawn_app_with(tiny_catalog(), Default::default()).await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in [
        ("/api/v1/analyze", "post"),
        ("/api/v1/recommendations", "post"),
        ("/api/v1/movies", "get"),
        ("/api/v1/health", "get"),
        ("/api/v1/openapi.json", "get"),
    ] {
        let operation = &document["paths"][path][method];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        assert!(operation["responses"]["200"].is_object(), "{method} {path}");
    }
    let request_types =
        document["paths"]["/api/v1/recommendations"]["post"]["requestBody"]["content"]
            .as_object()
            .unwrap();
    assert!(request_types.contains_key("application/json"));
    assert!(request_types.contains_key("multipart/form-data"));

    // Every reference points at a schema that exists.
    let text = document.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            document["components"]["schemas"][name].is_object(),
            "dangling reference to {name}"
        );
    }
    // The lists of names come from the code.
    let emotions = &document["components"]["schemas"]["Emotion"]["enum"];
    assert_eq!(emotions, &json!(EMOTIONS));
    assert!(
        document["components"]["schemas"]["Genre"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("Sci-Fi"))
    );

    // Every key of real answers is described.
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let list: Value = app
        .post_json("/api/v1/recommendations", &json!({"mood": "sad", "n": 2}))
        .await
        .json()
        .await
        .unwrap();
    assert_described(
        &document,
        &schema("Recommendations"),
        &list,
        "recommendations",
    );
    let movies: Value = app
        .get("/api/v1/movies?limit=3")
        .await
        .json()
        .await
        .unwrap();
    assert_described(&document, &schema("MovieList"), &movies, "movies");
    let health: Value = app.get("/api/v1/health").await.json().await.unwrap();
    assert_described(&document, &schema("Health"), &health, "health");
    let problem: Value = app
        .get("/api/v1/movies?genre=jazz")
        .await
        .json()
        .await
        .unwrap();
    assert_described(&document, &schema("Problem"), &problem, "problem");
    let nothing_left: Value = app
        .post_json(
            "/api/v1/recommendations",
            &json!({"mood": "sad", "min_year": 2100}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_described(&document, &schema("Problem"), &nothing_left, "problem");
    if let Some(photo) = face_photo() {
        let analysis: Value = app
            .post_form("/api/v1/analyze", image_form(photo))
            .await
            .json()
            .await
            .unwrap();
        assert_described(&document, &schema("Analysis"), &analysis, "analysis");
    }
}
