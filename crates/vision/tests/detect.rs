//! Face detection through the public API on real photographs: one face in the astronaut
//! portrait committed in `testdata/` (also cropped tight, shrunk, enlarged and pasted twice into
//! a group picture), run in every clone; none in the `no_face` photos of the development data (a
//! cat included, and a headlight that only ONet's veto keeps out), which skips with a note when
//! that data is absent.

mod common;
#[path = "common/textured.rs"]
mod textured;

use std::path::Path;

use vision::image::imageops::FilterType;
use vision::image::{DynamicImage, GenericImage, GenericImageView};
use vision::{FaceBox, FaceDetector};

fn load(path: &Path) -> DynamicImage {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    vision::decode(&bytes).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `picture` pasted at `(x, y)` on a mid-grey canvas of `(width, height)`.
fn on_grey(
    picture: &DynamicImage,
    (width, height): (u32, u32),
    (x, y): (u32, u32),
) -> DynamicImage {
    let mut canvas = DynamicImage::ImageRgb8(vision::image::RgbImage::from_pixel(
        width,
        height,
        vision::image::Rgb([128, 128, 128]),
    ));
    canvas
        .copy_from(picture, x, y)
        .expect("the picture fits on the canvas");
    canvas
}

fn detector() -> FaceDetector {
    FaceDetector::new().expect("the embedded model parses")
}

/// The astronaut's face as the detector sees it at full size (measured once, by eye checked).
const ASTRONAUT_CENTRE: (f32, f32) = (224.0, 115.0);
const ASTRONAUT_SIDE: f32 = 96.0;

fn assert_near(face: &FaceBox, centre: (f32, f32), side: f32, what: &str) {
    let (x, y) = face.centre();
    let tolerance = side * 0.2;
    assert!(
        (x - centre.0).abs() < tolerance && (y - centre.1).abs() < tolerance,
        "{what}: centre ({x}, {y}) is not near {centre:?}"
    );
    let found = face.width as f32;
    assert!(
        (found / side - 1.0).abs() < 0.25,
        "{what}: side {found} is not near {side}"
    );
}

#[test]
fn astronaut_has_one_face() {
    let photo = common::astronaut();
    let faces = detector().detect(&photo);
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert_near(&faces[0], ASTRONAUT_CENTRE, ASTRONAUT_SIDE, "astronaut");
    assert!(faces[0].score >= 0.5);
}

#[test]
fn astronaut_is_found_at_every_scale_and_when_cropped_tight() {
    let photo = common::astronaut();
    let detector = detector();

    // Shrunk to 128×128 the face is ~24 px.
    let small = photo.resize_exact(128, 128, FilterType::Triangle);
    let faces = detector.detect(&small);
    assert_eq!(faces.len(), 1, "small: {faces:?}");
    let quarter = (ASTRONAUT_CENTRE.0 / 4.0, ASTRONAUT_CENTRE.1 / 4.0);
    assert_near(&faces[0], quarter, ASTRONAUT_SIDE / 4.0, "small");

    // Enlarged to 2048×2048 (a phone photo's size): searched on a shrunk copy, boxes mapped back.
    let large = photo.resize_exact(2048, 2048, FilterType::Triangle);
    let faces = detector.detect(&large);
    assert_eq!(faces.len(), 1, "large: {faces:?}");
    let times4 = (ASTRONAUT_CENTRE.0 * 4.0, ASTRONAUT_CENTRE.1 * 4.0);
    assert_near(&faces[0], times4, ASTRONAUT_SIDE * 4.0, "large");

    // Cropped so that the face fills the frame: found in the view with a border.
    let side = 120u32;
    let left = (ASTRONAUT_CENTRE.0 - side as f32 / 2.0) as u32;
    let top = (ASTRONAUT_CENTRE.1 - side as f32 / 2.0) as u32;
    let tight = photo.crop_imm(left, top, side, side);
    let faces = detector.detect(&tight);
    assert_eq!(faces.len(), 1, "tight: {faces:?}");
    let centre = (
        ASTRONAUT_CENTRE.0 - left as f32,
        ASTRONAUT_CENTRE.1 - top as f32,
    );
    assert_near(&faces[0], centre, ASTRONAUT_SIDE, "tight");
}

#[test]
fn a_small_face_the_large_view_is_unsure_of_is_confirmed_by_the_cascade() {
    // The portrait shrunk to 152 px on a grey 640×480 canvas: its ~29 px face scores about 0.55
    // in the large view, below the view's own threshold (0.74); the cascade's close-up confirms
    // it. Without candidates (their threshold raised to the view's) it is missed.
    let portrait = common::astronaut().resize_exact(152, 152, FilterType::Triangle);
    let canvas = on_grey(&portrait, (640, 480), (300, 200));
    let scale = 152.0 / 512.0;
    let centre = (
        300.0 + ASTRONAUT_CENTRE.0 * scale,
        200.0 + ASTRONAUT_CENTRE.1 * scale,
    );

    let faces = detector().detect(&canvas);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (x, y) = faces[0].centre();
    let half = ASTRONAUT_SIDE * scale / 2.0;
    assert!(
        (x - centre.0).abs() < half && (y - centre.1).abs() < half,
        "centre ({x}, {y}) is not near {centre:?}"
    );
    assert!(
        faces[0].score < 0.74,
        "found without the cascade: {faces:?}"
    );

    // The second look, reading the photos in which BlazeFace found nothing, would find it too.
    let unconfirmed = FaceDetector::with_settings(vision::DetectorSettings {
        candidate_threshold: 0.74,
        second_look_threshold: None,
        ..vision::DetectorSettings::default()
    })
    .expect("valid settings");
    assert!(unconfirmed.detect(&canvas).is_empty());
}

#[test]
fn a_face_lying_on_its_side_is_found_by_the_second_look() {
    // The face cut from the portrait, 60 px and turned a quarter turn anticlockwise, on a grey
    // 400×300 canvas: no BlazeFace view finds it; CenterFace, reading the photo because they
    // found nothing, does (score about 0.57). With the second look off (and the turned search,
    // which would find it in the photo turned a quarter), nothing is found.
    let face = common::astronaut()
        .crop_imm(130, 20, 200, 200)
        .resize_exact(60, 60, FilterType::Triangle)
        .rotate270();
    let canvas = on_grey(&face, (400, 300), (170, 120));

    let blaze_only = FaceDetector::with_settings(vision::DetectorSettings {
        second_look_threshold: None,
        turned_search_threshold: None,
        ..vision::DetectorSettings::default()
    })
    .expect("valid settings");
    assert!(blaze_only.detect(&canvas).is_empty());

    let faces = detector().detect(&canvas);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (x, y) = faces[0].centre();
    assert!(
        (170.0..230.0).contains(&x) && (120.0..180.0).contains(&y),
        "centre ({x}, {y}) is not on the pasted face"
    );
    assert!((15..=60).contains(&faces[0].width), "{faces:?}");
    assert!(faces[0].score >= 0.5, "{faces:?}");
    assert_eq!(faces, detector().detect_second_look(&canvas));
    // Eyes, nose and mouth but no ears; the eye line stands upright, the face turned a
    // quarter anticlockwise (about -90°).
    let landmarks = faces[0].landmarks.expect("the second look gives keypoints");
    assert_eq!(landmarks.points().len(), 4, "{landmarks:?}");
    let roll = landmarks.eye_roll().to_degrees();
    assert!((-110.0..-70.0).contains(&roll), "{roll}° {landmarks:?}");
}

#[test]
fn two_faces_come_in_reading_order() {
    let photo = common::astronaut();
    let face = photo.crop_imm(150, 40, 150, 170);
    let mut canvas = DynamicImage::new_rgb8(600, 300);
    canvas.copy_from(&face, 40, 20).expect("fits");
    canvas.copy_from(&face, 380, 100).expect("fits");
    let faces = detector().detect(&canvas);
    assert_eq!(faces.len(), 2, "{faces:?}");
    assert!(faces[0].x < 200 && faces[1].x > 380, "{faces:?}");
}

#[test]
fn no_face_photos_give_no_boxes() {
    let Some(data) = common::shared_data("no_face_photos_give_no_boxes") else {
        return;
    };
    let dir = data.join("photos/no_face/images");
    let detector = detector();
    let mut checked = 0;
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the no_face folder is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let faces = detector.detect(&load(&path));
        assert!(faces.is_empty(), "{}: {faces:?}", path.display());
        checked += 1;
    }
    eprintln!("no_face: 0 boxes in {checked} photos");
    assert!(checked >= 18);
}

