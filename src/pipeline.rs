//! The photo pipeline: image bytes → faces → expressions → one mood → films. The one place where
//! `vision` (decode, detect, crop) meets the expression model, and where a photo's mood becomes
//! a request for films ([`FilmChoice`]); the commands and the web server call it, and its
//! response types are the JSON of `analyze` and `POST /api/v1/analyze`.

use std::path::Path;
use std::sync::Arc;

use expression::{ExpressionModel, FaceCrop};
use mood::{Emotion, EmotionDistribution};
use recommend::{Filters, Mode, MoodSummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vision::image::DynamicImage;
use vision::{DecodeError, FaceBox, FaceDetector};

/// A face whose most probable emotion is below this probability is reported as uncertain: the
/// reading is shown, not hidden, but flagged.
///
/// Calibrated on FER-2013 PublicTest with the shipped model and flip TTA
/// (`cargo run --release --example uncertain_threshold`, figures in
/// `docs/vision.md`): the largest threshold, in steps of 0.05, that flags at most a quarter of
/// the faces. The flagged faces are then read wrong about two times in three, the others right
/// more often than the average face. A new model needs the command run again.
pub const UNCERTAIN_BELOW: f64 = 0.45;

/// Why a photo could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The bytes are not a usable image (format, size, corruption).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The expression model could not be loaded.
    #[error(transparent)]
    LoadModel(expression::ExpressionError),
    /// The face detector could not be built.
    #[error("cannot build the face detector: {0}")]
    Detector(#[from] vision::DetectorError),
    /// The expression model failed on the crops.
    #[error("the expression model failed: {0}")]
    Model(#[from] expression::ExpressionError),
    /// The model's output is not a probability distribution.
    #[error("the expression model's output is not a distribution: {0}")]
    Mood(#[from] mood::MoodError),
    /// Films were asked for a photo in which no face was found: it has no mood.
    #[error("no face found in the photo")]
    NoFace,
}

/// Loads the expression model: from `--model DIR` when given, else the one built into the
/// binary.
pub fn load_model(dir: Option<&Path>) -> Result<ExpressionModel, expression::ExpressionError> {
    match dir {
        Some(dir) => ExpressionModel::load(dir),
        None => ExpressionModel::embedded(),
    }
}

/// Reads faces and their expressions in photos. Build it once and share it: it holds the face
/// detector and the expression model, both read-only.
#[derive(Debug, Clone)]
pub struct PhotoPipeline {
    detector: FaceDetector,
    model: Arc<ExpressionModel>,
    tta: bool,
}

/// One face found in a photo and how it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceReading {
    /// Where the face is, clipped to the photo.
    pub face: FaceBox,
    /// The seven emotions' probabilities.
    pub probabilities: EmotionDistribution,
}

impl FaceReading {
    /// The most probable emotion.
    pub fn emotion(&self) -> Emotion {
        self.probabilities.emotion()
    }

    /// The probability of the most probable emotion.
    pub fn confidence(&self) -> f64 {
        self.probabilities.confidence()
    }

    /// Whether the reading is too unsure to trust (see [`UNCERTAIN_BELOW`]).
    pub fn uncertain(&self) -> bool {
        self.confidence() < UNCERTAIN_BELOW
    }
}

/// Everything read from one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoReading {
    /// Width of the photo as shown (after EXIF orientation).
    pub width: u32,
    /// Height of the photo as shown.
    pub height: u32,
    /// Every face, in reading order.
    pub faces: Vec<FaceReading>,
    /// The group mood: the faces' distributions averaged with their box areas as weights;
    /// `None` without a face.
    pub mood: Option<EmotionDistribution>,
}

impl PhotoReading {
    /// The face with the largest box, if any.
    pub fn largest_face(&self) -> Option<&FaceReading> {
        self.faces.iter().max_by_key(|reading| reading.face.area())
    }
}

/// How films are chosen, besides the mood: what `moodreel recommend` and
/// `POST /api/v1/recommendations` ask for along with a mood or a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct FilmChoice {
    /// Match or lift the mood.
    pub mode: Mode,
    /// How many films.
    pub n: usize,
    /// Shuffle among near-ties, the same way for the same seed.
    pub seed: Option<u64>,
    /// Conditions every film must meet.
    pub filters: Filters,
}

impl Default for FilmChoice {
    /// `auto` mode, the default count, no seed, no filter.
    fn default() -> Self {
        Self {
            mode: Mode::Auto,
            n: recommend::DEFAULT_COUNT,
            seed: None,
            filters: Filters::default(),
        }
    }
}

impl FilmChoice {
    /// The request for films for `mood`.
    pub fn for_mood(self, mood: EmotionDistribution) -> recommend::Request {
        recommend::Request {
            mood,
            mode: self.mode,
            n: self.n,
            filters: self.filters,
            seed: self.seed,
        }
    }

    /// The request for films for a photo: its group mood (faces weighted by their area).
    /// A photo without a face has no mood: [`PipelineError::NoFace`].
    pub fn for_photo(self, reading: &PhotoReading) -> Result<recommend::Request, PipelineError> {
        let mood = reading.mood.ok_or(PipelineError::NoFace)?;
        Ok(self.for_mood(mood))
    }
}

