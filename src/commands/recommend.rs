//! `moodreel recommend`: films for a mood given by name, by distribution, or read from the
//! faces in a photo.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use catalog::Genre;
use mood::EmotionDistribution;
use recommend::{Filters, Mode, Recommendations};
use serde::Serialize;

use crate::commands::catalog::CatalogArg;
use crate::commands::common::{ModelArgs, print_json, read_photo, write_face_line, write_stdout};
use crate::exit::{CommandError, CommandResult};
use crate::pipeline::{FaceResponse, FilmChoice, PhotoReading, PipelineError};

/// Arguments of `moodreel recommend`.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("input").required(true).args(["image", "mood"])),
    after_help = "Examples:\n  moodreel recommend selfie.jpg\n  moodreel recommend --mood sad\n  moodreel recommend --mood angry=0.1,sad=0.7,neutral=0.2 --mode match -n 5\n  moodreel recommend --mood happy --min-year 2000 --min-rating 8 --genre Comedy --json"
)]
pub struct Args {
    /// A photo to read the mood from (JPEG, PNG, WebP, GIF, BMP): the group mood of its faces,
    /// weighted by face size. Exit code 3 when it shows no face.
    #[arg(value_name = "IMAGE")]
    pub image: Option<PathBuf>,

    /// The mood: one emotion (sad), or weights (angry=0.1,sad=0.7; missing emotions are 0).
    /// Emotions: angry, disgust, fear, happy, sad, surprise, neutral.
    #[arg(long, value_name = "MOOD", value_parser = EmotionDistribution::parse)]
    pub mood: Option<EmotionDistribution>,

    /// match: films that fit the feeling; lift: films that move it toward a better state;
    /// auto: lift for angry, disgust, fear and sad, match for the others.
    #[arg(long, default_value = "auto", value_parser = parse_mode)]
    pub mode: Mode,

    /// How many films (1 to 100).
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(1..=recommend::MAX_COUNT as i64))]
    pub count: u16,

    /// Shuffle among near-ties ("surprise me"); the same seed gives the same list.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Which catalog.
    #[command(flatten)]
    pub catalog: CatalogArg,

    /// Print one JSON document: {"mood", "mode", "movies": [{"title", ..., "reasons"}]}; from a
    /// photo also "file" and "faces" (as `moodreel analyze --json` gives them).
    #[arg(long)]
    pub json: bool,

    /// With IMAGE: the expression model.
    #[command(flatten)]
    pub model: ModelArgs,

    /// Conditions every film must meet (last: their help has its own heading; boxed: they are
    /// most of the arguments' size).
    #[command(flatten)]
    pub filters: Box<FilterArgs>,
}

/// The filters, as command-line options.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// Released in YEAR or later.
    #[arg(long, value_name = "YEAR")]
    pub min_year: Option<u16>,
    /// Released in YEAR or earlier.
    #[arg(long, value_name = "YEAR")]
    pub max_year: Option<u16>,
    /// Rated at least this (1–10).
    #[arg(long, value_name = "RATING", value_parser = parse_rating)]
    pub min_rating: Option<f64>,
    /// Has this genre; repeat for "any of these".
    #[arg(long = "genre", value_name = "GENRE", value_parser = parse_genre)]
    pub genres: Vec<Genre>,
    /// Has not this genre; repeatable.
    #[arg(long = "exclude-genre", value_name = "GENRE", value_parser = parse_genre)]
    pub exclude_genres: Vec<Genre>,
    /// Runs at most this many minutes.
    #[arg(long, value_name = "MINUTES")]
    pub max_runtime: Option<u16>,
    /// Has this certificate (case-insensitive); repeat for "any of these".
    #[arg(long = "certificate", value_name = "CERT")]
    pub certificates: Vec<String>,
    /// Not this film (seen already): "Title" or "Title (1999)"; repeatable.
    #[arg(long = "exclude-title", value_name = "TITLE")]
    pub exclude_titles: Vec<String>,
    /// Admitted at age N: the film's age band (from US, UK or Indian certificates, or estimated)
    /// starts at N or younger. Films of unknown band are left out, and the list says so.
    #[arg(long, value_name = "N")]
    pub max_age: Option<u8>,
    /// Family-safe films only: age band 8 or younger (G, U, PG) and no dark theme. Films of
    /// unknown band are left out, and the list says so.
    #[arg(long)]
    pub family: bool,
}

impl From<FilterArgs> for Filters {
    fn from(args: FilterArgs) -> Self {
        Filters {
            min_year: args.min_year,
            max_year: args.max_year,
            min_rating: args.min_rating,
            genres: args.genres,
            exclude_genres: args.exclude_genres,
            max_runtime: args.max_runtime,
            certificates: args.certificates,
            exclude_titles: args.exclude_titles,
            max_age: args.max_age,
            family: args.family,
        }
    }
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
        .map_err(|error: recommend::UnknownMode| error.to_string())
}

