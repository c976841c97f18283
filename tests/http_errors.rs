//! Every error status of the API, as `application/problem+json`, and the server still
//! answering after each bad request: a client's bad input never yields a 5xx or a dead server.
#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod http_support;

use std::time::Duration;

use image::ImageFormat;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use http_support::*;

#[tokio::test]
async fn malformed_requests_are_400() {
    let app = spawn_app().await;

    // Broken multipart: a boundary that never appears, then one that ends mid-part.
    let response = app
        .post_raw(
            "/api/v1/analyze",
            "multipart/form-data; boundary=XYZ",
            b"garbage".to_vec(),
        )
        .await;
    assert_problem(response, 400, "bad_request").await;
    app.assert_alive().await;
    let cut = b"--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n\x89PNG".to_vec();
    let response = app
        .post_raw("/api/v1/analyze", "multipart/form-data; boundary=XYZ", cut)
        .await;
    assert_problem(response, 400, "bad_request").await;
    app.assert_alive().await;
    let response = app
        .post_raw("/api/v1/analyze", "multipart/form-data", b"--x--".to_vec())
        .await;
    assert_problem(response, 400, "bad_request").await;
    app.assert_alive().await;

    // No `image` field; an unknown field; two images.
    let response = app
        .post_form("/api/v1/analyze", Form::new().text("photo", "x"))
        .await;
    let body = assert_problem(response, 400, "bad_request").await;
    assert!(
        body["detail"].as_str().unwrap().contains("`photo`"),
        "{body}"
    );
    // A form without any field at all.
    let response = app.post_form("/api/v1/analyze", Form::new()).await;
    assert_problem(response, 400, "bad_request").await;
    let png = encode(&faceless(32, 32), ImageFormat::Png);
    let twice = image_form(png.clone()).part("image", Part::bytes(png));
    assert_problem(
        app.post_form("/api/v1/analyze", twice).await,
        400,
        "bad_request",
    )
    .await;
    app.assert_alive().await;

    // An empty file.
    let response = app
        .post_form("/api/v1/analyze", image_form(Vec::new()))
        .await;
    assert_problem(response, 400, "empty_image").await;
    app.assert_alive().await;
}

