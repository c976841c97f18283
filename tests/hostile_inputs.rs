//! The hostile-input suite: files and requests built to break a server, sent to the app on
//! port 0. Each case must get the right 4xx as `application/problem+json` (with a short
//! `detail`) or a correct answer, never a 5xx; after every case the server must still answer
//! `/api/v1/health`. Everything is generated here (see `hostile_support`), except the face
//! photo of the EXIF test, which comes from the development data and is skipped without it.
//!
//! Run: `cargo test --test hostile_inputs`. A failure lists every case that failed, by name.
#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod hostile_support;
mod http_support;

use std::time::Duration;

use image::{DynamicImage, GrayAlphaImage, ImageBuffer, ImageFormat, LumaA, Rgb, Rgba, RgbaImage};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use hostile_support::*;
use http_support::*;

/// Longest `detail` a problem may carry (the server cuts at 300 characters and adds `…`).
const MAX_DETAIL: usize = 301;

/// What a case sends.
enum Send {
    /// `POST path` with a multipart form.
    Form(&'static str, Form),
    /// `POST path` with this body and `Content-Type` (none when `None`).
    Raw(&'static str, Option<&'static str>, Vec<u8>),
    /// `GET path`.
    Get(String),
}

/// What a case must get back.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This status as problem+json with this `code`.
    Problem(u16, &'static str),
    /// 200 from `/analyze`: a photo of this size (as shown) with this many faces.
    Picture {
        width: u64,
        height: u64,
        faces: usize,
    },
    /// 200 from `/recommendations` with this many films.
    Films(usize),
    /// 200 from `/movies` with this many matches in all.
    Movies(u64),
}

struct Case {
    name: String,
    send: Send,
    expect: Expect,
}

fn case(name: impl Into<String>, send: Send, expect: Expect) -> Case {
    Case {
        name: name.into(),
        send,
        expect,
    }
}

/// A photo sent to `/analyze` in the field `image`.
fn photo(name: impl Into<String>, bytes: Vec<u8>, expect: Expect) -> Case {
    case(
        name,
        Send::Form("/api/v1/analyze", image_form(bytes)),
        expect,
    )
}

/// A JSON body sent to `/recommendations`.
fn json_body(name: impl Into<String>, body: impl Into<Vec<u8>>, expect: Expect) -> Case {
    case(
        name,
        Send::Raw(
            "/api/v1/recommendations",
            Some("application/json"),
            body.into(),
        ),
        expect,
    )
}

/// A multipart form sent to `/recommendations`.
fn rec_form(name: impl Into<String>, form: Form, expect: Expect) -> Case {
    case(name, Send::Form("/api/v1/recommendations", form), expect)
}

/// A hand-written multipart body (boundary `XYZ`) sent to `path`.
fn multipart(name: impl Into<String>, path: &'static str, body: Vec<u8>, expect: Expect) -> Case {
    case(
        name,
        Send::Raw(path, Some("multipart/form-data; boundary=XYZ"), body),
        expect,
    )
}

/// One multipart part with boundary `XYZ`: its Content-Disposition and content.
fn part(disposition: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = b"--XYZ\r\nContent-Disposition: form-data; ".to_vec();
    out.extend_from_slice(disposition);
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
    out
}

const END: &[u8] = b"--XYZ--\r\n";

const fn problem(status: u16, code: &'static str) -> Expect {
    Expect::Problem(status, code)
}

const BAD: Expect = problem(400, "bad_request");
const UNDECODABLE: Expect = problem(422, "undecodable_image");
const TOO_MANY_PIXELS: Expect = problem(422, "image_too_large");
const NOT_AN_IMAGE: Expect = problem(415, "not_an_image");
const WRONG_BODY_TYPE: Expect = problem(415, "unsupported_request_type");
const NOTHING_LEFT: Expect = problem(422, "nothing_left");
const TOO_LARGE: Expect = problem(413, "too_large");

fn picture(width: u64, height: u64) -> Expect {
    Expect::Picture {
        width,
        height,
        faces: 0,
    }
}

/// Sends a case and checks the answer; `Err` says what was wrong.
async fn check(app: &TestApp, send: Send, expect: Expect) -> Result<(), String> {
    let request = match send {
        Send::Form(path, form) => app.client.post(app.url(path)).multipart(form),
        Send::Raw(path, content_type, body) => {
            let request = app.client.post(app.url(path)).body(body);
            match content_type {
                Some(value) => request.header("content-type", value),
                None => request,
            }
        }
        Send::Get(path) => app.client.get(app.url(&path)),
    };
    let response = request
        .send()
        .await
        .map_err(|error| format!("no answer: {error}"))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap_or("?").to_owned())
        .unwrap_or_default();
    let no_store = response
        .headers()
        .get("cache-control")
        .is_some_and(|value| value == "no-store");
    let body = response
        .bytes()
        .await
        .map_err(|error| format!("body: {error}"))?;
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned();
    if status >= 500 {
        return Err(format!("server error {status}: {text}"));
    }
    if !no_store {
        return Err(format!("no `Cache-Control: no-store` ({status})"));
    }
    let json: Value = serde_json::from_slice(&body)
        .map_err(|error| format!("{status}, not JSON ({error}): {text}"))?;
    match expect {
        Expect::Problem(want, code) => {
            if status != want || json["code"] != code {
                return Err(format!(
                    "got {status} {}, expected {want} {code}: {text}",
                    json["code"]
                ));
            }
            if content_type != "application/problem+json" {
                return Err(format!("content type {content_type}"));
            }
            if json["status"] != want
                || json["type"] != "about:blank"
                || json["title"].as_str().is_none()
            {
                return Err(format!("not an RFC 9457 problem: {text}"));
            }
            let detail = json["detail"].as_str().unwrap_or_default();
            if detail.is_empty() || detail.chars().count() > MAX_DETAIL {
                return Err(format!(
                    "detail empty or longer than {MAX_DETAIL} characters: {text}"
                ));
            }
        }
        Expect::Picture {
            width,
            height,
            faces,
        } => {
            if status != 200 {
                return Err(format!("got {status}, expected 200: {text}"));
            }
            let found = json["faces"].as_array().map(Vec::len);
            if json["width"] != width || json["height"] != height || found != Some(faces) {
                return Err(format!(
                    "expected {width}×{height} with {faces} face(s), got {}×{} with {found:?}",
                    json["width"], json["height"]
                ));
            }
        }
        Expect::Films(count) => {
            let films = json["movies"].as_array().map(Vec::len);
            if status != 200 || films != Some(count) {
                return Err(format!(
                    "got {status} with {films:?} films, expected {count}: {text}"
                ));
            }
        }
        Expect::Movies(total) => {
            if status != 200 || json["total"] != total {
                return Err(format!(
                    "got {status}, expected 200 with total {total}: {text}"
                ));
            }
        }
    }
    Ok(())
}