#[test]
fn a_headlight_the_large_view_is_sure_of_is_vetoed_by_onet() {
    let Some(data) = common::shared_data("a_headlight_the_large_view_is_sure_of_is_vetoed_by_onet")
    else {
        return;
    };
    // The motorcycle photo as a 640×480 round-trip background: the large view is sure (about
    // 0.81) of a face on the headlight, which ONet, reading it turned level, gives less than
    // the veto's 0.2; no other step finds a face there either.
    let photo = load(&data.join("photos/no_face/images/motorcycle_left.png")).resize_to_fill(
        640,
        480,
        FilterType::Triangle,
    );
    let unvetoed = FaceDetector::with_settings(vision::DetectorSettings {
        onet_veto: None,
        ..vision::DetectorSettings::default()
    })
    .expect("valid settings")
    .detect(&photo);
    assert_eq!(unvetoed.len(), 1, "{unvetoed:?}");
    assert!(unvetoed[0].score >= 0.74, "{unvetoed:?}");
    let faces = detector().detect(&photo);
    assert!(faces.is_empty(), "{faces:?}");
}

#[test]
fn detection_is_deterministic_and_shareable_across_threads() {
    let photo = common::astronaut();
    let detector = detector();
    let first = detector.detect(&photo);
    let results: Vec<Vec<FaceBox>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| detector.detect(&photo)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("no panic"))
            .collect()
    });
    for result in results {
        assert_eq!(result, first);
    }
    assert_eq!(photo.dimensions(), (512, 512));
}

