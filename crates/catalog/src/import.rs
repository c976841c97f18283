//! Reading catalog CSV files: the project's own layout and the two Kaggle layouts, told apart by
//! their header.
//!
//! Each row either becomes a [`Movie`], is skipped for a known reason (a TMDB row without a
//! genre), or is an error located as `file:line: column: problem`. Tolerable quirks of the real
//! files (a year of "PG", a blank runtime) keep the row and leave a warning.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, Diagnostic};
use crate::genre::Genre;
use crate::movie::{Movie, title_key};

/// The layout of a catalog file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// The project's own CSV: `title,year,genres,runtime_min,certificate,director,stars,rating`
    /// (genres and stars separated by `|`; only `title` and `genres` are required, and
    /// `votes`, `overview` and `poster_url` may be added).
    #[serde(rename = "moodreel")]
    Moodreel,
    /// Kaggle "IMDB Movies Dataset" (IMDB Top 1000): `Series_Title`, `Released_Year`, ...
    #[serde(rename = "imdb-top-1000")]
    ImdbTop1000,
    /// Kaggle "TMDB 5000 Movie Dataset": `genres` as JSON lists, `vote_average`, ...
    #[serde(rename = "tmdb-5000")]
    Tmdb5000,
}

impl Format {
    /// Recognises a layout by the column names of its header.
    pub fn detect<S: AsRef<str>>(header: &[S]) -> Option<Format> {
        let has = |name: &str| header.iter().any(|column| column.as_ref() == name);
        if has("Series_Title") && has("IMDB_Rating") && has("Genre") {
            Some(Format::ImdbTop1000)
        } else if has("title") && has("genres") && has("vote_average") {
            Some(Format::Tmdb5000)
        } else if has("title") && has("genres") {
            Some(Format::Moodreel)
        } else {
            None
        }
    }

    /// The columns a layout cannot do without.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Format::Moodreel => &["title", "genres"],
            Format::ImdbTop1000 => &["Series_Title", "Genre", "IMDB_Rating"],
            Format::Tmdb5000 => &["title", "genres", "vote_average"],
        }
    }

    /// For a header that [`Format::detect`] refuses but that looks like one of the Kaggle
    /// layouts (two or more of its telltale columns): that layout and its missing required
    /// columns.
    pub fn missing_columns<S: AsRef<str>>(header: &[S]) -> Option<(Format, Vec<&'static str>)> {
        let has = |name: &str| header.iter().any(|column| column.as_ref() == name);
        let telltales: [(Format, &[&str]); 2] = [
            (
                Format::Tmdb5000,
                &[
                    "vote_average",
                    "vote_count",
                    "release_date",
                    "original_title",
                    "popularity",
                    "keywords",
                    "production_companies",
                    "budget",
                    "revenue",
                ],
            ),
            (
                Format::ImdbTop1000,
                &[
                    "Series_Title",
                    "Released_Year",
                    "IMDB_Rating",
                    "No_of_Votes",
                    "Meta_score",
                    "Star1",
                    "Poster_Link",
                    "Genre",
                ],
            ),
        ];
        telltales.into_iter().find_map(|(format, columns)| {
            let present = columns.iter().filter(|column| has(column)).count();
            let missing: Vec<&'static str> = format
                .required_columns()
                .iter()
                .copied()
                .filter(|column| !has(column))
                .collect();
            (present >= 2 && !missing.is_empty()).then_some((format, missing))
        })
    }

    /// A name for people.
    pub fn description(self) -> &'static str {
        match self {
            Format::Moodreel => "moodreel CSV",
            Format::ImdbTop1000 => "Kaggle IMDB Top 1000 CSV",
            Format::Tmdb5000 => "Kaggle TMDB 5000 CSV",
        }
    }
}

/// Everything read from one file.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub format: Format,
    pub movies: Vec<Movie>,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
    pub skipped: usize,
}