/// Runs every case in turn against `app`, checking after each that the server still answers;
/// adds a line to `failures` for every case that went wrong. Returns how many cases ran.
async fn run(app: &TestApp, cases: Vec<Case>, failures: &mut Vec<String>) -> usize {
    let count = cases.len();
    for Case { name, send, expect } in cases {
        if let Err(problem) = check(app, send, expect).await {
            failures.push(format!("case `{name}`: {problem}"));
        }
        let alive = app
            .client
            .get(app.url("/api/v1/health"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map(|response| response.status().as_u16());
        if alive.as_ref().ok() != Some(&200) {
            failures.push(format!(
                "case `{name}`: /api/v1/health then answered {alive:?}"
            ));
        }
    }
    count
}

// ---------- the cases ----------

/// A faceless test picture with some detail in it.
fn scene(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(faceless(width, height))
}

/// `bytes` cut to `length`.
fn cut(bytes: &[u8], length: usize) -> Vec<u8> {
    bytes[..length].to_vec()
}

/// Empty, tiny, truncated, mislabelled and bomb files.
fn broken_file_cases() -> Vec<Case> {
    let jpeg = encode_dynamic(&scene(320, 240), ImageFormat::Jpeg);
    let png = encode_dynamic(&scene(320, 240), ImageFormat::Png);
    let gif = encode_dynamic(&scene(160, 120), ImageFormat::Gif);
    let webp = encode_dynamic(&scene(160, 120), ImageFormat::WebP);
    let bmp = encode_dynamic(&scene(64, 48), ImageFormat::Bmp);
    let mut cases = vec![
        photo("empty file", Vec::new(), problem(400, "empty_image")),
        photo("one byte", vec![0xFF], NOT_AN_IMAGE),
        photo("one letter", b"a".to_vec(), NOT_AN_IMAGE),
        photo("JPEG signature only", vec![0xFF, 0xD8, 0xFF], UNDECODABLE),
        photo("PNG signature only", cut(&png, 8), UNDECODABLE),
        photo("GIF signature only", b"GIF89a".to_vec(), UNDECODABLE),
        photo("RIFF WEBP header only", cut(&webp, 12), UNDECODABLE),
        photo(
            "RIFF but a WAVE file",
            b"RIFF\x24\0\0\0WAVEfmt ".to_vec(),
            NOT_AN_IMAGE,
        ),
        photo(
            "a TIFF (not read)",
            b"II*\0\x08\0\0\0\0\0".to_vec(),
            NOT_AN_IMAGE,
        ),
        photo(
            "SVG text",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            NOT_AN_IMAGE,
        ),
        photo(
            "PNG signature then JPEG data",
            [&png[..8], &jpeg[2..]].concat(),
            UNDECODABLE,
        ),
        photo(
            "JPEG signature then PNG data",
            [&jpeg[..3], &png[..]].concat(),
            UNDECODABLE,
        ),
        photo("BMP cut in half", cut(&bmp, bmp.len() / 2), UNDECODABLE),
    ];
    // Truncated at several points: in the headers, in the data, just before the end.
    for (format, bytes, points) in [
        ("JPEG", &jpeg, vec![4, 100, jpeg.len() / 2, jpeg.len() - 2]),
        ("PNG", &png, vec![20, 33, png.len() / 2, png.len() - 13]),
        ("GIF", &gif, vec![13, 40, gif.len() / 2]),
        ("WebP", &webp, vec![20, 30, webp.len() / 2]),
    ] {
        for point in points {
            cases.push(photo(
                format!("{format} cut to {point} of {} bytes", bytes.len()),
                cut(bytes, point),
                UNDECODABLE,
            ));
        }
    }
    // Without its last two bytes (the block terminator and the trailer) a GIF still holds every
    // pixel: reading it is the correct answer.
    cases.push(photo(
        "GIF without its terminator and trailer",
        cut(&gif, gif.len() - 2),
        picture(160, 120),
    ));
    // The end-of-image bytes inside an EXIF thumbnail do not make a cut JPEG whole.
    let with_thumbnail = insert_segment(&jpeg, 0xE1, b"Exif\0\0thumbnail\xFF\xD8\xFF\xD9");
    cases.push(photo(
        "JPEG with an FF D9 in its EXIF block, cut in its scan data",
        cut(&with_thumbnail, with_thumbnail.len() * 2 / 3),
        UNDECODABLE,
    ));
    // The declared type does not matter; the bytes do.
    let labelled = |bytes: &[u8], file: &str, mime: &str| {
        image_form_with(
            Part::bytes(bytes.to_vec())
                .file_name(file.to_owned())
                .mime_str(mime)
                .unwrap(),
        )
    };
    cases.push(case(
        "a PNG declared as image/jpeg",
        Send::Form("/api/v1/analyze", labelled(&png, "photo.jpg", "image/jpeg")),
        picture(320, 240),
    ));
    cases.push(case(
        "text declared as image/png",
        Send::Form(
            "/api/v1/analyze",
            labelled(b"hello", "photo.png", "image/png"),
        ),
        NOT_AN_IMAGE,
    ));
    // Decompression bombs: headers that claim far more pixels than the data holds.
    let small_jpeg = encode_dynamic(&scene(16, 16), ImageFormat::Jpeg);
    cases.extend([
        photo(
            "PNG claiming 100000×100000",
            png_claiming(100_000, 100_000),
            TOO_MANY_PIXELS,
        ),
        photo(
            "PNG claiming 1×50000000",
            png_claiming(1, 50_000_000),
            TOO_MANY_PIXELS,
        ),
        photo("PNG claiming 0×0", png_claiming(0, 0), UNDECODABLE),
        photo(
            "JPEG claiming 65535×65535",
            jpeg_claiming(&small_jpeg, 65_535, 65_535),
            TOO_MANY_PIXELS,
        ),
        photo(
            "GIF claiming 65535×65535",
            gif_claiming(65_535, 65_535),
            TOO_MANY_PIXELS,
        ),
        // Refused before decoding, but as corrupt: the WebP decoder reports this header as 0×0.
        photo(
            "WebP claiming 16384×16384",
            webp_claiming(16_384, 16_384),
            UNDECODABLE,
        ),
    ]);
    cases
}

/// A form with this part as its `image` field.
fn image_form_with(part: Part) -> Form {
    Form::new().part("image", part)
}

/// Unusual but valid pictures: each is read, at its size, with no face.
fn unusual_picture_cases() -> Vec<Case> {
    let (w, h) = (96_u32, 64_u32);
    let rgb16 = DynamicImage::ImageRgb16(ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([(x * 650) as u16, (y * 1000) as u16, 40_000])
    }));
    let grey_alpha = DynamicImage::ImageLumaA8(GrayAlphaImage::from_fn(w, h, |x, y| {
        LumaA([(x * 2) as u8, (y * 4) as u8])
    }));
    let grey_alpha16 = DynamicImage::ImageLumaA16(ImageBuffer::from_fn(w, h, |x, _| {
        LumaA([(x * 600) as u16, 65_535])
    }));
    let transparent = DynamicImage::ImageRgba8(RgbaImage::from_pixel(w, h, Rgba([0, 0, 0, 0])));
    let grey_plane: Vec<u8> = (0..w * h).map(|i| ((i % w) * 2) as u8).collect();
    let plane = |value: u8| vec![value; (w * h) as usize];
    let (ww, hh) = (w as u16, h as u16);
    let mut cases = vec![
        photo(
            "16-bit RGB PNG",
            encode_dynamic(&rgb16, ImageFormat::Png),
            picture(96, 64),
        ),
        photo(
            "grey+alpha PNG",
            encode_dynamic(&grey_alpha, ImageFormat::Png),
            picture(96, 64),
        ),
        photo(
            "16-bit grey+alpha PNG",
            encode_dynamic(&grey_alpha16, ImageFormat::Png),
            picture(96, 64),
        ),
        photo(
            "fully transparent PNG",
            encode_dynamic(&transparent, ImageFormat::Png),
            picture(96, 64),
        ),
        photo("2-bit palette PNG", palette_png(w, h), picture(96, 64)),
        photo(
            "1×1 PNG",
            encode_dynamic(&scene(1, 1), ImageFormat::Png),
            picture(1, 1),
        ),
        photo("5000×1 PNG", huge_valid_png(5000, 1), picture(5000, 1)),
        photo(
            "BMP",
            encode_dynamic(&scene(64, 48), ImageFormat::Bmp),
            picture(64, 48),
        ),
        photo(
            "baseline grey JPEG (hand-written)",
            dc_only_jpeg(
                ww,
                hh,
                std::slice::from_ref(&grey_plane),
                JpegKind::Baseline,
            ),
            picture(96, 64),
        ),
        photo(
            "progressive grey JPEG",
            dc_only_jpeg(
                ww,
                hh,
                std::slice::from_ref(&grey_plane),
                JpegKind::Progressive,
            ),
            picture(96, 64),
        ),
        photo(
            "progressive YCbCr JPEG",
            dc_only_jpeg(
                ww,
                hh,
                &[grey_plane.clone(), plane(100), plane(160)],
                JpegKind::Progressive,
            ),
            picture(96, 64),
        ),
        photo(
            "CMYK JPEG (Adobe)",
            dc_only_jpeg(
                ww,
                hh,
                &[grey_plane.clone(), plane(30), plane(200), plane(10)],
                JpegKind::Baseline,
            ),
            picture(96, 64),
        ),
        photo(
            "progressive CMYK JPEG",
            dc_only_jpeg(
                ww,
                hh,
                &[plane(0), grey_plane, plane(250), plane(128)],
                JpegKind::Progressive,
            ),
            picture(96, 64),
        ),
        photo(
            "JPEG with bytes after its end",
            [
                encode_dynamic(&scene(64, 48), ImageFormat::Jpeg),
                vec![0; 1000],
            ]
            .concat(),
            picture(64, 48),
        ),
        photo(
            "JPEG with an unreadable EXIF block",
            insert_segment(
                &encode_dynamic(&scene(64, 48), ImageFormat::Jpeg),
                0xE1,
                b"Exif\0\0MM\0*\xFF\xFF\xFF\xFFjunk",
            ),
            picture(64, 48),
        ),
        photo(
            "animated GIF (first frame read)",
            animated_gif(),
            picture(64, 48),
        ),
        photo(
            "lossless WebP",
            encode_dynamic(&scene(64, 48), ImageFormat::WebP),
            picture(64, 48),
        ),
    ];
    // EXIF orientations: 5 to 8 turn the picture a quarter, so width and height swap.
    let jpeg = encode_dynamic(&scene(96, 64), ImageFormat::Jpeg);
    for orientation in 1..=8 {
        let (width, height) = if orientation >= 5 { (64, 96) } else { (96, 64) };
        cases.push(photo(
            format!("EXIF orientation {orientation}"),
            with_exif_orientation(&jpeg, orientation),
            picture(width, height),
        ));
    }
    cases.push(photo(
        "EXIF orientation 9 (no such)",
        with_exif_orientation(&jpeg, 9),
        picture(96, 64),
    ));
    cases
}

