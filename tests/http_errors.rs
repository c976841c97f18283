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
        let head = "POST /api/v1/recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\n\
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

// ---------- hardening: bodies, connections, uploads, hosts, logs ----------

/// A JSON body of about 14 MB: `exclude_titles` of 2.4 million short titles.
fn huge_title_list() -> Vec<u8> {
    let mut body = br#"{"mood": "sad", "exclude_titles": ["Ab""#.to_vec();
    for _ in 0..2_400_000 {
        body.extend_from_slice(br#", "Ab""#);
    }
    body.extend_from_slice(b"]}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_json_body_is_refused_at_once() {
    let app = spawn_app().await;
    let body = huge_title_list();
    assert!(body.len() > 14_000_000);
    // Declared length over 64 KiB: refused before anything is read. Only the head is sent, so
    // the answer cannot depend on a race between the client still writing the body and the
    // server closing the connection after it refused (a client writing then sees a broken pipe).
    let host = app.host();
    let declared_length = body.len();
    let (answer, declared) = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let mut connection = RawConnection::open(&host, Duration::from_secs(10));
        let head = format!(
            "POST /api/v1/recommendations HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/json\r\nContent-Length: {declared_length}\r\n\r\n"
        );
        assert!(connection.send(head.as_bytes()));
        let (answer, _closed) = connection.read_until_closed();
        (answer, started.elapsed())
    })
    .await
    .unwrap();
    let problem = assert_raw_problem(&answer, 413, "too_large");
    assert!(
        problem["detail"].as_str().unwrap().contains("65536"),
        "{problem}"
    );
    // Without a declared length (chunked): cut off after 64 KiB.
    let host = app.host();
    let (answer, chunked) = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let mut connection = RawConnection::open(&host, Duration::from_secs(10));
        let head = format!(
            "POST /api/v1/recommendations HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        assert!(connection.send(head.as_bytes()));
        for chunk in body.chunks(64 * 1024) {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            if !connection.send(&framed) {
                break; // The server answered and closed: fine.
            }
        }
        let answer = connection.read_head();
        (answer, started.elapsed())
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        declared < Duration::from_secs(1) && chunked < Duration::from_secs(1),
        "refusals took {declared:?} (declared) and {chunked:?} (chunked)"
    );
    app.assert_alive().await;
}

#[tokio::test]
async fn rankings_take_a_slot_like_photos() {
    let app = spawn_app_with(
        tiny_catalog(),
        moodreel::web::Limits {
            ranking_slots: 0,
            inference_wait: Duration::from_millis(50),
            ..Default::default()
        },
    )
    .await;
    let response = app
        .post_json("/api/v1/recommendations", &json!({"mood": "sad"}))
        .await;
    assert_eq!(response.headers()["retry-after"], "1");
    assert_problem(response, 503, "overloaded").await;
    app.assert_alive().await;
}