/// Reads a whole catalog file. Fails only when the file cannot be read or its layout is not
/// recognised; bad rows are collected in [`Parsed::errors`].
pub(crate) fn parse(file: &str, mut input: impl Read) -> Result<Parsed, CatalogError> {
    // Catalogs are a few megabytes at most; reading them whole lets every diagnostic give the
    // true line of a row (counted from the bytes, so CRLF files number lines right).
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|source| CatalogError::Io {
            path: PathBuf::from(file),
            source,
        })?;
    let lines = LineIndex::new(&bytes);
    let input = bytes.as_slice();
    let io_error = |source: csv::Error| match source.into_kind() {
        csv::ErrorKind::Io(source) => CatalogError::Io {
            path: PathBuf::from(file),
            source,
        },
        other => CatalogError::Io {
            path: PathBuf::from(file),
            source: std::io::Error::other(format!("{other:?}")),
        },
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(io_error)?
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let name = String::from_utf8_lossy(name);
            let name = if index == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                &name
            };
            name.trim().to_owned()
        })
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(CatalogError::EmptyFile {
            file: file.to_owned(),
        });
    }
    if let Some((format, columns)) = Format::missing_columns(&header)
        && Format::detect(&header) != Some(format)
    {
        return Err(CatalogError::MissingColumns {
            file: file.to_owned(),
            format: format.description(),
            columns: columns.join(", "),
        });
    }
    let format = Format::detect(&header).ok_or_else(|| CatalogError::UnknownFormat {
        file: file.to_owned(),
        header: header.join(","),
    })?;
    let layout = Layout::new(format, &header);
    tracing::debug!(file, format = format.description(), "reading catalog");

    let mut state = State {
        file,
        header: &header,
        parsed: Parsed {
            format,
            movies: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
            skipped: 0,
        },
        ignored_labels: BTreeMap::new(),
        first_skipped_line: None,
        seen: HashMap::new(),
    };
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(io_error)? {
        let mut start = record.position().map_or(0, csv::Position::byte);
        // The reader may place a record's start on the line end before it (the `\n` of a
        // `\r\n`); the record starts after it.
        while matches!(bytes.get(start as usize), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let line = lines.line_of(start);
        if record.len() != header.len()
            && let Some(quote) = unclosed_quote(&bytes[start as usize..])
        {
            state.parsed.errors.push(Diagnostic {
                line: Some(lines.line_of(start + quote as u64)),
                ..Diagnostic::file(
                    file,
                    "unclosed quote: the quoted field that starts here never ends, so the rest \
                     of the file was read as one field",
                )
            });
            continue;
        }
        state.row(&layout, &record, line);
    }
    Ok(state.finish())
}

/// Where each line starts, to turn byte offsets into 1-based line numbers.
struct LineIndex {
    /// Byte offset just after each `\n`.
    starts: Vec<u64>,
}

impl LineIndex {
    fn new(bytes: &[u8]) -> Self {
        let starts = bytes
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'\n')
            .map(|(index, _)| index as u64 + 1)
            .collect();
        Self { starts }
    }

    /// The 1-based line holding byte `offset`.
    fn line_of(&self, offset: u64) -> u64 {
        self.starts.partition_point(|start| *start <= offset) as u64 + 1
    }
}

/// If a quoted field that opens in `rest` (the text from a record's start to the end of the
/// file) is never closed, the offset of its opening quote.
fn unclosed_quote(rest: &[u8]) -> Option<usize> {
    let mut field_start = true;
    let mut open: Option<usize> = None;
    let mut index = 0;
    while index < rest.len() {
        let byte = rest[index];
        match open {
            Some(_) => {
                if byte == b'"' {
                    if rest.get(index + 1) == Some(&b'"') {
                        index += 1; // an escaped quote inside the field
                    } else {
                        open = None;
                        field_start = false;
                    }
                }
            }
            None => match byte {
                b'"' if field_start => open = Some(index),
                b',' => field_start = true,
                b'\n' | b'\r' => return None, // the record ended with every quote closed
                _ => field_start = false,
            },
        }
        index += 1;
    }
    open
}