#[test]
fn a_photo_gives_the_same_faces_on_one_thread_and_on_several() {
    // The detector splits its work across the rayon pool it runs in: the large view beside the
    // other views (called off when they find a face that fills the frame), the close-ups of
    // uncertain faces side by side, the networks' larger layers in bands of rows. Whatever
    // the pool, a photo must give the same faces, to the bit: a selfie (the large view called
    // off), the bench's webcam frame (a 57 px face on a texture: the large view, ONet and the
    // cascade's close-ups), a small face on grey, two faces, and a texture without a face
    // (CenterFace's second look and the turned search).
    let portrait = common::astronaut();
    let small = portrait.resize_exact(152, 152, FilterType::Triangle);
    let webcam = textured::textured_photo_jpeg(Some(&portrait.to_rgb8()), 640, 480, 300);
    let empty = textured::textured_photo_jpeg(None, 320, 240, 0);
    let face = portrait.crop_imm(150, 40, 150, 170);
    let mut two = DynamicImage::new_rgb8(600, 300);
    two.copy_from(&face, 40, 20).expect("fits");
    two.copy_from(&face, 380, 100).expect("fits");
    let photos = [
        ("selfie", portrait.clone()),
        ("webcam frame", vision::decode(&webcam).expect("decodes")),
        ("small face", on_grey(&small, (640, 480), (300, 200))),
        ("two faces", two),
        ("no face", vision::decode(&empty).expect("decodes")),
    ];
    let detector = detector();
    let on = |threads: usize, photo: &DynamicImage| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool")
            .install(|| detector.detect(photo))
    };
    for (name, photo) in &photos {
        let alone = on(1, photo);
        if *name != "no face" {
            assert!(!alone.is_empty(), "{name}: no face found");
        }
        for threads in [2, 4, 4] {
            assert_eq!(on(threads, photo), alone, "{name} on {threads} threads");
        }
    }
}