/// Limits for the connection tests: a head must come within a second.
fn quick_heads() -> moodreel::web::Limits {
    moodreel::web::Limits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 8,
        upload_stall: Duration::from_secs(1),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_by_the_server() {
    let app = spawn_app_with(tiny_catalog(), quick_heads()).await;
    let host = app.host();
    tokio::task::spawn_blocking(move || {
        // Ten seconds is far past the one-second head timeout: a connection still open then
        // would be one held for ever.
        let patience = Duration::from_secs(10);
        let started = std::time::Instant::now();
        let mut idle = RawConnection::open(&host, patience);
        let mut slow = RawConnection::open(&host, patience);
        // Slowloris: a request head that never ends.
        assert!(slow.send(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: "));
        let mut kept = RawConnection::open(&host, patience);
        let request = format!("GET /api/v1/health HTTP/1.1\r\nHost: {host}\r\n\r\n");
        assert!(kept.send(request.as_bytes()));
        assert!(kept.read_head().starts_with("HTTP/1.1 200"));
        for (name, connection) in [
            ("idle", &mut idle),
            ("slowloris", &mut slow),
            ("keep-alive", &mut kept),
        ] {
            let (_, closed) = connection.read_until_closed();
            assert!(
                closed,
                "the {name} connection is still open after {patience:?}"
            );
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "closing took {took:?}");
        // A request line hyper cannot parse is answered by hyper itself (a bare 400).
        let mut garbage = RawConnection::open(&host, patience);
        assert!(garbage.send(b"BLAH\r\n\r\n"));
        let (answer, closed) = garbage.read_until_closed();
        assert!(answer.starts_with("HTTP/1.1 400") && closed, "{answer}");
    })
    .await
    .unwrap();
    app.assert_alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let app = spawn_app_with(tiny_catalog(), quick_heads()).await;
    let host = app.host();
    tokio::task::spawn_blocking(move || {
        let held: Vec<_> = (0..8)
            .map(|_| RawConnection::open(&host, Duration::from_secs(5)))
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut one_more = RawConnection::open(&host, Duration::from_millis(800));
        let (_, closed) = one_more.read_until_closed();
        assert!(closed, "a connection beyond the cap of 8 was kept open");
        drop(held);
    })
    .await
    .unwrap();
    // Once they are gone, the server answers again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.assert_alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_beyond_the_body_budget_are_refused_at_once() {
    let declared = 3 * 1024 * 1024;
    let app = spawn_app_with(
        tiny_catalog(),
        moodreel::web::Limits {
            body_budget: 8 * 1024 * 1024,
            upload_stall: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await;
    let host = app.host();
    tokio::task::spawn_blocking(move || {
        let head = format!(
            "POST /api/v1/analyze HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: {declared}\r\n\r\n\
             --XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\n"
        );
        let part = vec![0x55_u8; 64 * 1024];
        // Two uploads fit in the 8 MiB budget: each sends a megabyte, then stalls.
        let mut stalled: Vec<_> = (0..2)
            .map(|_| {
                let mut connection = RawConnection::open(&host, Duration::from_secs(10));
                assert!(connection.send(head.as_bytes()));
                for _ in 0..16 {
                    assert!(connection.send(&part));
                }
                connection
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        // The others are refused as soon as their head is read.
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let mut refused = RawConnection::open(&host, Duration::from_secs(5));
            assert!(refused.send(head.as_bytes()));
            let answer = refused.read_head();
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            assert!(answer.contains("application/problem+json"), "{answer}");
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        // The stalled ones are ended after a second without data.
        for connection in &mut stalled {
            let answer = connection.read_head();
            assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        }
    })
    .await
    .unwrap();
    app.assert_alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_slower_than_the_minimum_rate_are_408() {
    let app = spawn_app_with(
        tiny_catalog(),
        moodreel::web::Limits {
            upload_stall: Duration::from_millis(500),
            min_upload_rate: 64 * 1024,
            ..Default::default()
        },
    )
    .await;
    // A byte every 200 ms: never a pause of 500 ms, but far under 64 KiB/s.
    let host = app.host();
    let answer = tokio::task::spawn_blocking(move || {
        let mut connection = RawConnection::open(&host, Duration::from_secs(10));
        let head = format!(
            "POST /api/v1/recommendations HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        );
        assert!(connection.send(head.as_bytes()));
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(200));
            if !connection.send(b" ") {
                break;
            }
        }
        connection.read_head()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    app.assert_alive().await;
}

#[tokio::test]
async fn foreign_hosts_and_other_sites_are_refused_and_local_requests_answered() {
    let app = spawn_app_with(tiny_catalog(), Default::default()).await;
    let port = app.host().rsplit_once(':').unwrap().1.to_owned();
    let get = |host: String| app.client.get(app.url("/")).header("host", host).send();
    // DNS rebinding: a foreign name pointed at 127.0.0.1.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1.evil.example",
    ] {
        let response = get(host.to_owned()).await.unwrap();
        assert_problem(response, 421, "unknown_host").await;
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST.:{port}"),
        format!("[::1]:{port}"),
        "127.0.0.1".to_owned(),
    ] {
        let response = get(host.clone()).await.unwrap();
        assert_eq!(response.status(), 200, "{host}");
    }
    let mood = json!({"mood": "sad"});
    let post = |headers: &[(&str, String)]| {
        let mut request = app
            .client
            .post(app.url("/api/v1/recommendations"))
            .json(&mood);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send()
    };
    // Another site's page posting here: refused by Origin or by Sec-Fetch-Site.
    for headers in [
        vec![("origin", "http://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("origin", format!("http://localhost:{port}"))],
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![
            ("sec-fetch-site", "cross-site".to_owned()),
            ("sec-fetch-mode", "navigate".to_owned()),
        ],
    ] {
        let response = post(&headers).await.unwrap();
        let problem = assert_problem(response, 403, "cross_site").await;
        assert!(problem["detail"].as_str().unwrap().contains("other sites"));
    }
    // A cross-site form post (what a foreign page's <form> sends).
    let response = app
        .client
        .post(app.url("/api/v1/recommendations"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("origin", "http://evil.example")
        .multipart(Form::new().text("mood", "sad"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "cross_site").await;
    // The page's own requests, and a link followed from elsewhere to the page.
    let own = post(&[
        ("origin", app.address.clone()),
        ("sec-fetch-site", "same-origin".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(own.status(), 200);
    let followed = app
        .client
        .get(app.url("/"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    // curl-like: no Origin, no Sec-Fetch-*.
    assert_eq!(post(&[]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn allowed_host_names_are_answered() {
    let app = spawn_app_with(tiny_catalog(), Default::default()).await;
    let state = app
        .state
        .clone()
        .with_allowed_hosts(["moodreel.lan".to_owned()]);
    assert!(state.is_own_host("moodreel.lan:5000"));
    assert!(state.is_own_host("MoodReel.LAN"));
    assert!(state.is_own_host("192.168.1.20:5000"));
    assert!(state.is_own_host("[fe80::1]:5000"));
    assert!(!state.is_own_host("evil.example"));
    assert!(!state.is_own_host("moodreel.lan.evil.example"));
    assert!(!app.state.is_own_host("moodreel.lan"));
}

/// Starts the binary on port 0 with `-v`, its log written to a file; returns it, its address
/// and the log's path.
fn start_logging_server(
    dir: &std::path::Path,
) -> (std::process::Child, String, std::path::PathBuf) {
    let log = dir.join("serve.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_moodreel"))
        .args(["serve", "--port", "0", "-vv"])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let address = announced_address(&mut child);
    (child, address, log)
}

#[tokio::test]
async fn request_text_in_the_log_is_escaped_and_the_log_file_has_no_colours() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address, log) = start_logging_server(dir.path());
    let client = reqwest::Client::new();
    let forged = "x\n2026-12-04T15:00:00Z  WARN moodreel: FORGED-LINE \u{1b}[2K";
    let body = serde_json::to_vec(&json!({"mood": "sad", forged: 1})).unwrap();
    let response = client
        .post(format!("{address}/api/v1/recommendations"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // A thousand titles at -vv: the log says how many filters ran, not what they held.
    let titles: Vec<String> = (0..1000).map(|i| format!("Secret title {i}")).collect();
    let response = client
        .post(format!("{address}/api/v1/recommendations"))
        .json(&json!({"mood": "sad", "exclude_titles": titles, "certificates": ["PG\nX"]}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error() || response.status() == 200);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("request refused"), "{text}");
    assert!(
        !text
            .lines()
            .any(|line| line.starts_with("2026-12-04T15:00:00Z")),
        "a forged line: {text}"
    );
    assert!(text.contains("\\n2026-12-04T15:00:00Z"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "an escape character in the log: {text}"
    );
    assert!(!text.contains("Secret title"), "request data in the log");
    assert!(
        text.lines().all(|line| line.len() < 2000),
        "a log line of {} bytes",
        text.lines().map(str::len).max().unwrap_or(0)
    );
}