/// Column positions of one layout, looked up once from the header.
enum Layout {
    Moodreel {
        title: usize,
        year: Option<usize>,
        genres: usize,
        runtime: Option<usize>,
        certificate: Option<usize>,
        director: Option<usize>,
        stars: Option<usize>,
        rating: Option<usize>,
        votes: Option<usize>,
        overview: Option<usize>,
        poster: Option<usize>,
    },
    Imdb {
        title: usize,
        year: Option<usize>,
        certificate: Option<usize>,
        runtime: Option<usize>,
        genre: usize,
        rating: usize,
        overview: Option<usize>,
        director: Option<usize>,
        stars: Vec<usize>,
        votes: Option<usize>,
        poster: Option<usize>,
    },
    Tmdb {
        title: usize,
        genres: usize,
        release_date: Option<usize>,
        runtime: Option<usize>,
        vote_average: usize,
        vote_count: Option<usize>,
        overview: Option<usize>,
        keywords: Option<usize>,
        tagline: Option<usize>,
        popularity: Option<usize>,
        adult: Option<usize>,
    },
}

impl Layout {
    fn new(format: Format, header: &[String]) -> Layout {
        let find = |name: &str| header.iter().position(|column| column == name);
        // `Format::detect` has checked that the required columns exist.
        let must = |name: &str| find(name).unwrap_or(usize::MAX);
        match format {
            Format::Moodreel => Layout::Moodreel {
                title: must("title"),
                year: find("year"),
                genres: must("genres"),
                runtime: find("runtime_min"),
                certificate: find("certificate"),
                director: find("director"),
                stars: find("stars"),
                rating: find("rating"),
                votes: find("votes"),
                overview: find("overview"),
                poster: find("poster_url"),
            },
            Format::ImdbTop1000 => Layout::Imdb {
                title: must("Series_Title"),
                year: find("Released_Year"),
                certificate: find("Certificate"),
                runtime: find("Runtime"),
                genre: must("Genre"),
                rating: must("IMDB_Rating"),
                overview: find("Overview"),
                director: find("Director"),
                stars: ["Star1", "Star2", "Star3", "Star4"]
                    .into_iter()
                    .filter_map(find)
                    .collect(),
                votes: find("No_of_Votes"),
                poster: find("Poster_Link"),
            },
            Format::Tmdb5000 => Layout::Tmdb {
                title: must("title"),
                genres: must("genres"),
                release_date: find("release_date"),
                runtime: find("runtime"),
                vote_average: must("vote_average"),
                vote_count: find("vote_count"),
                overview: find("overview"),
                keywords: find("keywords"),
                tagline: find("tagline"),
                popularity: find("popularity"),
                adult: find("adult"),
            },
        }
    }
}

/// The reading of one file in progress.
struct State<'a> {
    file: &'a str,
    header: &'a [String],
    parsed: Parsed,
    /// Source labels that are not genres ("Foreign", "TV Movie"), with how many rows had them.
    ignored_labels: BTreeMap<String, usize>,
    first_skipped_line: Option<u64>,
    /// (title key, year) → (line, index in the films), to merge duplicates.
    seen: HashMap<(String, Option<u16>), (u64, usize)>,
}

/// One row being read: its fields and where it is, for diagnostics.
struct Row<'a> {
    file: &'a str,
    header: &'a [String],
    record: &'a csv::ByteRecord,
    line: u64,
    warnings: Vec<Diagnostic>,
}

impl Row<'_> {
    fn diagnostic(&self, column: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.to_owned(),
            line: Some(self.line),
            column: self.header.get(column).cloned(),
            message: message.into(),
        }
    }

    fn warn(&mut self, column: usize, message: impl Into<String>) {
        let diagnostic = self.diagnostic(column, message);
        self.warnings.push(diagnostic);
    }

    /// The trimmed text of a column; blank text is `None`.
    fn get(&self, column: Option<usize>) -> Result<Option<&str>, Diagnostic> {
        let Some(column) = column else {
            return Ok(None);
        };
        let bytes = self.record.get(column).unwrap_or_default();
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.diagnostic(column, "not valid UTF-8"))?
            .trim();
        Ok((!text.is_empty()).then_some(text))
    }

    /// The trimmed text of a column that must not be blank.
    fn required(&self, column: usize) -> Result<&str, Diagnostic> {
        self.get(Some(column))?
            .ok_or_else(|| self.diagnostic(column, "must not be blank"))
    }

    fn owned(&self, column: Option<usize>) -> Result<Option<String>, Diagnostic> {
        Ok(self.get(column)?.map(str::to_owned))
    }
}