impl PhotoPipeline {
    /// A pipeline with the default detector; `tta` also classifies each face mirrored and
    /// averages the two readings.
    pub fn new(model: Arc<ExpressionModel>, tta: bool) -> Result<Self, PipelineError> {
        Ok(Self {
            detector: FaceDetector::new()?,
            model,
            tta,
        })
    }

    /// A pipeline with the expression model of `model_dir` (else the built-in one): the one
    /// way the commands and the server build theirs.
    pub fn load(model_dir: Option<&Path>, tta: bool) -> Result<Self, PipelineError> {
        let model = load_model(model_dir).map_err(PipelineError::LoadModel)?;
        Self::new(Arc::new(model), tta)
    }

    /// Number of trained parameters of the expression model.
    pub fn parameter_count(&self) -> usize {
        self.model.parameter_count()
    }

    /// Whether each face is also read mirrored and the two readings averaged.
    pub fn mirror_averaging(&self) -> bool {
        self.tta
    }

    /// Decodes a photo and reads it; also returns the decoded picture (for drawing on it).
    pub fn read_bytes(&self, bytes: &[u8]) -> Result<(DynamicImage, PhotoReading), PipelineError> {
        let image = vision::decode(bytes)?;
        let reading = self.read_image(&image)?;
        Ok((image, reading))
    }

