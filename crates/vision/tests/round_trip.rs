//! The round trip: FER-2013 PublicTest faces, enlarged to 60–300 px and pasted at random places
//! on 640×480 backgrounds (uniform grey, noise, a `no_face` photo), saved as JPEG with a random
//! EXIF orientation, then decoded, searched and cropped through the public API.
//!
//! Prints the detector's recall, the boxes found away from the face, and how close the crops come
//! to the original 48×48 pictures. Skips with a note when the development data is absent.
//! `VISION_ROUND_TRIP_FACES` sets how many faces are used (default 300, every 12th face).

mod common;

use vision::FaceDetector;

/// The share of pasted faces the detector must keep finding. The project aims at 99%; BlazeFace
/// with its large view and the cascade's close-ups finds 96.3% of this set (289/300; the large
/// view alone 93.7%, the SeetaFace cascade alone 89.3%), with CenterFace's second look on the
/// scenes where BlazeFace finds nothing 97.3% (292/300), with the turned search after that (a
/// face on its side) 97.7% (293/300), and with MTCNN's ONet beside the cascade (confirming the
/// faces it misses, vetoing the large view's stray boxes) 99.3% (298/300). The misses left are a
/// face tilted about 60° and half hidden, and a FER picture whose face is much smaller than the
/// picture, which the hit rule cannot count (`docs/vision.md`). This floor is the project's
/// 99%, one face below the figure (matrix products summed in another order on another
/// processor may tip a borderline face).
const RECALL_FLOOR: f64 = 0.99;

#[test]
fn round_trip_recall() -> anyhow::Result<()> {
    let Some(data) = common::shared_data("round_trip_recall") else {
        return Ok(());
    };
    let count: usize = std::env::var("VISION_ROUND_TRIP_FACES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(300);
    let all = common::read_fer(
        &data.join("fer2013/train_publictest.csv.gz"),
        "PublicTest",
        usize::MAX,
    )?;
    let stride = (all.len() / count.max(1)).max(1);
    let faces: Vec<_> = all.iter().step_by(stride).take(count).collect();
    let photos = common::no_face_photos(&data)?;
    let scenes = common::round_trip_scenes(&faces, &photos, 2013);

    let detector = FaceDetector::new()?;
    let (mut hits, mut stray_boxes) = (0usize, 0usize);
    let mut crop_errors = Vec::new();
    for (index, (scene, face)) in scenes.iter().zip(&faces).enumerate() {
        let decoded = vision::decode(&scene.jpeg)?;
        assert_eq!((decoded.width(), decoded.height()), (640, 480));
        let boxes = detector.detect(&decoded);
        let pasted = scene.pasted;
        let hit = boxes.iter().find(|found| pasted.is_hit(found));
        for stray in boxes.iter().filter(|found| !pasted.is_hit(found)) {
            stray_boxes += 1;
            eprintln!(
                "scene {index} (background {}): box {stray:?} away from the face pasted at \
                 ({}, {}) side {}",
                scene.background, pasted.x, pasted.y, pasted.side
            );
        }
        if let Some(found) = hit {
            hits += 1;
            let crop = vision::crop_for_model(&decoded, found);
            crop_errors.push(common::mean_abs_diff(&crop, &face.image));
        }
    }
    let recall = hits as f64 / faces.len() as f64;
    eprintln!(
        "round trip: {hits}/{} faces found (recall {:.1}%), {stray_boxes} boxes away from the \
         face; crop vs original mean abs grey difference: median {:.1}",
        faces.len(),
        100.0 * recall,
        common::median(&mut crop_errors)
    );
    assert!(
        recall >= RECALL_FLOOR,
        "recall {recall:.3} fell below {RECALL_FLOOR}"
    );
    Ok(())
}