impl State<'_> {
    fn row(&mut self, layout: &Layout, record: &csv::ByteRecord, line: u64) {
        let mut row = Row {
            file: self.file,
            header: self.header,
            record,
            line,
            warnings: Vec::new(),
        };
        if record.len() != self.header.len() {
            self.parsed.errors.push(Diagnostic {
                line: Some(line),
                ..Diagnostic::file(
                    self.file,
                    format!(
                        "expected {} fields as in the header, found {}",
                        self.header.len(),
                        record.len()
                    ),
                )
            });
            return;
        }
        let result = match layout {
            Layout::Moodreel { .. } => read_moodreel(&mut row, layout),
            Layout::Imdb { .. } => read_imdb(&mut row, layout, &mut self.ignored_labels),
            Layout::Tmdb { .. } => read_tmdb(&mut row, layout, &mut self.ignored_labels),
        };
        match result {
            Ok(Some(movie)) => {
                let key = (title_key(&movie.title), movie.year);
                if let Some(&(first, index)) = self.seen.get(&key) {
                    // One film, one row: keep the row whose rating rests on more votes.
                    let kept = &mut self.parsed.movies[index];
                    let replace = movie.votes.unwrap_or(0) > kept.votes.unwrap_or(0);
                    row.warnings.push(Diagnostic {
                        line: Some(line),
                        ..Diagnostic::file(
                            self.file,
                            format!(
                                "{} is also on line {first}; merged into one film (kept line {})",
                                movie.label(),
                                if replace { line } else { first }
                            ),
                        )
                    });
                    if replace {
                        *kept = movie;
                    }
                } else {
                    self.seen.insert(key, (line, self.parsed.movies.len()));
                    self.parsed.movies.push(movie);
                }
                self.parsed.warnings.append(&mut row.warnings);
            }
            Ok(None) => {
                self.parsed.skipped += 1;
                self.first_skipped_line.get_or_insert(line);
                self.parsed.warnings.append(&mut row.warnings);
            }
            Err(error) => self.parsed.errors.push(error),
        }
    }

    fn finish(mut self) -> Parsed {
        if !self.ignored_labels.is_empty() {
            let labels: Vec<String> = self
                .ignored_labels
                .iter()
                .map(|(label, rows)| format!("{label:?} ({rows} rows)"))
                .collect();
            self.parsed.warnings.push(Diagnostic::file(
                self.file,
                format!("ignored labels that are not genres: {}", labels.join(", ")),
            ));
        }
        if let Some(first) = self.first_skipped_line {
            self.parsed.warnings.push(Diagnostic::file(
                self.file,
                format!(
                    "skipped {} rows without a known genre (the first on line {first})",
                    self.parsed.skipped
                ),
            ));
        }
        self.parsed
    }
}