    /// Finds every face in a decoded photo and classifies all of them in one batch.
    pub fn read_image(&self, image: &DynamicImage) -> Result<PhotoReading, PipelineError> {
        let (width, height) = (image.width(), image.height());
        let boxes = self.detector.detect(image);
        let crops = boxes
            .iter()
            .map(|face| FaceCrop::from_pixels(vision::crop_for_model(image, face).as_raw()))
            .collect::<Result<Vec<_>, _>>()?;
        let probabilities = self.model.classify(&crops, self.tta)?;
        let faces = boxes
            .iter()
            .zip(probabilities)
            .map(|(face, probabilities)| {
                Ok(FaceReading {
                    face: face.clamped(width, height),
                    probabilities: EmotionDistribution::from_f32(probabilities)?,
                })
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        let mood = group_mood(&faces)?;
        tracing::debug!(width, height, faces = faces.len(), "photo read");
        Ok(PhotoReading {
            width,
            height,
            faces,
            mood,
        })
    }
}

/// The face-area-weighted mean of the faces' distributions: a face twice as large (nearer the
/// camera, the person who took the photo) counts twice as much.
fn group_mood(faces: &[FaceReading]) -> Result<Option<EmotionDistribution>, mood::MoodError> {
    if faces.is_empty() {
        return Ok(None);
    }
    let weighted = faces
        .iter()
        .map(|reading| (reading.probabilities, reading.face.area().max(1) as f64));
    EmotionDistribution::weighted_mean(weighted).map(Some)
}

/// The faces in a photo and the group mood, the JSON answer for one photo:
/// `{"file","width","height","faces":[…],"mood":{…,"emotion"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Analysis)]
pub struct AnalyzeResponse {
    /// The photo's path or name, when it has one (the command line's; absent in the API's
    /// answers, whose uploads come without a name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Width of the photo in pixels, as shown (after EXIF orientation).
    pub width: u32,
    /// Height in pixels, as shown.
    pub height: u32,
    /// Every face found, in reading order; empty when there is none.
    pub faces: Vec<FaceResponse>,
    /// The group mood (faces weighted by their area); `null` without a face.
    pub mood: Option<MoodSummary>,
}

/// One face and how it reads: `{"box":{"x","y","w","h"},"score","landmarks":{…},"emotion",
/// "confidence","uncertain","probabilities":{…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Face)]
pub struct FaceResponse {
    /// Where the face is, in pixels of the photo as shown.
    #[serde(rename = "box")]
    pub bounds: BoxResponse,
    /// The detector's score, 0..1 (higher is surer).
    pub score: f64,
    /// Eyes, nose tip, mouth and ears, in pixels of the photo as shown (absent when the
    /// detector gave none: a face found only by its second look, CenterFace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmarks: Option<LandmarksResponse>,
    /// The most probable emotion.
    pub emotion: Emotion,
    /// Its probability.
    pub confidence: f64,
    /// Whether the confidence is below 0.45 (`pipeline::UNCERTAIN_BELOW`; a test keeps the
    /// two in step): shown, but not to be trusted.
    pub uncertain: bool,
    /// All seven probabilities.
    pub probabilities: EmotionDistribution,
}

/// A face box: left, top, width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = FaceBox)]
pub struct BoxResponse {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// A point in pixels of the photo as shown (one decimal), from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Point)]
pub struct PointResponse {
    /// From the left edge.
    pub x: f32,
    /// From the top edge.
    pub y: f32,
}

/// A face's keypoints in pixels of the photo as shown: six, or four without the ears for a face
/// found by the detector's second look; "right" and "left" are the person's (the right eye is
/// on the photo's left in a frontal photo). Names as `vision::LANDMARK_NAMES`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Landmarks)]
pub struct LandmarksResponse {
    /// The person's right eye.
    pub right_eye: PointResponse,
    /// The person's left eye.
    pub left_eye: PointResponse,
    /// The tip of the nose.
    pub nose_tip: PointResponse,
    /// The centre of the mouth.
    pub mouth: PointResponse,
    /// The person's right ear (tragion); absent for a face found by the detector's second
    /// look, which gives no ears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_ear: Option<PointResponse>,
    /// The person's left ear (tragion); absent like `right_ear`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_ear: Option<PointResponse>,
}

impl From<&vision::Landmarks> for LandmarksResponse {
    fn from(landmarks: &vision::Landmarks) -> Self {
        // One decimal: sub-pixel digits beyond that are noise.
        let point = |(x, y): (f32, f32)| PointResponse {
            x: (x * 10.0).round() / 10.0,
            y: (y * 10.0).round() / 10.0,
        };
        Self {
            right_eye: point(landmarks.right_eye),
            left_eye: point(landmarks.left_eye),
            nose_tip: point(landmarks.nose_tip),
            mouth: point(landmarks.mouth),
            right_ear: landmarks.ears.map(|[right, _]| point(right)),
            left_ear: landmarks.ears.map(|[_, left]| point(left)),
        }
    }
}

impl AnalyzeResponse {
    /// The response for a photo read by the pipeline.
    pub fn new(file: Option<String>, reading: &PhotoReading) -> Self {
        Self {
            file,
            width: reading.width,
            height: reading.height,
            faces: reading.faces.iter().map(FaceResponse::from).collect(),
            mood: reading.mood.map(MoodSummary::from),
        }
    }
}

impl From<&FaceReading> for FaceResponse {
    fn from(reading: &FaceReading) -> Self {
        Self {
            bounds: BoxResponse {
                x: reading.face.x,
                y: reading.face.y,
                w: reading.face.width,
                h: reading.face.height,
            },
            score: round(reading.face.score, 3),
            landmarks: reading.face.landmarks.as_ref().map(LandmarksResponse::from),
            emotion: reading.emotion(),
            confidence: round(reading.confidence(), 4),
            uncertain: reading.uncertain(),
            probabilities: reading.probabilities,
        }
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(x: i32, side: u32, emotion: Emotion) -> FaceReading {
        FaceReading {
            face: FaceBox {
                x,
                y: 0,
                width: side,
                height: side,
                score: 0.9,
                landmarks: None,
            },
            probabilities: EmotionDistribution::certain(emotion),
        }
    }

    #[test]
    fn a_photo_without_a_face_asks_for_no_films() {
        let empty = PhotoReading {
            width: 10,
            height: 10,
            faces: Vec::new(),
            mood: None,
        };
        let choice = FilmChoice {
            mode: Mode::Lift,
            n: 3,
            ..FilmChoice::default()
        };
        assert!(matches!(
            choice.clone().for_photo(&empty),
            Err(PipelineError::NoFace)
        ));
        let faces = vec![reading(0, 100, Emotion::Sad)];
        let mood = group_mood(&faces).expect("valid").expect("a face");
        let photo = PhotoReading {
            faces,
            mood: Some(mood),
            ..empty
        };
        let request = choice.for_photo(&photo).expect("a face gives a mood");
        assert_eq!(
            (request.mood.emotion(), request.mode, request.n),
            (Emotion::Sad, Mode::Lift, 3)
        );
    }

    #[test]
    fn group_mood_weighs_faces_by_area() {
        let faces = [
            reading(0, 100, Emotion::Happy),
            reading(200, 50, Emotion::Sad),
        ];
        let mood = group_mood(&faces)
            .expect("valid distributions")
            .expect("faces give a mood");
        assert!((mood.probability(Emotion::Happy) - 0.8).abs() < 1e-9);
        assert!((mood.probability(Emotion::Sad) - 0.2).abs() < 1e-9);
        assert_eq!(group_mood(&[]).expect("no error"), None);
    }

    #[test]
    fn response_has_the_documented_shape() {
        let faces = vec![reading(10, 80, Emotion::Surprise)];
        let photo = PhotoReading {
            width: 640,
            height: 480,
            mood: group_mood(&faces).expect("valid"),
            faces,
        };
        let json = serde_json::to_value(AnalyzeResponse::new(Some("a.jpg".into()), &photo))
            .expect("serialises");
        assert_eq!(json["file"], "a.jpg");
        assert_eq!(json["faces"][0]["box"]["w"], 80);
        assert_eq!(json["faces"][0]["emotion"], "surprise");
        assert_eq!(json["faces"][0]["uncertain"], false);
        assert_eq!(json["faces"][0]["probabilities"]["surprise"], 1.0);
        assert_eq!(json["mood"]["emotion"], "surprise");
        assert_eq!(json["mood"]["neutral"], 0.0);
        let unnamed = AnalyzeResponse::new(None, &photo);
        assert!(
            serde_json::to_value(unnamed)
                .expect("serialises")
                .get("file")
                .is_none()
        );
    }
}