/// Three frames of 64×48.
fn animated_gif() -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame};
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        let frames = (0..3).map(|index| {
            Frame::from_parts(
                RgbaImage::from_pixel(64, 48, Rgba([index * 80, 40, 200, 255])),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            )
        });
        encoder.encode_frames(frames).unwrap();
    }
    bytes
}

/// Images too large: by their pixels, by their bytes, by the body.
fn size_cases() -> Vec<Case> {
    let big_jpeg_plane = vec![128_u8; 6400 * 6400];
    vec![
        photo(
            "valid 1-bit PNG of 8000×6000 (48 MP)",
            huge_valid_png(8000, 6000),
            TOO_MANY_PIXELS,
        ),
        photo(
            "valid JPEG of 6400×6400 (41 MP)",
            dc_only_jpeg(6400, 6400, &[big_jpeg_plane], JpegKind::Baseline),
            TOO_MANY_PIXELS,
        ),
        photo(
            "PNG header of 6300×6300 16-bit RGBA (317 MB decoded, 40 MP): over the decode budget",
            png_header_claiming(6300, 6300, 16, 6),
            TOO_MANY_PIXELS,
        ),
        photo(
            "PNG header of 6300×6300 8-bit RGB (119 MB decoded): within the budget, then corrupt",
            png_header_claiming(6300, 6300, 8, 2),
            UNDECODABLE,
        ),
        photo(
            "a 15 MiB + 1 byte image in a body under the limit",
            [png_claiming(64, 64), vec![0; 15 * 1024 * 1024 + 1]].concat()[..15 * 1024 * 1024 + 1]
                .to_vec(),
            problem(413, "too_large"),
        ),
        photo(
            "40 MB upload",
            vec![0xAB; 40 * 1024 * 1024],
            problem(413, "too_large"),
        ),
        json_body(
            "40 MB JSON body",
            [
                b"{\"mood\": \"sad\", \"x\": \"".as_slice(),
                &vec![b'a'; 40 * 1024 * 1024][..],
                b"\"}".as_slice(),
            ]
            .concat(),
            problem(413, "too_large"),
        ),
    ]
}