fn read_moodreel(row: &mut Row<'_>, layout: &Layout) -> Result<Option<Movie>, Diagnostic> {
    let &Layout::Moodreel {
        title,
        year,
        genres,
        runtime,
        certificate,
        director,
        stars,
        rating,
        votes,
        overview,
        poster,
    } = layout
    else {
        return Ok(None);
    };
    let mut movie = Movie::new(row.required(title)?, Vec::new());
    for name in row.required(genres)?.split('|').map(str::trim) {
        let genre = name
            .parse::<Genre>()
            .map_err(|error| row.diagnostic(genres, error.to_string()))?;
        if !movie.genres.contains(&genre) {
            movie.genres.push(genre);
        }
    }
    if let (Some(text), Some(column)) = (row.get(year)?, year) {
        movie.year = Some(parse_year(text).map_err(|problem| row.diagnostic(column, problem))?);
    }
    if let (Some(text), Some(column)) = (row.get(runtime)?, runtime) {
        movie.runtime_min =
            Some(parse_runtime(text).map_err(|problem| row.diagnostic(column, problem))?);
    }
    if let (Some(text), Some(column)) = (row.get(rating)?, rating) {
        movie.rating = Some(parse_rating(text).map_err(|problem| row.diagnostic(column, problem))?);
    }
    if let (Some(text), Some(column)) = (row.get(votes)?, votes) {
        movie.votes = Some(parse_votes(text).map_err(|problem| row.diagnostic(column, problem))?);
    }
    movie.certificate = row.owned(certificate)?;
    movie.director = row.owned(director)?;
    movie.stars = row
        .get(stars)?
        .map(|text| {
            text.split('|')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    movie.overview = row.owned(overview)?;
    movie.poster_url = row.owned(poster)?;
    Ok(Some(movie))
}

fn read_imdb(
    row: &mut Row<'_>,
    layout: &Layout,
    ignored_labels: &mut BTreeMap<String, usize>,
) -> Result<Option<Movie>, Diagnostic> {
    let Layout::Imdb {
        title,
        year,
        certificate,
        runtime,
        genre,
        rating,
        overview,
        director,
        stars,
        votes,
        poster,
    } = layout
    else {
        return Ok(None);
    };
    let mut movie = Movie::new(row.required(*title)?, Vec::new());
    let rating_text = row.required(*rating)?;
    movie.rating =
        Some(parse_rating(rating_text).map_err(|problem| row.diagnostic(*rating, problem))?);
    let labels = row.required(*genre)?.to_owned();
    movie.genres = read_genre_labels(labels.split(','), ignored_labels);
    if let Some(column) = *year {
        match row.get(Some(column))? {
            Some(text) => match parse_year(text) {
                Ok(value) => movie.year = Some(value),
                Err(problem) => row.warn(column, format!("{problem}; kept without a year")),
            },
            None => row.warn(column, "blank; kept without a year"),
        }
    }
    if let Some(column) = *runtime
        && let Some(text) = row.get(Some(column))?
    {
        match parse_runtime(text) {
            Ok(minutes) => movie.runtime_min = Some(minutes),
            Err(problem) => row.warn(column, format!("{problem}; kept without a runtime")),
        }
    }
    if let Some(column) = *votes
        && let Some(text) = row.get(Some(column))?
    {
        match parse_votes(text) {
            Ok(count) => movie.votes = Some(count),
            Err(problem) => row.warn(column, format!("{problem}; kept without a vote count")),
        }
    }
    movie.certificate = row.owned(*certificate)?;
    movie.director = row.owned(*director)?;
    for &column in stars {
        if let Some(name) = row.owned(Some(column))? {
            movie.stars.push(name);
        }
    }
    movie.overview = row.owned(*overview)?;
    movie.poster_url = row.owned(*poster)?;
    Ok((!movie.genres.is_empty()).then_some(movie))
}

fn read_tmdb(
    row: &mut Row<'_>,
    layout: &Layout,
    ignored_labels: &mut BTreeMap<String, usize>,
) -> Result<Option<Movie>, Diagnostic> {
    #[derive(Deserialize)]
    struct Label {
        name: String,
    }
    let &Layout::Tmdb {
        title,
        genres,
        release_date,
        runtime,
        vote_average,
        vote_count,
        overview,
        keywords,
        tagline,
        popularity,
        adult,
    } = layout
    else {
        return Ok(None);
    };
    let mut movie = Movie::new(row.required(title)?, Vec::new());
    if let (Some(text), Some(column)) = (row.get(keywords)?, keywords) {
        match serde_json::from_str::<Vec<Label>>(text) {
            Ok(labels) => movie.keywords = labels.into_iter().map(|label| label.name).collect(),
            Err(_) => row.warn(
                column,
                "not a JSON list of {\"id\",\"name\"}; kept without keywords",
            ),
        }
    }
    movie.tagline = row.owned(tagline)?;
    if let (Some(text), Some(column)) = (row.get(popularity)?, popularity) {
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() && value >= 0.0 => movie.popularity = Some(value),
            _ => row.warn(
                column,
                format!("{text:?} is not a popularity figure; kept without one"),
            ),
        }
    }
    if let (Some(text), Some(column)) = (row.get(adult)?, adult) {
        match text.to_ascii_lowercase().as_str() {
            "true" | "1" => movie.adult = Some(true),
            "false" | "0" => movie.adult = Some(false),
            _ => row.warn(column, format!("{text:?} is not true or false; ignored")),
        }
    }
    let labels: Vec<Label> = match row.get(Some(genres))? {
        Some(text) => serde_json::from_str(text).map_err(|error| {
            row.diagnostic(
                genres,
                format!("not a JSON list of {{\"id\",\"name\"}}: {error}"),
            )
        })?,
        None => Vec::new(),
    };
    movie.genres = read_genre_labels(
        labels.iter().map(|label| label.name.as_str()),
        ignored_labels,
    );
    let average_text = row.required(vote_average)?;
    let average =
        parse_rating(average_text).map_err(|problem| row.diagnostic(vote_average, problem))?;
    if let (Some(text), Some(column)) = (row.get(vote_count)?, vote_count) {
        movie.votes = Some(parse_votes(text).map_err(|problem| row.diagnostic(column, problem))?);
    }
    // TMDB writes 0.0 for a film nobody has rated; that is no rating, not the worst one.
    movie.rating = (movie.votes != Some(0)).then_some(average);
    if let Some(column) = release_date {
        match row.get(Some(column))? {
            Some(text) => match text.get(..4).map(parse_year) {
                Some(Ok(value)) => movie.year = Some(value),
                _ => row.warn(
                    column,
                    format!("{text:?} is not a date; kept without a year"),
                ),
            },
            None => row.warn(column, "blank; kept without a year"),
        }
    }
    if let Some(column) = runtime
        && let Some(text) = row.get(Some(column))?
    {
        match parse_runtime(text) {
            Ok(minutes) => movie.runtime_min = Some(minutes),
            Err(problem) => row.warn(column, format!("{problem}; kept without a runtime")),
        }
    }
    movie.overview = row.owned(overview)?;
    Ok((!movie.genres.is_empty()).then_some(movie))
}

/// Normalises a source's genre labels, counting the labels that are not genres.
fn read_genre_labels<'a>(
    labels: impl Iterator<Item = &'a str>,
    ignored_labels: &mut BTreeMap<String, usize>,
) -> Vec<Genre> {
    let mut genres = Vec::new();
    for label in labels.map(str::trim).filter(|label| !label.is_empty()) {
        match Genre::normalise(label) {
            Some(genre) if !genres.contains(&genre) => genres.push(genre),
            Some(_) => {}
            None => *ignored_labels.entry(label.to_owned()).or_default() += 1,
        }
    }
    genres
}