#[test]
fn landmarks_lie_where_a_face_has_them() {
    let photo = common::astronaut();
    let faces = detector().detect(&photo);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let face = faces[0];
    let landmarks = face.landmarks.expect("BlazeFace gives keypoints");
    let inside = |(x, y): (f32, f32)| {
        x >= face.x as f32 - 0.2 * face.width as f32
            && x <= face.x as f32 + 1.2 * face.width as f32
            && y >= face.y as f32 - 0.2 * face.height as f32
            && y <= face.y as f32 + 1.2 * face.height as f32
    };
    let points = landmarks.points();
    assert_eq!(points.len(), 6, "{landmarks:?}");
    assert!(
        points.iter().all(|&(_, point)| inside(point)),
        "{landmarks:?}"
    );
    let [right_eye, left_eye, nose, mouth, right_ear, left_ear] =
        std::array::from_fn(|index| points[index].1);
    // The person's right eye and ear are on the photo's left in this frontal portrait.
    assert!(
        right_eye.0 < left_eye.0 && right_ear.0 < left_ear.0,
        "{landmarks:?}"
    );
    assert!(
        right_eye.1.max(left_eye.1) < nose.1 && nose.1 < mouth.1,
        "{landmarks:?}"
    );
    // Her head is nearly upright.
    assert!(landmarks.eye_roll().abs() < 0.2, "{}", landmarks.eye_roll());
}

#[test]
fn a_face_on_its_side_is_read_again_turned_upright() {
    // The face cut from the portrait, 200 px and turned a quarter clockwise, in the corner of
    // a grey 480×360 canvas. The BlazeFace views find it unsure of which way is up: a box on
    // the face with its eye line at about 50°, and a larger box around it read as upright
    // (0.73). The upright check reads the larger box's close-up turned the four ways, finds
    // the face turned a quarter, and what is left is one face whose eye line runs down the
    // photo (about 90°), as the face lies.
    let face = common::astronaut()
        .crop_imm(100, 0, 300, 300)
        .resize_exact(200, 200, FilterType::Triangle)
        .rotate90();
    let canvas = on_grey(&face, (480, 360), (10, 10));

    let unchecked = FaceDetector::with_settings(vision::DetectorSettings {
        upright_check_below: 0.0,
        ..vision::DetectorSettings::default()
    })
    .expect("valid settings")
    .detect(&canvas);
    assert_eq!(unchecked.len(), 2, "{unchecked:?}");

    let faces = detector().detect(&canvas);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (x, y) = faces[0].centre();
    assert!(
        (60.0..160.0).contains(&x) && (60.0..160.0).contains(&y),
        "centre ({x}, {y}) is not on the face"
    );
    let roll = faces[0]
        .landmarks
        .expect("BlazeFace gives keypoints")
        .eye_roll()
        .to_degrees();
    assert!((75.0..105.0).contains(&roll), "{roll}° {faces:?}");
}

#[test]
fn an_upside_down_face_is_found_by_the_turned_search() {
    // The face cut from the portrait, 120 px and turned half round, in the corner of a grey
    // 480×360 canvas. Neither the BlazeFace views nor CenterFace's second look find a face
    // upside down; the turned search finds it in the photo turned half round, the cascade
    // confirms it there, and it comes back with its eye line upside down (about 180°), as the
    // face lies, so that the crop turns it upright.
    let face = common::astronaut()
        .crop_imm(100, 0, 300, 300)
        .resize_exact(120, 120, FilterType::Triangle)
        .rotate180();
    let canvas = on_grey(&face, (480, 360), (10, 10));

    let unturned = FaceDetector::with_settings(vision::DetectorSettings {
        turned_search_threshold: None,
        ..vision::DetectorSettings::default()
    })
    .expect("valid settings")
    .detect(&canvas);
    assert!(unturned.is_empty(), "{unturned:?}");

    let faces = detector().detect(&canvas);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (x, y) = faces[0].centre();
    assert!(
        (40.0..110.0).contains(&x) && (40.0..110.0).contains(&y),
        "centre ({x}, {y}) is not on the face"
    );
    let roll = faces[0]
        .landmarks
        .expect("BlazeFace gives keypoints")
        .eye_roll()
        .to_degrees();
    assert!(roll.abs() > 160.0, "{roll}° {faces:?}");
}