/// Broken multipart bodies, duplicate and unknown fields, non-UTF-8 and very long fields.
fn multipart_cases() -> Vec<Case> {
    let png = encode_dynamic(&scene(32, 24), ImageFormat::Png);
    let image_part = part(b"name=\"image\"; filename=\"a.png\"", &png);
    let long_name = "n".repeat(100_000);
    vec![
        multipart(
            "zero-length multipart body",
            "/api/v1/analyze",
            Vec::new(),
            BAD,
        ),
        case(
            "multipart without a boundary",
            Send::Raw(
                "/api/v1/analyze",
                Some("multipart/form-data"),
                [image_part.clone(), END.to_vec()].concat(),
            ),
            BAD,
        ),
        multipart(
            "a boundary that never comes",
            "/api/v1/analyze",
            b"just bytes".to_vec(),
            BAD,
        ),
        multipart(
            "a part cut before its data",
            "/api/v1/analyze",
            b"--XYZ\r\nContent-Disposition: form-data; name=\"image\"\r\n".to_vec(),
            BAD,
        ),
        multipart(
            "a part cut in its data",
            "/api/v1/analyze",
            image_part[..image_part.len() / 2].to_vec(),
            BAD,
        ),
        multipart(
            "no closing boundary",
            "/api/v1/analyze",
            image_part.clone(),
            BAD,
        ),
        multipart(
            "only the closing boundary",
            "/api/v1/analyze",
            END.to_vec(),
            BAD,
        ),
        multipart(
            "a part without Content-Disposition",
            "/api/v1/analyze",
            [
                b"--XYZ\r\nContent-Type: image/png\r\n\r\n".as_slice(),
                &png[..],
                b"\r\n".as_slice(),
                END,
            ]
            .concat(),
            BAD,
        ),
        // A long but well-formed part header: the photo is read.
        multipart(
            "a part header of 100 kB",
            "/api/v1/analyze",
            [
                b"--XYZ\r\nX-Long: ".as_slice(),
                &vec![b'a'; 100_000][..],
                b"\r\n".as_slice(),
                &image_part[7..],
                END,
            ]
            .concat(),
            picture(32, 24),
        ),
        multipart(
            "the image field twice",
            "/api/v1/analyze",
            [image_part.clone(), image_part.clone(), END.to_vec()].concat(),
            BAD,
        ),
        multipart(
            "an extra field on /analyze",
            "/api/v1/analyze",
            [
                image_part.clone(),
                part(b"name=\"mood\"", b"sad"),
                END.to_vec(),
            ]
            .concat(),
            BAD,
        ),
        multipart(
            "a non-UTF-8 file name",
            "/api/v1/analyze",
            [
                part(b"name=\"image\"; filename=\"\xFF\xFE.png\"", &png),
                END.to_vec(),
            ]
            .concat(),
            picture(32, 24),
        ),
        multipart(
            "a non-UTF-8 field name",
            "/api/v1/recommendations",
            [part(b"name=\"mo\xFFod\"", b"sad"), END.to_vec()].concat(),
            BAD,
        ),
        multipart(
            "a non-UTF-8 mood",
            "/api/v1/recommendations",
            [part(b"name=\"mood\"", b"s\xFF\xFEd"), END.to_vec()].concat(),
            BAD,
        ),
        multipart(
            "a non-UTF-8 title to exclude",
            "/api/v1/recommendations",
            [
                part(b"name=\"mood\"", b"sad"),
                part(b"name=\"exclude_titles\"", b"Up\xFF"),
                END.to_vec(),
            ]
            .concat(),
            Expect::Films(10),
        ),
        multipart(
            "a field name of 100000 characters",
            "/api/v1/recommendations",
            [
                part(format!("name=\"{long_name}\"").as_bytes(), b"x"),
                END.to_vec(),
            ]
            .concat(),
            BAD,
        ),
        rec_form(
            "mode twice",
            Form::new()
                .text("mood", "sad")
                .text("mode", "lift")
                .text("mode", "match"),
            BAD,
        ),
        rec_form(
            "mood twice",
            Form::new().text("mood", "sad").text("mood", "happy"),
            BAD,
        ),
        rec_form(
            "n twice",
            Form::new()
                .text("mood", "sad")
                .text("n", "3")
                .text("n", "4"),
            BAD,
        ),
        rec_form(
            "genres twice (a list field)",
            Form::new()
                .text("mood", "happy")
                .text("genres", "Comedy")
                .text("genres", "Drama")
                .text("n", "5"),
            Expect::Films(5),
        ),
        rec_form(
            "an image and a mood",
            image_form(png.clone()).text("mood", "sad"),
            BAD,
        ),
        rec_form(
            "a faceless photo for films",
            image_form(png),
            problem(422, "no_face"),
        ),
        rec_form(
            "form: unknown mood name",
            Form::new().text("mood", "glee"),
            BAD,
        ),
        rec_form(
            "form: n = 0",
            Form::new().text("mood", "sad").text("n", "0"),
            BAD,
        ),
        rec_form(
            "form: n = 10^9",
            Form::new().text("mood", "sad").text("n", "1000000000"),
            BAD,
        ),
        rec_form(
            "form: n = 10^30",
            Form::new()
                .text("mood", "sad")
                .text("n", "1000000000000000000000000000000"),
            BAD,
        ),
        rec_form(
            "form: min_year = -1",
            Form::new().text("mood", "sad").text("min_year", "-1"),
            BAD,
        ),
        rec_form(
            "form: mood of 1 MB (text fields over 64 KiB)",
            Form::new().text("mood", "s".repeat(1_000_000)),
            TOO_LARGE,
        ),
        rec_form(
            "form: text fields of 64 KiB + 1 byte in all",
            Form::new()
                .text("mood", "sad")
                .text("exclude_titles", "t".repeat(64 * 1024 - 2)),
            TOO_LARGE,
        ),
        rec_form(
            "form: n = 1e1 (a whole number, as JSON accepts it)",
            Form::new().text("mood", "sad").text("n", "1e1"),
            Expect::Films(10),
        ),
        rec_form(
            "form: 1001 titles to exclude",
            (0..1001).fold(Form::new().text("mood", "sad"), |form, i| {
                form.text("exclude_titles", format!("Film {i}"))
            }),
            BAD,
        ),
        rec_form(
            "form: unknown field",
            Form::new().text("mood", "sad").text("colour", "blue"),
            BAD,
        ),
    ]
}