#[tokio::test]
async fn bad_recommendation_requests_are_400_and_name_the_problem() {
    let app = spawn_app().await;
    let cases = [
        (r#"{"mood": "sad""#, "EOF"),
        (r#"{"mode": "lift"}"#, "mood"),
        (r#"{"mood": "joy"}"#, "joy"),
        (r#"{"mood": {"sad": -1}}"#, "sad"),
        (r#"{"mood": {"sad": 0, "happy": 0}}"#, "at least one"),
        (r#"{"mood": "sad", "mode": "cheer"}"#, "cheer"),
        (r#"{"mood": "sad", "n": 0}"#, "between 1 and 100"),
        (r#"{"mood": "sad", "n": 1000}"#, "between 1 and 100"),
        (r#"{"mood": "sad", "min_rating": 11}"#, "between 0 and 10"),
        (r#"{"mood": "sad", "genres": ["Jazz"]}"#, "Jazz"),
        // A value of the wrong type: the detail names the field.
        (
            r#"{"mood": "sad", "min_year": "old"}"#,
            r#"min_year: invalid type: string "old""#,
        ),
        // A whole number written as a float (`1e3`) is one, as JSON Schema says; 1.5 is not.
        (
            r#"{"mood": "sad", "max_year": 1.5}"#,
            "max_year: invalid value",
        ),
        (
            r#"{"mood": "sad", "min_year": 70000}"#,
            "min_year: invalid value",
        ),
        (
            r#"{"mood": "sad", "max_runtime": -5}"#,
            "max_runtime: invalid value",
        ),
        (
            r#"{"mood": "sad", "min_rating": "high"}"#,
            "min_rating: invalid type",
        ),
        (
            r#"{"mood": "sad", "genres": "Comedy"}"#,
            "genres: invalid type",
        ),
        (
            r#"{"mood": "sad", "certificates": [1]}"#,
            "certificates[0]: invalid type",
        ),
        (r#"{"mood": "sad", "n": "ten"}"#, "n: invalid type"),
        (r#"{"mood": "sad", "seed": -1}"#, "seed: invalid value"),
        (r#"{"mood": 7}"#, "mood: "),
        // A field that does not exist is named, not ignored.
        (r#"{"mood": "sad", "min_yaer": 2000}"#, "min_yaer"),
        (r#"[1, 2, 3]"#, ""),
    ];
    for (body, mentions) in cases {
        let response = app
            .post_raw(
                "/api/v1/recommendations",
                "application/json",
                body.as_bytes().to_vec(),
            )
            .await;
        let problem = assert_problem(response, 400, "bad_request").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "{body}: {problem}"
        );
        app.assert_alive().await;
    }

    let forms = [
        Form::new().text("mood", "glee"),
        Form::new().text("mood", "sad").text("n", "many"),
        Form::new().text("mood", "sad").text("colour", "blue"),
        Form::new().text("mode", "lift"),
    ];
    for form in forms {
        let response = app.post_form("/api/v1/recommendations", form).await;
        assert_problem(response, 400, "bad_request").await;
    }
    let both = image_form(encode(&faceless(32, 32), ImageFormat::Png)).text("mood", "sad");
    let response = app.post_form("/api/v1/recommendations", both).await;
    assert_problem(response, 400, "bad_request").await;

    for query in [
        "genre=jazz",
        "genre=",
        "genre=%20",
        "limit=0",
        "limit=101",
        "limit=ten",
        "colour=blue",
    ] {
        let response = app.get(&format!("/api/v1/movies?{query}")).await;
        assert_problem(response, 400, "bad_request").await;
    }
    app.assert_alive().await;
}

#[tokio::test]
async fn bodies_over_15_mib_are_413() {
    let app = spawn_app().await;

    // A 40 MB upload: refused from its declared length, before it is read.
    let huge = vec![0xAB_u8; 40 * 1024 * 1024];
    let response = app.post_form("/api/v1/analyze", image_form(huge)).await;
    assert_problem(response, 413, "too_large").await;
    app.assert_alive().await;

    // A body without a declared length is cut off at the limit while it is read. The client
    // keeps sending; read the answer from a raw connection.
    let address = app.address.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let head = "POST /api/v1/recommendations HTTP/1.1\r\nHost: test\r\n\
            Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..17 {
            let header = format!("{:x}\r\n", chunk.len());
            let sent = stream
                .write_all(header.as_bytes())
                .and_then(|()| stream.write_all(&chunk))
                .and_then(|()| stream.write_all(b"\r\n"));
            if sent.is_err() {
                break; // The server answered and closed: fine.
            }
        }
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    })
    .await
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    app.assert_alive().await;
}

#[tokio::test]
async fn files_that_are_not_images_we_read_are_415() {
    let app = spawn_app().await;
    let cases: [(&str, Vec<u8>); 3] = [
        ("text", b"hello, this is not a photo\n".to_vec()),
        ("PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec()),
        ("TIFF", b"II*\0\x08\0\0\0".to_vec()),
    ];
    for (what, bytes) in cases {
        // Whatever type the client declares, the bytes decide.
        let form = Form::new().part(
            "image",
            Part::bytes(bytes)
                .file_name("photo.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
        let response = app.post_form("/api/v1/analyze", form).await;
        let problem = assert_problem(response, 415, "not_an_image").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(what),
            "{problem}"
        );
        app.assert_alive().await;
    }
    // A request body that is neither JSON nor a form.
    let response = app
        .post_raw("/api/v1/recommendations", "text/plain", b"sad".to_vec())
        .await;
    assert_problem(response, 415, "unsupported_request_type").await;
    let response = app
        .post_raw("/api/v1/analyze", "application/json", b"{}".to_vec())
        .await;
    assert_problem(response, 415, "unsupported_request_type").await;
    app.assert_alive().await;
}

#[tokio::test]
async fn undecodable_images_and_bombs_are_422() {
    let app = spawn_app().await;

    // A PNG that claims 100000×100000 pixels: refused from its header, nothing allocated.
    let response = app
        .post_form(
            "/api/v1/analyze",
            image_form(png_claiming(100_000, 100_000)),
        )
        .await;
    let problem = assert_problem(response, 422, "image_too_large").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("100000"),
        "{problem}"
    );
    app.assert_alive().await;

    // Truncated files.
    let photo = faceless(640, 480);
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif] {
        let bytes = encode(&photo, format);
        let cut = bytes[..bytes.len() / 3].to_vec();
        let response = app.post_form("/api/v1/analyze", image_form(cut)).await;
        assert_eq!(response.status(), 422, "{format:?}");
        let problem = assert_problem(response, 422, "undecodable_image").await;
        assert!(problem["detail"].as_str().is_some(), "{problem}");
        app.assert_alive().await;
    }
    // The right signature and nothing else.
    let response = app
        .post_form("/api/v1/analyze", image_form(b"\xFF\xD8\xFFjunk".to_vec()))
        .await;
    assert_problem(response, 422, "undecodable_image").await;
    app.assert_alive().await;
}

#[tokio::test]
async fn a_photo_without_a_face_cannot_give_a_mood() {
    let app = spawn_app().await;
    let form = image_form(encode(&faceless(160, 120), ImageFormat::Jpeg)).text("mode", "lift");
    let response = app.post_form("/api/v1/recommendations", form).await;
    let problem = assert_problem(response, 422, "no_face").await;
    assert_eq!(problem["detail"], "no face found; pick a mood instead");
    app.assert_alive().await;
}

#[tokio::test]
async fn filters_that_leave_nothing_are_422_and_name_the_filter() {
    let app = spawn_app_with(tiny_catalog(), Default::default()).await;
    let response = app
        .post_json(
            "/api/v1/recommendations",
            &json!({"mood": "fear", "genres": ["Horror"], "max_runtime": 10}),
        )
        .await;
    let problem = assert_problem(response, 422, "nothing_left").await;
    assert_eq!(problem["field"], "max_runtime");
    assert!(
        problem["detail"].as_str().unwrap().contains("runtime"),
        "{problem}"
    );
    insta::assert_json_snapshot!("problem_nothing_left", problem);
}

#[tokio::test]
async fn overload_is_503_with_retry_after() {
    let app = spawn_app_with(tiny_catalog(), no_inference_slots()).await;
    let photo = encode(&faceless(64, 64), ImageFormat::Png);
    let response = app.post_form("/api/v1/analyze", image_form(photo)).await;
    assert_eq!(response.headers()["retry-after"], "1");
    assert_problem(response, 503, "overloaded").await;
    // Only photo reading is limited: a mood given as JSON is still answered.
    let response = app
        .post_json("/api/v1/recommendations", &json!({"mood": "sad"}))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn with_the_one_slot_busy_photos_get_a_quick_503_and_moods_still_work() {
    let wait = Duration::from_millis(200);
    let app = spawn_app_with(
        tiny_catalog(),
        moodreel::web::Limits {
            inference_slots: 1,
            inference_wait: wait,
            ..Default::default()
        },
    )
    .await;
    let photo = encode(&faceless(64, 64), ImageFormat::Png);
    // Hold the only slot, as a photo that takes forever to read would.
    let held = app.state.hold_inference_slot().expect("the slot is free");
    assert!(app.state.hold_inference_slot().is_none(), "one slot only");

    // Twenty photos at once: the few that find a place in the queue are refused after the
    // wait, the rest at once; none is read.
    let started = std::time::Instant::now();
    let requests: Vec<_> = (0..20)
        .map(|_| app.spawn_upload("/api/v1/analyze", photo.clone()))
        .collect();
    for request in requests {
        let response = request.await.unwrap();
        assert_eq!(response.headers()["retry-after"], "1");
        let problem = assert_problem(response, 503, "overloaded").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("busy"),
            "{problem}"
        );
    }
    let took = started.elapsed();
    assert!(
        took >= wait && took < wait + Duration::from_secs(3),
        "the 503s took {took:?}: they must come after the {wait:?} wait, and quickly"
    );
    // A mood needs no slot, and the server still answers.
    let response = app
        .post_json("/api/v1/recommendations", &json!({"mood": "sad"}))
        .await;
    assert_eq!(response.status(), 200);
    app.assert_alive().await;

    // Once the slot is free again, photos are read.
    drop(held);
    let response = app.post_form("/api/v1/analyze", image_form(photo)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn photos_beyond_the_queue_get_their_503_at_once() {
    let slots = 1;
    let queue = slots * moodreel::web::WAITING_PER_SLOT;
    let beyond = 8;
    let app = spawn_app_with(
        tiny_catalog(),
        moodreel::web::Limits {
            inference_slots: slots,
            // Long enough that a queued photo cannot be refused for waiting during the test.
            inference_wait: Duration::from_secs(30),
            ..Default::default()
        },
    )
    .await;
    let photo = encode(&faceless(64, 64), ImageFormat::Png);
    let held = app.state.hold_inference_slot().expect("the slot is free");

    let (sender, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..queue + beyond {
        let started = std::time::Instant::now();
        let (upload, sender) = (
            app.spawn_upload("/api/v1/analyze", photo.clone()),
            sender.clone(),
        );
        tokio::spawn(async move {
            let response = upload.await.unwrap();
            let retry_after = response.headers().get("retry-after").cloned();
            let _ = sender.send((response.status().as_u16(), retry_after, started.elapsed()));
        });
    }
    // With the slot held, only the photos beyond the queue can be answered: at once, with 503.
    for _ in 0..beyond {
        let (status, retry_after, took) = answers.recv().await.expect("an answer");
        assert_eq!(status, 503);
        assert_eq!(retry_after.expect("Retry-After"), "30");
        assert!(
            took < Duration::from_secs(1),
            "a photo beyond the queue waited {took:?} for its 503"
        );
    }
    // The queued photos are read once the slot is free.
    drop(held);
    for _ in 0..queue {
        let (status, _, _) = answers.recv().await.expect("an answer");
        assert_eq!(status, 200, "a queued photo is read once the slot is free");
    }
}

#[tokio::test]
async fn concurrent_photos_beyond_the_slots_are_refused_not_queued() {
    let app = spawn_app_with(
        tiny_catalog(),
        moodreel::web::Limits {
            inference_slots: 1,
            inference_wait: Duration::from_millis(1),
            ..Default::default()
        },
    )
    .await;
    let photo = encode(&faceless(1600, 1200), ImageFormat::Png);
    let handles: Vec<_> = (0..6)
        .map(|_| app.spawn_upload("/api/v1/analyze", photo.clone()))
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap().status().as_u16());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&200), "{statuses:?}");
    app.assert_alive().await;
}