/// Earliest and latest year a catalog accepts.
const YEARS: std::ops::RangeInclusive<u16> = 1870..=2100;

fn parse_year(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(year) if YEARS.contains(&year) => Ok(year),
        _ => Err(format!(
            "{text:?} is not a year between {} and {}",
            YEARS.start(),
            YEARS.end()
        )),
    }
}

fn parse_rating(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rating) if (0.0..=10.0).contains(&rating) => Ok(rating),
        _ => Err(format!("{text:?} is not a rating between 0 and 10")),
    }
}

/// Accepts `142`, `142 min` and TMDB's `142.0`; 0 means unknown in TMDB and is refused here.
fn parse_runtime(text: &str) -> Result<u16, String> {
    let number = text.trim_end_matches("min").trim();
    match number.parse::<f64>() {
        Ok(minutes) if (1.0..2000.0).contains(&minutes) => Ok(minutes.round() as u16),
        _ => Err(format!("{text:?} is not a running time in minutes")),
    }
}

/// Accepts `28341469` and `28,341,469`.
fn parse_votes(text: &str) -> Result<u64, String> {
    let digits: String = text.chars().filter(|c| *c != ',' && *c != '_').collect();
    digits
        .parse::<u64>()
        .map_err(|_| format!("{text:?} is not a vote count"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Parsed {
        parse("test.csv", text.as_bytes()).expect("a readable layout")
    }

    const MOODREEL_HEADER: &str = "title,year,genres,runtime_min,certificate,director,stars,rating";

    #[test]
    fn reads_the_project_layout() {
        let parsed = read(&format!(
            "{MOODREEL_HEADER}\nToy Story,1995,Animation|Comedy|Family,81,G,John Lasseter,Tom Hanks|Tim Allen,8.3\n"
        ));
        assert_eq!(parsed.format, Format::Moodreel);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let movie = &parsed.movies[0];
        assert_eq!(movie.title, "Toy Story");
        assert_eq!(movie.year, Some(1995));
        assert_eq!(
            movie.genres,
            [Genre::Animation, Genre::Comedy, Genre::Family]
        );
        assert_eq!(movie.runtime_min, Some(81));
        assert_eq!(movie.certificate.as_deref(), Some("G"));
        assert_eq!(movie.stars, ["Tom Hanks", "Tim Allen"]);
        assert_eq!(movie.rating, Some(8.3));
    }

    #[test]
    fn bad_rows_are_located_by_line_and_column() {
        let parsed = read(&format!(
            "{MOODREEL_HEADER}\nA,2000,Drama,90,,,,7\nB,2000,Drama,90,,,,x\nC,2000,Cooking,90,,,,7\n\"D\nE\",1999,Drama\nF,3000,Drama,90,,,,7\n"
        ));
        let messages: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
        assert_eq!(parsed.movies.len(), 1);
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].starts_with("test.csv:3: rating: \"x\" is not a rating"));
        assert!(messages[1].starts_with("test.csv:4: genres: unknown genre \"Cooking\""));
        assert!(messages[2].starts_with("test.csv:5: expected 8 fields"));
        // The quoted title spans two lines, so the next row starts on line 7.
        assert!(
            messages[3].starts_with("test.csv:7: year: \"3000\""),
            "{}",
            messages[3]
        );
    }

    #[test]
    fn crlf_files_report_the_true_line() {
        let text = format!(
            "{MOODREEL_HEADER}\r\nA,2000,Drama,90,,,,7\r\nB,2000,Drama,90,,,,7\r\nC,2000,Drama,90,,,,x\r\n"
        );
        let parsed = read(&text);
        assert_eq!(parsed.errors.len(), 1);
        assert!(
            parsed.errors[0]
                .to_string()
                .starts_with("test.csv:4: rating:"),
            "{}",
            parsed.errors[0]
        );
    }

    #[test]
    fn an_unclosed_quote_is_named_at_the_line_it_opens() {
        let text = format!(
            "{MOODREEL_HEADER}\nA,2000,Drama,90,,,,7\nB,2000,\"Drama,90,,,,7\nC,2000,Drama,90,,,,7\nD,2000,Drama,90,,,,7\n"
        );
        let parsed = read(&text);
        assert_eq!(parsed.movies.len(), 1);
        let messages: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("test.csv:3: unclosed quote"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_kaggle_file_without_a_required_column_names_it() {
        let header = "budget,genres,id,keywords,overview,popularity,release_date,title,vote_count";
        let error = parse("tmdb.csv", format!("{header}\n").as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "tmdb.csv:1: looks like a Kaggle TMDB 5000 CSV file but has no vote_average column (required)"
        );
        let header = "Poster_Link,Released_Year,Certificate,Genre,IMDB_Rating,No_of_Votes";
        let error = parse("imdb.csv", format!("{header}\n").as_bytes()).unwrap_err();
        assert!(
            error.to_string().contains("has no Series_Title column"),
            "{error}"
        );
    }

    #[test]
    fn duplicate_rows_merge_keeping_more_votes() {
        let text = "title,year,genres,rating,votes\nUp,2009,Animation,8.2,10\nTears,2001,Drama,8,5\nUP,2009,Animation,8.3,900\n";
        let parsed = read(text);
        assert_eq!(parsed.movies.len(), 2);
        assert_eq!(parsed.movies[0].votes, Some(900));
        assert!(
            parsed.warnings[0].to_string().starts_with(
                "test.csv:4: UP (2009) is also on line 2; merged into one film (kept line 4)"
            ),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut bytes = format!("{MOODREEL_HEADER}\n").into_bytes();
        bytes.extend_from_slice(b"Caf\xe9,2000,Drama,90,,,,7\n");
        let parsed = parse("test.csv", bytes.as_slice()).expect("layout");
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(
            parsed.errors[0].to_string(),
            "test.csv:2: title: not valid UTF-8"
        );
    }

    #[test]
    fn imdb_quirks_are_tolerated() {
        let header = "Poster_Link,Series_Title,Released_Year,Certificate,Runtime,Genre,IMDB_Rating,Overview,Meta_score,Director,Star1,Star2,Star3,Star4,No_of_Votes,Gross";
        let parsed = read(&format!(
            "{header}\nhttp://p,Apollo 13,PG,U,140 min,\"Adventure, Drama, History\",7.6,Houston.,77,Ron Howard,Tom Hanks,Bill Paxton,Kevin Bacon,Gary Sinise,\"269,197\",\"173,837,933\"\n"
        ));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let movie = &parsed.movies[0];
        assert_eq!(movie.year, None);
        assert_eq!(movie.runtime_min, Some(140));
        assert_eq!(movie.votes, Some(269_197));
        assert_eq!(movie.stars.len(), 4);
        assert_eq!(movie.poster_url.as_deref(), Some("http://p"));
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0]
                .to_string()
                .starts_with("test.csv:2: Released_Year: \"PG\" is not a year"),
            "{}",
            parsed.warnings[0]
        );
    }

    #[test]
    fn tmdb_rows_without_genres_are_skipped_and_counted() {
        let header = "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,production_companies,production_countries,release_date,revenue,runtime,spoken_languages,status,tagline,title,vote_average,vote_count";
        let row = |genres: &str, title: &str, votes: &str| {
            format!(
                "1,\"{genres}\",,1,[],en,{title},About.,1.0,[],[],2009-12-10,1,162.0,[],Released,,{title},7.2,{votes}\n"
            )
        };
        let text = format!(
            "{header}\n{}{}{}",
            row(
                r#"[{""id"": 878, ""name"": ""Science Fiction""}, {""id"": 1, ""name"": ""Foreign""}]"#,
                "Avatar",
                "11800"
            ),
            row("[]", "Nothing", "3"),
            row(r#"[{""id"": 18, ""name"": ""Drama""}]"#, "Unseen", "0"),
        );
        let parsed = read(&text);
        assert_eq!(parsed.format, Format::Tmdb5000);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.movies.len(), 2);
        assert_eq!(parsed.skipped, 1);
        assert_eq!(parsed.movies[0].genres, [Genre::SciFi]);
        assert_eq!(parsed.movies[0].year, Some(2009));
        assert_eq!(parsed.movies[0].rating, Some(7.2));
        assert_eq!(parsed.movies[1].rating, None);
        let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert!(
            warnings.iter().any(|w| w.contains("\"Foreign\" (1 rows)")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("skipped 1 rows without a known genre (the first on line 3)")),
            "{warnings:?}"
        );
    }

    #[test]
    fn unknown_layouts_and_empty_files_are_errors() {
        assert!(matches!(
            parse("x.csv", "a,b,c\n1,2,3\n".as_bytes()),
            Err(CatalogError::UnknownFormat { .. })
        ));
        assert!(matches!(
            parse("x.csv", "".as_bytes()),
            Err(CatalogError::EmptyFile { .. })
        ));
    }

    #[test]
    fn numbers_in_their_source_forms() {
        assert_eq!(parse_runtime("142 min"), Ok(142));
        assert_eq!(parse_runtime("94.0"), Ok(94));
        assert!(parse_runtime("0").is_err());
        assert!(parse_runtime("long").is_err());
        assert_eq!(parse_votes("28,341,469"), Ok(28_341_469));
        assert!(parse_rating("10.5").is_err());
        assert!(parse_rating("NaN").is_err());
        assert!(parse_year("PG").is_err());
    }
}