/// Bodies of the wrong type for the route.
fn content_type_cases() -> Vec<Case> {
    let png = encode_dynamic(&scene(32, 24), ImageFormat::Png);
    let raw =
        |name: &str,
         path: &'static str,
         content_type: Option<&'static str>,
         body: &[u8],
         expect| { case(name, Send::Raw(path, content_type, body.to_vec()), expect) };
    vec![
        raw(
            "analyze: a raw PNG body",
            "/api/v1/analyze",
            Some("image/png"),
            &png,
            WRONG_BODY_TYPE,
        ),
        raw(
            "analyze: JSON",
            "/api/v1/analyze",
            Some("application/json"),
            b"{}",
            WRONG_BODY_TYPE,
        ),
        raw(
            "analyze: no content type",
            "/api/v1/analyze",
            None,
            &png,
            WRONG_BODY_TYPE,
        ),
        raw(
            "analyze: url-encoded form",
            "/api/v1/analyze",
            Some("application/x-www-form-urlencoded"),
            b"image=x",
            WRONG_BODY_TYPE,
        ),
        raw(
            "recommendations: text",
            "/api/v1/recommendations",
            Some("text/plain"),
            b"sad",
            WRONG_BODY_TYPE,
        ),
        raw(
            "recommendations: no content type",
            "/api/v1/recommendations",
            None,
            br#"{"mood":"sad"}"#,
            WRONG_BODY_TYPE,
        ),
        raw(
            "recommendations: url-encoded form",
            "/api/v1/recommendations",
            Some("application/x-www-form-urlencoded"),
            b"mood=sad",
            WRONG_BODY_TYPE,
        ),
        raw(
            "recommendations: multipart/mixed",
            "/api/v1/recommendations",
            Some("multipart/mixed; boundary=XYZ"),
            END,
            WRONG_BODY_TYPE,
        ),
        raw(
            "recommendations: a form sent as JSON",
            "/api/v1/recommendations",
            Some("application/json"),
            b"mood=sad",
            BAD,
        ),
        raw(
            "recommendations: JSON with a charset",
            "/api/v1/recommendations",
            Some("application/json; charset=utf-8"),
            br#"{"mood":"sad","n":3}"#,
            Expect::Films(3),
        ),
        raw(
            "recommendations: a garbage content type",
            "/api/v1/recommendations",
            Some("foo/bar"),
            b"{}",
            WRONG_BODY_TYPE,
        ),
    ]
}