fn parse_genre(text: &str) -> Result<Genre, String> {
    text.parse()
        .map_err(|error: catalog::UnknownGenre| error.to_string())
}

fn parse_rating(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rating) if (0.0..=10.0).contains(&rating) => Ok(rating),
        _ => Err(format!("{text:?} is not a rating between 0 and 10")),
    }
}

/// The JSON of `recommend IMAGE`: the list as for `--mood`, plus the photo and the faces whose
/// group mood chose the films.
#[derive(Debug, Serialize)]
struct PhotoRecommendations<'a> {
    #[serde(flatten)]
    list: &'a Recommendations,
    /// The photo's path, as given.
    file: String,
    /// Every face, as `analyze --json` reports it.
    faces: Vec<FaceResponse>,
}

/// Runs `moodreel recommend`.
pub fn run(args: Args) -> CommandResult {
    let choice = FilmChoice {
        mode: args.mode,
        n: usize::from(args.count),
        seed: args.seed,
        filters: (*args.filters).into(),
    };
    let (request, photo) = match (args.mood, &args.image) {
        (Some(mood), _) => (choice.for_mood(mood), None),
        (None, Some(image)) => {
            if !image.is_file() {
                return Err(CommandError::usage(anyhow!(
                    "{}: no such file",
                    image.display()
                )));
            }
            let reading = read_photo(&args.model.pipeline()?, image)?.1;
            let request = choice.for_photo(&reading).map_err(|error| match error {
                PipelineError::NoFace => CommandError::no_face(anyhow!(
                    "no face found in {}; try --mood EMOTION (angry, disgust, fear, happy, sad, \
                     surprise, neutral) or a photo with a frontal face",
                    image.display()
                )),
                other => CommandError::failure(other),
            })?;
            (request, Some((image, reading)))
        }
        (None, None) => {
            return Err(CommandError::usage(anyhow!("give an IMAGE or --mood")));
        }
    };
    let catalog = args.catalog.load()?;
    let list = recommend::recommend(&catalog, &request).map_err(CommandError::failure)?;
    match (args.json, photo) {
        (true, None) => print_json(&list),
        (true, Some((image, reading))) => print_json(&PhotoRecommendations {
            list: &list,
            file: image.display().to_string(),
            faces: reading.faces.iter().map(FaceResponse::from).collect(),
        }),
        (false, photo) => {
            let mut out = String::new();
            if let Some((image, reading)) = photo {
                describe_faces(&mut out, image, &reading);
            }
            out.push_str(&render(&list, catalog.source(), catalog.len()));
            write_stdout(&out)
        }
    }
}

/// One line per face found: where it is and how it reads.
fn describe_faces(out: &mut String, image: &Path, reading: &PhotoReading) {
    let count = reading.faces.len();
    let _ = writeln!(
        out,
        "{}: {count} face{}",
        image.display(),
        if count == 1 { "" } else { "s" }
    );
    for (index, face) in reading.faces.iter().enumerate() {
        write_face_line(out, index, &FaceResponse::from(face));
    }
    out.push('\n');
}

/// The list as readable text: the mood, then one entry per film with its reasons.
pub fn render(list: &Recommendations, source: &str, catalog_size: usize) -> String {
    let mood: Vec<String> = list
        .mood
        .probabilities
        .ranked()
        .into_iter()
        .filter(|(_, probability)| *probability >= 0.005)
        .map(|(emotion, probability)| format!("{emotion} {:.0}%", probability * 100.0))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Mood: {} · mode: {} · {} film{} from the {} catalog ({catalog_size} films)\n",
        mood.join(", "),
        list.mode,
        list.movies.len(),
        if list.movies.len() == 1 { "" } else { "s" },
        source
    );
    let width = list.movies.len().to_string().len();
    for (index, movie) in list.movies.iter().enumerate() {
        let mut facts = vec![
            movie
                .genres
                .iter()
                .map(|genre| genre.name())
                .collect::<Vec<_>>()
                .join(", "),
        ];
        facts.extend(movie.runtime_min.map(|minutes| format!("{minutes} min")));
        facts.extend(movie.certificate.clone());
        facts.extend(movie.min_age.map(|age| format!("age {age}+")));
        facts.extend(movie.director.clone());
        facts.extend(movie.rating.map(|rating| format!("rated {rating:.1}")));
        let title = match movie.year {
            Some(year) => format!("{} ({year})", movie.title),
            None => movie.title.clone(),
        };
        let _ = writeln!(
            out,
            "{:>width$}. {title}  [{}]",
            index + 1,
            facts.join(" · ")
        );
        if let Some(synopsis) = &movie.synopsis {
            let _ = writeln!(out, "{:width$}  {synopsis}", "");
        }
        for reason in &movie.reasons {
            let _ = writeln!(out, "{:width$}  {reason}", "");
        }
    }
    for note in &list.notes {
        let _ = writeln!(out, "\nNote: {note}");
    }
    out
}