/// JSON bodies: malformed, wrong types, unknown names, out-of-range values, long strings.
fn json_cases() -> Vec<Case> {
    let long_title = "t".repeat(1_000_000);
    let many_titles: Vec<String> = (0..20_000).map(|i| format!("Film {i}")).collect();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let shallower = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        json_body("empty JSON body", "", BAD),
        json_body("JSON null", "null", BAD),
        json_body("JSON array", "[1, 2]", BAD),
        json_body("JSON nested 100000 deep (over 64 KiB)", deep, TOO_LARGE),
        json_body("JSON nested 10000 deep", shallower, BAD),
        json_body(
            "JSON with a byte-order mark",
            "\u{feff}{\"mood\": \"sad\"}",
            BAD,
        ),
        json_body(
            "JSON with invalid UTF-8",
            b"{\"mood\": \"s\xFF\"}".to_vec(),
            BAD,
        ),
        json_body("the mood twice", r#"{"mood": "sad", "mood": "happy"}"#, BAD),
        json_body("unknown mood name", r#"{"mood": "joy"}"#, BAD),
        json_body("unknown emotion in weights", r#"{"mood": {"joy": 1}}"#, BAD),
        json_body(
            "weights all zero",
            r#"{"mood": {"sad": 0, "fear": 0}}"#,
            BAD,
        ),
        json_body(
            "weights negative",
            r#"{"mood": {"sad": -0.5, "happy": 1}}"#,
            BAD,
        ),
        json_body(
            "weights whose sum overflows (half sad, half happy)",
            r#"{"mood": {"sad": 1e308, "happy": 1e308}}"#,
            Expect::Films(10),
        ),
        json_body(
            "an emotion twice inside the mood",
            r#"{"mood": {"sad": 1, "sad": 0}}"#,
            BAD,
        ),
        json_body("weights as strings", r#"{"mood": {"sad": "a lot"}}"#, BAD),
        json_body(
            "mood of 1 MB (a JSON body over 64 KiB)",
            format!(r#"{{"mood": "{}"}}"#, "s".repeat(1_000_000)),
            TOO_LARGE,
        ),
        json_body("unknown mode", r#"{"mood": "sad", "mode": "cheer"}"#, BAD),
        json_body("unknown field", r#"{"mood": "sad", "colour": "blue"}"#, BAD),
        json_body("n = 0", r#"{"mood": "sad", "n": 0}"#, BAD),
        json_body("n = 10^9", r#"{"mood": "sad", "n": 1000000000}"#, BAD),
        json_body("n = 10^30", r#"{"mood": "sad", "n": 1e30}"#, BAD),
        json_body("n = -1", r#"{"mood": "sad", "n": -1}"#, BAD),
        json_body("n = 2.5", r#"{"mood": "sad", "n": 2.5}"#, BAD),
        json_body(
            "n = 100 (the most)",
            r#"{"mood": "sad", "n": 100}"#,
            Expect::Films(100),
        ),
        json_body(
            "seed = 2^64 - 1",
            r#"{"mood": "sad", "n": 3, "seed": 18446744073709551615}"#,
            Expect::Films(3),
        ),
        json_body(
            "min_rating = 11",
            r#"{"mood": "sad", "min_rating": 11}"#,
            BAD,
        ),
        json_body(
            "min_rating = -1",
            r#"{"mood": "sad", "min_rating": -1}"#,
            BAD,
        ),
        json_body(
            "min_year = 70000",
            r#"{"mood": "sad", "min_year": 70000}"#,
            BAD,
        ),
        json_body(
            "min_year as text",
            r#"{"mood": "sad", "min_year": "1990"}"#,
            BAD,
        ),
        json_body(
            "min_year = 65535",
            r#"{"mood": "sad", "min_year": 65535}"#,
            NOTHING_LEFT,
        ),
        json_body(
            "max_year = 0",
            r#"{"mood": "sad", "max_year": 0}"#,
            NOTHING_LEFT,
        ),
        json_body(
            "min_year after max_year",
            r#"{"mood": "sad", "min_year": 2010, "max_year": 1990}"#,
            NOTHING_LEFT,
        ),
        json_body(
            "max_runtime = 0",
            r#"{"mood": "sad", "max_runtime": 0}"#,
            NOTHING_LEFT,
        ),
        json_body(
            "unknown genre",
            r#"{"mood": "sad", "genres": ["Jazz"]}"#,
            BAD,
        ),
        json_body("genres null", r#"{"mood": "sad", "genres": null}"#, BAD),
        json_body(
            "every genre excluded",
            json!({"mood": "sad", "exclude_genres": catalog::Genre::ALL.map(catalog::Genre::name)})
                .to_string(),
            NOTHING_LEFT,
        ),
        json_body(
            "a certificate of 100 kB",
            json!({"mood": "sad", "certificates": ["X".repeat(100_000)]}).to_string(),
            TOO_LARGE,
        ),
        json_body(
            "a certificate of 201 characters",
            json!({"mood": "sad", "certificates": ["X".repeat(201)]}).to_string(),
            BAD,
        ),
        json_body(
            "a certificate of 200 characters",
            json!({"mood": "sad", "certificates": ["X".repeat(200)]}).to_string(),
            NOTHING_LEFT,
        ),
        json_body(
            "51 certificates",
            json!({"mood": "sad", "certificates": (0..51).map(|i| format!("C{i}")).collect::<Vec<_>>()})
                .to_string(),
            BAD,
        ),
        json_body(
            "a title of 1 MB to exclude",
            json!({"mood": "sad", "n": 4, "exclude_titles": [long_title]}).to_string(),
            TOO_LARGE,
        ),
        json_body(
            "20000 titles to exclude (over 64 KiB)",
            json!({"mood": "sad", "n": 4, "exclude_titles": many_titles}).to_string(),
            TOO_LARGE,
        ),
        json_body(
            "1000 titles to exclude (the most)",
            json!({"mood": "sad", "n": 4, "exclude_titles": &many_titles[..1000]}).to_string(),
            Expect::Films(4),
        ),
        json_body(
            "1001 titles to exclude",
            json!({"mood": "sad", "n": 4, "exclude_titles": &many_titles[..1001]}).to_string(),
            BAD,
        ),
        json_body(
            "one genre 50 times (repeats dropped)",
            json!({"mood": "sad", "n": 4, "genres": vec!["Comedy"; 50]}).to_string(),
            Expect::Films(4),
        ),
    ]
}

/// Queries of `/movies`.
fn movie_query_cases() -> Vec<Case> {
    let get = |name: &str, query: String, expect| {
        case(name, Send::Get(format!("/api/v1/movies?{query}")), expect)
    };
    vec![
        get(
            "movies: non-UTF-8 query text",
            "q=%FF%FE".into(),
            Expect::Movies(0),
        ),
        get(
            "movies: a query of 8 kB",
            format!("q={}", "x".repeat(8_000)),
            Expect::Movies(0),
        ),
        get("movies: limit = 10^9", "limit=1000000000".into(), BAD),
        get("movies: limit = -1", "limit=-1".into(), BAD),
        get(
            "movies: offset past the end",
            "offset=18446744073709551615".into(),
            Expect::Movies(catalog::Catalog::builtin().len() as u64),
        ),
        get(
            "movies: offset beyond 64 bits",
            "offset=99999999999999999999999".into(),
            BAD,
        ),
        get("movies: year = 70000", "year=70000".into(), BAD),
        get("movies: genre NUL", "genre=%00".into(), BAD),
        get("movies: limit twice", "limit=1&limit=2".into(), BAD),
        get("movies: unknown parameter", "colour=blue".into(), BAD),
    ]
}

#[tokio::test]
async fn hostile_inputs_get_a_4xx_or_a_correct_answer_and_the_server_survives() {
    let app = spawn_app().await;
    let groups = [
        broken_file_cases(),
        unusual_picture_cases(),
        size_cases(),
        multipart_cases(),
        content_type_cases(),
        json_cases(),
        movie_query_cases(),
    ];
    let (mut total, mut failures) = (0, Vec::new());
    for cases in groups {
        total += run(&app, cases, &mut failures).await;
    }
    assert!(
        failures.is_empty(),
        "{} of {total} hostile cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} hostile cases passed");
    // The server runs in this process: its peak memory, with the client's (the 40 MB bodies
    // this test builds) on top, is an upper bound of the server's through the suite.
    if let Some(peak) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
    {
        eprintln!("peak memory of the test process (server and client): {peak}");
    }
    assert!(total >= 40, "only {total} cases");
}

/// Overlap of two boxes `{x, y, w, h}` as intersection over union.
fn overlap(a: &Value, b: &Value) -> f64 {
    let edges = |b: &Value| {
        let get = |key: &str| b[key].as_f64().unwrap();
        (get("x"), get("y"), get("x") + get("w"), get("y") + get("h"))
    };
    let (a, b) = (edges(a), edges(b));
    let width = (a.2.min(b.2) - a.0.max(b.0)).max(0.0);
    let height = (a.3.min(b.3) - a.1.max(b.1)).max(0.0);
    let area = |e: (f64, f64, f64, f64)| (e.2 - e.0) * (e.3 - e.1);
    let common = width * height;
    common / (area(a) + area(b) - common)
}

#[tokio::test]
async fn a_face_photo_turned_and_tagged_with_each_exif_orientation_is_read_upright() {
    let Some(photo) = face_photo() else {
        return; // (face_photo said why.)
    };
    let app = spawn_app().await;
    // Not square, so that the quarter turns show in the size.
    let upright = image::load_from_memory(&photo)
        .unwrap()
        .crop_imm(0, 0, 512, 400);
    let reference: Value = app
        .post_form(
            "/api/v1/analyze",
            image_form(encode_dynamic(&upright, ImageFormat::Png)),
        )
        .await
        .json()
        .await
        .unwrap();
    let faces = reference["faces"].as_array().unwrap();
    assert_eq!(
        faces.len(),
        1,
        "the upright photo has one face: {reference}"
    );
    let face = &faces[0]["box"];

    let mut failures = Vec::new();
    for orientation in 1..=8_u8 {
        let stored = stored_for(&upright, orientation);
        let jpeg = with_exif_orientation(
            &encode_dynamic(&stored, ImageFormat::Jpeg),
            u16::from(orientation),
        );
        let analysis: Value = app
            .post_form("/api/v1/analyze", image_form(jpeg))
            .await
            .json()
            .await
            .unwrap();
        let found = analysis["faces"].as_array().cloned().unwrap_or_default();
        let matched = found
            .iter()
            .map(|f| overlap(&f["box"], face))
            .fold(0.0, f64::max);
        if analysis["width"] != 512 || analysis["height"] != 400 || matched < 0.6 {
            failures.push(format!(
                "orientation {orientation}: {}×{}, {} face(s), best overlap with the upright face {matched:.2}",
                analysis["width"],
                analysis["height"],
                found.len()
            ));
        }
        app.assert_alive().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
