//! Each film's tone: how pleasant, how intense and how dark it is, a few tone tags, and the dark
//! themes it deals with.
//!
//! The tone comes from the best knowledge at hand. Films the project knows (the built-in
//! catalog, also when one of them appears in an imported catalog, matched by title and year)
//! carry hand-set tone facts from `data/tone.csv`. For every other film it is read from the
//! genres and from the words of the overview, tagline and keywords, with the project's own
//! vocabulary in `data/tone_lexicon.txt`. `docs/recommending.md` explains both with examples.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::genre::Genre;
use crate::movie::{Movie, title_key};

/// The project's tone vocabulary (see the file's header for its format and licence).
pub const TONE_LEXICON: &str = include_str!("../data/tone_lexicon.txt");

/// Hand-set tone facts and one-line synopses for the built-in catalog's films.
const TONE_FACTS_CSV: &str = include_str!("../data/tone.csv");

/// Other titles the built-in films are known by (original-language and full release titles, as
/// some catalogs list them), so that their hand-set facts follow them: `title,year,also_known_as`.
/// Facts about the films' names, written by the project.
const TONE_AKA_CSV: &str = include_str!("../data/tone_aka.csv");

/// A word that describes how a film feels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToneTag {
    /// Leaves the viewer happier: warm, light, ends well.
    FeelGood,
    /// Kindness, friendship, family.
    HeartWarming,
    /// Made to make people laugh.
    Funny,
    /// Playful invention, gentle magic.
    Whimsical,
    /// Looks to a better future.
    Hopeful,
    /// People at their best: courage, triumph.
    Inspiring,
    /// A love story at its heart.
    Romantic,
    /// Adventure, action and momentum.
    Exciting,
    /// Calm and unhurried.
    Gentle,
    /// Sad in a way that moves rather than crushes.
    Poignant,
    /// Plays with reality, time or memory.
    MindBending,
    /// Suspense and threat.
    Tense,
    /// Made to frighten.
    Scary,
    /// Morally grim: crime, violence, corruption.
    Dark,
    /// Without hope or comfort.
    Bleak,
    /// Hard to sit through: atrocity, cruelty, suffering shown.
    Harrowing,
}

impl ToneTag {
    /// Every tag, in declaration order.
    pub const ALL: [ToneTag; 16] = [
        ToneTag::FeelGood,
        ToneTag::HeartWarming,
        ToneTag::Funny,
        ToneTag::Whimsical,
        ToneTag::Hopeful,
        ToneTag::Inspiring,
        ToneTag::Romantic,
        ToneTag::Exciting,
        ToneTag::Gentle,
        ToneTag::Poignant,
        ToneTag::MindBending,
        ToneTag::Tense,
        ToneTag::Scary,
        ToneTag::Dark,
        ToneTag::Bleak,
        ToneTag::Harrowing,
    ];

    /// The tag's position in [`ToneTag::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The tag as written in data files and JSON (`feel-good`).
    pub fn name(self) -> &'static str {
        match self {
            ToneTag::FeelGood => "feel-good",
            ToneTag::HeartWarming => "heart-warming",
            ToneTag::Funny => "funny",
            ToneTag::Whimsical => "whimsical",
            ToneTag::Hopeful => "hopeful",
            ToneTag::Inspiring => "inspiring",
            ToneTag::Romantic => "romantic",
            ToneTag::Exciting => "exciting",
            ToneTag::Gentle => "gentle",
            ToneTag::Poignant => "poignant",
            ToneTag::MindBending => "mind-bending",
            ToneTag::Tense => "tense",
            ToneTag::Scary => "scary",
            ToneTag::Dark => "dark",
            ToneTag::Bleak => "bleak",
            ToneTag::Harrowing => "harrowing",
        }
    }

    /// Reads a tag's name.
    pub fn from_name(name: &str) -> Option<ToneTag> {
        ToneTag::ALL.into_iter().find(|tag| tag.name() == name)
    }

    /// How the tag moves valence, arousal and darkness when it is hand-set.
    fn nudge(self) -> [f64; 3] {
        match self {
            ToneTag::FeelGood => [0.35, 0.0, -0.2],
            ToneTag::HeartWarming => [0.25, -0.05, -0.1],
            ToneTag::Funny => [0.2, 0.05, -0.05],
            ToneTag::Whimsical => [0.15, 0.0, -0.05],
            ToneTag::Hopeful => [0.2, 0.0, -0.1],
            ToneTag::Inspiring => [0.2, 0.05, -0.05],
            ToneTag::Romantic => [0.1, 0.0, -0.03],
            ToneTag::Exciting => [0.05, 0.2, 0.0],
            ToneTag::Gentle => [0.1, -0.25, -0.1],
            ToneTag::Poignant => [-0.15, -0.05, 0.1],
            ToneTag::MindBending => [0.0, 0.1, 0.05],
            ToneTag::Tense => [-0.1, 0.2, 0.1],
            ToneTag::Scary => [-0.2, 0.2, 0.2],
            ToneTag::Dark => [-0.25, 0.05, 0.25],
            ToneTag::Bleak => [-0.35, -0.05, 0.3],
            ToneTag::Harrowing => [-0.4, 0.1, 0.35],
        }
    }
}

impl fmt::Display for ToneTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A theme heavy enough that a film dealing with it is never offered to lift a mood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DarkTheme {
    /// Genocide, the Holocaust.
    Genocide,
    /// Massacres and war crimes.
    WarAtrocity,
    /// Child, sexual or domestic abuse.
    Abuse,
    /// Drug or alcohol addiction.
    Addiction,
    /// Suicide.
    Suicide,
    /// Terminal illness: cancer, dementia and the like.
    TerminalIllness,
    /// Torture.
    Torture,
}

impl DarkTheme {
    /// Every theme.
    pub const ALL: [DarkTheme; 7] = [
        DarkTheme::Genocide,
        DarkTheme::WarAtrocity,
        DarkTheme::Abuse,
        DarkTheme::Addiction,
        DarkTheme::Suicide,
        DarkTheme::TerminalIllness,
        DarkTheme::Torture,
    ];

    /// The theme as written in data files (`war-atrocity`).
    pub fn name(self) -> &'static str {
        match self {
            DarkTheme::Genocide => "genocide",
            DarkTheme::WarAtrocity => "war-atrocity",
            DarkTheme::Abuse => "abuse",
            DarkTheme::Addiction => "addiction",
            DarkTheme::Suicide => "suicide",
            DarkTheme::TerminalIllness => "terminal-illness",
            DarkTheme::Torture => "torture",
        }
    }

    /// The theme in words for people (`war atrocity`).
    pub fn words(self) -> &'static str {
        match self {
            DarkTheme::WarAtrocity => "war atrocity",
            DarkTheme::TerminalIllness => "terminal illness",
            other => other.name(),
        }
    }

    /// Reads a theme's name.
    pub fn from_name(name: &str) -> Option<DarkTheme> {
        DarkTheme::ALL
            .into_iter()
            .find(|theme| theme.name() == name)
    }
}

impl fmt::Display for DarkTheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of tone tags, kept inline (one bit per tag) so that ranking thousands of films reads
/// them without a pointer chase. In JSON: a list of tag names, in [`ToneTag::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ToneTags(u32);

impl ToneTags {
    /// Whether the set holds `tag`.
    pub fn contains(self, tag: ToneTag) -> bool {
        self.0 & (1 << tag.index()) != 0
    }

    /// Adds `tag`.
    pub fn insert(&mut self, tag: ToneTag) {
        self.0 |= 1 << tag.index();
    }

    /// The tags, in [`ToneTag::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = ToneTag> {
        ToneTag::ALL
            .into_iter()
            .filter(move |tag| self.contains(*tag))
    }

    /// The set as bits (bit `i` is [`ToneTag::ALL`]`[i]`).
    pub fn bits(self) -> u32 {
        self.0
    }

    /// How many tags.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<ToneTag> for ToneTags {
    fn from_iter<I: IntoIterator<Item = ToneTag>>(tags: I) -> Self {
        let mut set = ToneTags::default();
        for tag in tags {
            set.insert(tag);
        }
        set
    }
}

impl Serialize for ToneTags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ToneTags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<ToneTag>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// A set of dark themes, kept inline like [`ToneTags`]; in JSON a list of theme names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DarkThemes(u8);

impl DarkThemes {
    /// Whether the set holds `theme`.
    pub fn contains(self, theme: DarkTheme) -> bool {
        self.0 & (1 << theme as u8) != 0
    }

    /// Adds `theme`.
    pub fn insert(&mut self, theme: DarkTheme) {
        self.0 |= 1 << theme as u8;
    }

    /// The themes, in [`DarkTheme::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = DarkTheme> {
        DarkTheme::ALL
            .into_iter()
            .filter(move |theme| self.contains(*theme))
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<DarkTheme> for DarkThemes {
    fn from_iter<I: IntoIterator<Item = DarkTheme>>(themes: I) -> Self {
        let mut set = DarkThemes::default();
        for theme in themes {
            set.insert(theme);
        }
        set
    }
}

impl Serialize for DarkThemes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for DarkThemes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<DarkTheme>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// Where a film's tone came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToneSource {
    /// The project's hand-set tone facts (`data/tone.csv`).
    HandSet,
    /// Read from the overview, tagline and keywords, and the genres.
    Text,
    /// From the genres alone (no text to read).
    Genres,
}

impl ToneSource {
    /// Every source.
    pub const ALL: [ToneSource; 3] = [ToneSource::HandSet, ToneSource::Text, ToneSource::Genres];

    /// The source as written in JSON (`hand-set`).
    pub fn name(self) -> &'static str {
        match self {
            ToneSource::HandSet => "hand-set",
            ToneSource::Text => "text",
            ToneSource::Genres => "genres",
        }
    }
}

/// How a catalog film feels, with its dark themes and where the tone came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = FilmTone))]
pub struct Tone {
    /// Pleasantness, from -1 (grim) to +1 (delightful).
    #[cfg_attr(feature = "openapi", schema(minimum = -1, maximum = 1))]
    pub valence: f64,
    /// Intensity, from 0 (calm) to 1 (relentless).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub arousal: f64,
    /// Darkness, from 0 (light) to 1 (very dark).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub darkness: f64,
    /// Tone tags.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ToneTag>))]
    pub tags: ToneTags,
    /// Dark themes the film deals with.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<DarkTheme>))]
    pub themes: DarkThemes,
    /// Where this came from.
    pub source: ToneSource,
}

impl Tone {
    /// Whether the film has this tag.
    pub fn has(&self, tag: ToneTag) -> bool {
        self.tags.contains(tag)
    }

    /// Whether the film must never be offered to lift a mood: it deals with a dark theme, or it
    /// is bleak or harrowing.
    pub fn unfit_for_lifting(&self) -> bool {
        !self.themes.is_empty() || self.has(ToneTag::Bleak) || self.has(ToneTag::Harrowing)
    }

    /// The tags as a bit set (bit `i` is [`ToneTag::ALL`]`[i]`).
    pub fn tag_bits(&self) -> u32 {
        self.tags.bits()
    }
}

/// Hand-set facts for one film the project knows.
#[derive(Debug, Clone)]
pub(crate) struct ToneFacts {
    pub tags: ToneTags,
    pub themes: DarkThemes,
    pub synopsis: Option<String>,
}

/// The hand-set facts, by (title key, year).
static TONE_FACTS: LazyLock<HashMap<(String, u16), ToneFacts>> = LazyLock::new(|| {
    read_tone_facts(TONE_FACTS_CSV).expect("data/tone.csv is valid: its unit test reads it")
});

/// A film by title key and year.
type FilmKey = (String, u16);

/// The films' other titles: (other title key, year) → (title key, year) in [`TONE_FACTS`].
static OTHER_TITLES: LazyLock<HashMap<FilmKey, FilmKey>> = LazyLock::new(|| {
    read_other_titles(TONE_AKA_CSV, &TONE_FACTS)
        .expect("data/tone_aka.csv is valid: its unit test reads it")
});

/// Reads `title,year,also_known_as` rows; every title must have facts.
fn read_other_titles(
    text: &str,
    facts: &HashMap<(String, u16), ToneFacts>,
) -> Result<HashMap<FilmKey, FilmKey>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut other = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|error| format!("tone_aka.csv:{line}: {error}"))?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let year: u16 = field(1)
            .parse()
            .map_err(|_| format!("tone_aka.csv:{line}: year {:?}", field(1)))?;
        let key = (title_key(field(0)), year);
        if !facts.contains_key(&key) {
            return Err(format!(
                "tone_aka.csv:{line}: no facts for {} ({year})",
                field(0)
            ));
        }
        other.insert((title_key(field(2)), year), key);
    }
    Ok(other)
}

/// Reads `title,year,tone,themes,synopsis` rows.
fn read_tone_facts(text: &str) -> Result<HashMap<(String, u16), ToneFacts>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut facts = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|error| format!("tone.csv:{line}: {error}"))?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let year: u16 = field(1)
            .parse()
            .map_err(|_| format!("tone.csv:{line}: year {:?}", field(1)))?;
        let split = |text: &str| -> Vec<String> {
            text.split('|')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut tags = ToneTags::default();
        for name in split(field(2)) {
            tags.insert(
                ToneTag::from_name(&name)
                    .ok_or_else(|| format!("tone.csv:{line}: unknown tone tag {name:?}"))?,
            );
        }
        let mut themes = DarkThemes::default();
        for name in split(field(3)) {
            themes.insert(
                DarkTheme::from_name(&name)
                    .ok_or_else(|| format!("tone.csv:{line}: unknown dark theme {name:?}"))?,
            );
        }
        let synopsis = Some(field(4).to_owned()).filter(|text| !text.is_empty());
        facts.insert(
            (title_key(field(0)), year),
            ToneFacts {
                tags,
                themes,
                synopsis,
            },
        );
    }
    Ok(facts)
}

/// The hand-set facts for a film, by title and year.
pub(crate) fn hand_set(movie: &Movie) -> Option<&'static ToneFacts> {
    let key = (title_key(&movie.title), movie.year?);
    TONE_FACTS.get(&key).or_else(|| {
        OTHER_TITLES
            .get(&key)
            .and_then(|known| TONE_FACTS.get(known))
    })
}

/// How many films have hand-set facts.
pub fn hand_set_count() -> usize {
    TONE_FACTS.len()
}

/// One entry of the vocabulary.
#[derive(Debug, Clone)]
struct Cue {
    /// The words; a word ending in `*` matches any word starting with the rest.
    words: Vec<String>,
    /// Valence, arousal, darkness.
    shift: [f64; 3],
    tags: Vec<ToneTag>,
    /// Tags the cue is evidence against (`not:TAG`): crude or cynical words against `feel-good`.
    against: Vec<ToneTag>,
    themes: Vec<DarkTheme>,
}

/// The vocabulary, indexed by the first word (exact) or its first four letters (prefix cues).
#[derive(Debug)]
struct Lexicon {
    cues: Vec<Cue>,
    exact: HashMap<String, Vec<usize>>,
    prefix: HashMap<String, Vec<usize>>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::parse(TONE_LEXICON).expect("data/tone_lexicon.txt is valid: its unit test reads it")
});

/// Letters a prefix cue must have before its `*`.
const PREFIX_LEN: usize = 4;

impl Lexicon {
    fn parse(text: &str) -> Result<Lexicon, String> {
        let mut lexicon = Lexicon {
            cues: Vec::new(),
            exact: HashMap::new(),
            prefix: HashMap::new(),
        };
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let content = line.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let fields: Vec<&str> = content.split_whitespace().collect();
            if !(4..=5).contains(&fields.len()) {
                return Err(format!(
                    "tone_lexicon.txt:{line_no}: expected CUE VALENCE AROUSAL DARKNESS [MARKS]"
                ));
            }
            let mut shift = [0.0; 3];
            for (value, text) in shift.iter_mut().zip(&fields[1..4]) {
                *value = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| (-1.0..=1.0).contains(v))
                    .ok_or_else(|| {
                        format!("tone_lexicon.txt:{line_no}: {text:?} is not a number in [-1, 1]")
                    })?;
            }
            let mut cue = Cue {
                words: fields[0].split('_').map(str::to_owned).collect(),
                shift,
                tags: Vec::new(),
                against: Vec::new(),
                themes: Vec::new(),
            };
            for mark in fields.get(4).map_or("", |m| m).split(',') {
                if mark.is_empty() {
                    continue;
                }
                if let Some(tag) = mark.strip_prefix("not:") {
                    cue.against.push(ToneTag::from_name(tag).ok_or_else(|| {
                        format!("tone_lexicon.txt:{line_no}: unknown tag {tag:?}")
                    })?);
                } else if let Some(theme) = mark.strip_prefix("theme:") {
                    cue.themes.push(DarkTheme::from_name(theme).ok_or_else(|| {
                        format!("tone_lexicon.txt:{line_no}: unknown theme {theme:?}")
                    })?);
                } else {
                    cue.tags.push(ToneTag::from_name(mark).ok_or_else(|| {
                        format!("tone_lexicon.txt:{line_no}: unknown tag {mark:?}")
                    })?);
                }
            }
            for word in &cue.words {
                let stem = word.strip_suffix('*').unwrap_or(word);
                if stem.is_empty()
                    || !stem.chars().all(|c| c.is_alphanumeric())
                    || (word.ends_with('*') && stem.chars().count() < PREFIX_LEN)
                {
                    return Err(format!("tone_lexicon.txt:{line_no}: bad cue word {word:?}"));
                }
            }
            let first = &cue.words[0];
            let id = lexicon.cues.len();
            match first.strip_suffix('*') {
                Some(stem) => lexicon
                    .prefix
                    .entry(stem.chars().take(PREFIX_LEN).collect())
                    .or_default()
                    .push(id),
                None => lexicon.exact.entry(first.clone()).or_default().push(id),
            }
            lexicon.cues.push(cue);
        }
        Ok(lexicon)
    }

    /// The distinct cues found in the words, in the order first met.
    fn find(&self, words: &[String]) -> Vec<usize> {
        let mut found = Vec::new();
        for start in 0..words.len() {
            let word = &words[start];
            let prefix: String = word.chars().take(PREFIX_LEN).collect();
            let candidates = self
                .exact
                .get(word)
                .into_iter()
                .flatten()
                .chain(self.prefix.get(&prefix).into_iter().flatten());
            for &id in candidates {
                if !found.contains(&id) && self.cues[id].matches(&words[start..]) {
                    found.push(id);
                }
            }
        }
        found
    }
}

impl Cue {
    fn matches(&self, words: &[String]) -> bool {
        self.words.len() <= words.len()
            && self
                .words
                .iter()
                .zip(words)
                .all(|(cue, word)| match cue.strip_suffix('*') {
                    Some(stem) => word.starts_with(stem),
                    None => cue == word,
                })
    }
}

/// Lower-case words of a text: letters and digits, apostrophes dropped (`father's` → `fathers`).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|word| {
            word.chars()
                .filter(|c| *c != '\'' && *c != '’')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
}

/// Each genre's typical valence, arousal and darkness: the starting point before the text or the
/// hand-set tags say more. Set by the project from what each genre's films are usually like.
fn genre_prior(genre: Genre) -> [f64; 3] {
    match genre {
        Genre::Family => [0.6, 0.4, 0.0],
        Genre::Musical => [0.6, 0.5, 0.05],
        Genre::Animation => [0.5, 0.5, 0.05],
        Genre::Comedy => [0.5, 0.5, 0.1],
        Genre::Music => [0.4, 0.5, 0.1],
        Genre::Romance => [0.4, 0.3, 0.1],
        Genre::Adventure => [0.3, 0.7, 0.2],
        Genre::Fantasy => [0.3, 0.6, 0.2],
        Genre::Sport => [0.3, 0.6, 0.15],
        Genre::Action => [0.0, 0.9, 0.35],
        Genre::SciFi => [0.0, 0.6, 0.35],
        Genre::Documentary => [0.0, 0.3, 0.35],
        Genre::Biography => [0.0, 0.4, 0.35],
        Genre::History => [-0.1, 0.4, 0.45],
        Genre::Western => [-0.1, 0.6, 0.45],
        Genre::Drama => [-0.2, 0.4, 0.45],
        Genre::Mystery => [-0.2, 0.6, 0.5],
        Genre::Crime => [-0.3, 0.7, 0.6],
        Genre::Thriller => [-0.3, 0.85, 0.6],
        Genre::FilmNoir => [-0.4, 0.6, 0.7],
        Genre::War => [-0.5, 0.8, 0.75],
        Genre::Horror => [-0.6, 0.9, 0.8],
    }
}

fn genres_prior(genres: &[Genre]) -> [f64; 3] {
    let mut sum = [0.0; 3];
    for genre in genres {
        for (total, value) in sum.iter_mut().zip(genre_prior(*genre)) {
            *total += value;
        }
    }
    let count = genres.len().max(1) as f64;
    sum.map(|total| total / count)
}

fn clamp_profile([valence, arousal, darkness]: [f64; 3]) -> [f64; 3] {
    [
        valence.clamp(-1.0, 1.0),
        arousal.clamp(0.0, 1.0),
        darkness.clamp(0.0, 1.0),
    ]
}

/// Rounds to two decimals, so the profile reads cleanly in JSON.
fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The tone of a film: hand-set facts when the project knows the film, otherwise read from its
/// text and genres.
pub fn tone_of(movie: &Movie) -> Tone {
    match hand_set(movie) {
        Some(facts) => from_facts(&movie.genres, facts),
        None => infer(movie),
    }
}

/// The numbers for hand-set tags: the genres' prior moved by each tag.
fn from_facts(genres: &[Genre], facts: &ToneFacts) -> Tone {
    let mut profile = genres_prior(genres);
    for tag in facts.tags.iter() {
        for (value, shift) in profile.iter_mut().zip(tag.nudge()) {
            *value += shift;
        }
    }
    let [mut valence, arousal, mut darkness] = clamp_profile(profile);
    if !facts.themes.is_empty() {
        darkness = darkness.max(0.7);
        valence = valence.min(0.0);
    }
    Tone {
        valence: round2(valence),
        arousal: round2(arousal),
        darkness: round2(darkness),
        tags: facts.tags,
        themes: facts.themes,
        source: ToneSource::HandSet,
    }
}

/// The age band from which a certificate counts as adults-only (R, NC-17, A, 18).
const ADULT_AGE: u8 = 17;

/// How far the text may move each of valence, arousal and darkness from the genres' prior.
const TEXT_REACH: [f64; 3] = [0.7, 0.4, 0.6];

/// Reads a film's tone from its overview, tagline, keywords and genres.
fn infer(movie: &Movie) -> Tone {
    let mut text_words: Vec<String> = Vec::new();
    for text in movie.overview.iter().chain(movie.tagline.iter()) {
        text_words.extend(words(text));
        text_words.push(String::new()); // a break: no phrase spans two texts
    }
    for keyword in &movie.keywords {
        text_words.extend(words(keyword));
        text_words.push(String::new());
    }
    let lexicon = &*LEXICON;
    let found = lexicon.find(&text_words);
    let has_text = text_words.iter().any(|word| !word.is_empty());

    let prior = genres_prior(&movie.genres);
    let mut sum = [0.0; 3];
    let mut evidence = [0u32; ToneTag::ALL.len()];
    let mut against = [0u32; ToneTag::ALL.len()];
    let mut themes = DarkThemes::default();
    for &id in &found {
        let cue = &lexicon.cues[id];
        for (total, shift) in sum.iter_mut().zip(cue.shift) {
            *total += shift;
        }
        for tag in &cue.tags {
            evidence[tag.index()] += 1;
        }
        for tag in &cue.against {
            against[tag.index()] += 1;
        }
        for theme in &cue.themes {
            themes.insert(*theme);
        }
    }
    // Many cues saturate rather than add up without limit.
    let mut profile = [0.0; 3];
    for i in 0..3 {
        profile[i] = prior[i] + TEXT_REACH[i] * (sum[i] / TEXT_REACH[i]).tanh();
    }
    let [mut valence, arousal, mut darkness] = clamp_profile(profile);
    if !themes.is_empty() {
        darkness = darkness.max(0.7);
        valence = valence.min(-0.2);
    }

    let has_genre = |genre: Genre| movie.genres.contains(&genre);
    let seen = |tag: ToneTag| evidence[tag.index()] > 0;
    let mut tags = ToneTags::default();
    let mut tag_if = |tag: ToneTag, condition: bool| {
        if condition {
            tags.insert(tag);
        }
    };
    let harrowing_theme = themes.iter().any(|theme| {
        matches!(
            theme,
            DarkTheme::Genocide | DarkTheme::WarAtrocity | DarkTheme::Abuse | DarkTheme::Torture
        )
    });
    let light = darkness <= 0.35 && themes.is_empty();
    let funny = (has_genre(Genre::Comedy) || seen(ToneTag::Funny)) && darkness <= 0.6;
    let heart_warming = light
        && valence >= 0.15
        && (seen(ToneTag::HeartWarming) || (has_genre(Genre::Family) && darkness <= 0.25));
    let whimsical = darkness <= 0.45
        && (seen(ToneTag::Whimsical)
            || (has_genre(Genre::Fantasy)
                && (has_genre(Genre::Family) || has_genre(Genre::Animation))));
    let inspiring = seen(ToneTag::Inspiring) && darkness <= 0.55;
    let hopeful = seen(ToneTag::Hopeful) && darkness <= 0.55;
    let romantic = has_genre(Genre::Romance) || seen(ToneTag::Romantic);
    let exciting =
        (has_genre(Genre::Action) || has_genre(Genre::Adventure) || seen(ToneTag::Exciting))
            && arousal >= 0.55
            && darkness <= 0.55;
    let gentle = arousal <= 0.35 && darkness <= 0.3 && valence >= 0.0;
    let scary = has_genre(Genre::Horror) || evidence[ToneTag::Scary.index()] >= 2;
    let tense =
        has_genre(Genre::Thriller) || seen(ToneTag::Tense) || (arousal >= 0.75 && darkness >= 0.5);
    let dark = darkness >= 0.55;
    let bleak = (darkness >= 0.7 && valence <= -0.35)
        || (seen(ToneTag::Bleak) && darkness >= 0.5)
        || themes.iter().any(|theme| {
            matches!(
                theme,
                DarkTheme::Addiction | DarkTheme::Suicide | DarkTheme::TerminalIllness
            )
        });
    let harrowing = harrowing_theme || (seen(ToneTag::Harrowing) && darkness >= 0.6);
    let poignant = !harrowing
        && (seen(ToneTag::Poignant)
            || (has_genre(Genre::Drama) && valence < 0.0 && (0.35..0.7).contains(&darkness)));
    let mind_bending = seen(ToneTag::MindBending);
    // `feel-good` is a promise to a viewer whose mood is to be lifted, so from text it needs
    // more than a pleasant genre: a light register (comedy, animation, a musical or family film
    // that is not a drama, an underdog sports story, or words that say so), warmth the text speaks of (or a family comedy
    // or animation, warm by design; or a romantic comedy), and nothing against it: no crude,
    // cynical or violent cue, no sorrow unless the text itself calls the film uplifting, and no
    // adults-only certificate unless it does (R, A and 18 mostly mean sex, violence or drugs).
    let said_feel_good = seen(ToneTag::FeelGood);
    let drama = has_genre(Genre::Drama);
    let light_register = has_genre(Genre::Comedy)
        || has_genre(Genre::Animation)
        || ((has_genre(Genre::Musical) || has_genre(Genre::Family)) && !drama)
        || (has_genre(Genre::Sport) && seen(ToneTag::Inspiring))
        || said_feel_good;
    let warmth = said_feel_good
        || seen(ToneTag::HeartWarming)
        || seen(ToneTag::Whimsical)
        || seen(ToneTag::Inspiring)
        || seen(ToneTag::Hopeful)
        || seen(ToneTag::Romantic)
        || (has_genre(Genre::Family) && (has_genre(Genre::Comedy) || has_genre(Genre::Animation)))
        || (has_genre(Genre::Romance) && has_genre(Genre::Comedy));
    let adults_only = movie
        .certificate
        .as_deref()
        .and_then(crate::age::min_age_for_certificate)
        .is_some_and(|age| age >= ADULT_AGE);
    let feel_good = valence >= 0.45
        && darkness <= 0.25
        && themes.is_empty()
        && !scary
        && !tense
        && !dark
        && !bleak
        && light_register
        && warmth
        && against[ToneTag::FeelGood.index()] == 0
        && (said_feel_good || (!seen(ToneTag::Poignant) && !adults_only));

    tag_if(ToneTag::FeelGood, feel_good);
    tag_if(ToneTag::HeartWarming, heart_warming);
    tag_if(ToneTag::Funny, funny);
    tag_if(ToneTag::Whimsical, whimsical);
    tag_if(ToneTag::Hopeful, hopeful);
    tag_if(ToneTag::Inspiring, inspiring);
    tag_if(ToneTag::Romantic, romantic);
    tag_if(ToneTag::Exciting, exciting);
    tag_if(ToneTag::Gentle, gentle);
    tag_if(ToneTag::Poignant, poignant);
    tag_if(ToneTag::MindBending, mind_bending);
    tag_if(ToneTag::Tense, tense);
    tag_if(ToneTag::Scary, scary);
    tag_if(ToneTag::Dark, dark);
    tag_if(ToneTag::Bleak, bleak);
    tag_if(ToneTag::Harrowing, harrowing);
    Tone {
        valence: round2(valence),
        arousal: round2(arousal),
        darkness: round2(darkness),
        tags,
        themes,
        source: if has_text {
            ToneSource::Text
        } else {
            ToneSource::Genres
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_and_the_hand_set_facts_load() {
        let lexicon = Lexicon::parse(TONE_LEXICON).expect("valid lexicon");
        assert!(lexicon.cues.len() > 200, "{} cues", lexicon.cues.len());
        for theme in DarkTheme::ALL {
            assert!(
                lexicon.cues.iter().any(|cue| cue.themes.contains(&theme)),
                "no cue for {theme}"
            );
        }
        let facts = read_tone_facts(TONE_FACTS_CSV).expect("valid facts");
        assert!(facts.len() >= 500);
        let other = read_other_titles(TONE_AKA_CSV, &facts).expect("valid other titles");
        assert!(other.len() >= 30);
        assert!(
            read_other_titles("title,year,also_known_as\nNo Such Film,1999,X\n", &facts).is_err()
        );
        assert!(facts.values().all(|fact| !fact.tags.is_empty()));
    }

    #[test]
    fn names_are_the_json_spellings() {
        fn json(value: impl Serialize) -> String {
            serde_json::to_value(value)
                .expect("serialises")
                .as_str()
                .expect("a string")
                .to_owned()
        }
        for tag in ToneTag::ALL {
            assert_eq!(json(tag), tag.name());
        }
        for theme in DarkTheme::ALL {
            assert_eq!(json(theme), theme.name());
        }
        for source in ToneSource::ALL {
            assert_eq!(json(source), source.name());
        }
    }

    #[test]
    fn bad_vocabulary_lines_are_refused() {
        assert!(Lexicon::parse("war 0.1 0.2").is_err());
        assert!(Lexicon::parse("war 0.1 0.2 3.0").is_err());
        assert!(Lexicon::parse("wa* 0.1 0.2 0.3").is_err());
        assert!(Lexicon::parse("war 0.1 0.2 0.3 cheerful").is_err());
        assert!(Lexicon::parse("war 0.1 0.2 0.3 theme:sadness").is_err());
    }

    fn film(title: &str, genres: &[Genre], overview: &str) -> Movie {
        let mut movie = Movie::new(title, genres.to_vec());
        movie.overview = Some(overview.into());
        movie
    }

    #[test]
    fn dark_themes_are_recognised_in_overviews_and_keywords() {
        let camp = film(
            "Unknown Camp",
            &[Genre::Drama, Genre::History],
            "A young prisoner survives the concentration camps of the Holocaust.",
        );
        let tone = tone_of(&camp);
        assert_eq!(
            tone.themes.iter().collect::<Vec<_>>(),
            [DarkTheme::Genocide]
        );
        assert!(tone.unfit_for_lifting());
        assert!(tone.has(ToneTag::Harrowing));

        let mut keyworded = Movie::new("Unknown Habit", vec![Genre::Comedy, Genre::Drama]);
        keyworded.keywords = vec!["drug addiction".into(), "suicide attempt".into()];
        let tone = tone_of(&keyworded);
        assert_eq!(
            tone.themes.iter().collect::<Vec<_>>(),
            [DarkTheme::Addiction, DarkTheme::Suicide]
        );
        assert!(!tone.has(ToneTag::FeelGood));
    }

    #[test]
    fn a_warm_comedy_reads_as_feel_good_and_a_grim_drama_does_not() {
        let warm = film(
            "Unknown Warmth",
            &[Genre::Comedy, Genre::Family],
            "A hilarious, heartwarming tale of an unlikely friendship between a girl and a talking dog.",
        );
        let tone = tone_of(&warm);
        assert_eq!(tone.source, ToneSource::Text);
        assert!(tone.has(ToneTag::FeelGood), "{tone:?}");
        assert!(tone.has(ToneTag::Funny));
        assert!(tone.valence > 0.6);
        let grim = film(
            "Unknown Grimness",
            &[Genre::Drama, Genre::Crime],
            "A brutal gangster's violent revenge leaves a town in despair.",
        );
        let tone = tone_of(&grim);
        assert!(!tone.has(ToneTag::FeelGood));
        assert!(
            tone.has(ToneTag::Bleak) || tone.has(ToneTag::Harrowing),
            "{tone:?}"
        );
        assert!(tone.darkness > 0.7);
    }

    #[test]
    fn known_films_take_the_hand_set_facts() {
        let mut movie = Movie::new("schindler's  LIST", vec![Genre::Drama]);
        movie.year = Some(1993);
        let tone = tone_of(&movie);
        assert_eq!(tone.source, ToneSource::HandSet);
        assert!(tone.themes.contains(DarkTheme::Genocide));
        movie.year = Some(1994);
        assert_ne!(tone_of(&movie).source, ToneSource::HandSet);
        // A film listed under its original title takes the same facts.
        let mut totoro = Movie::new("Tonari no Totoro", vec![Genre::Animation]);
        totoro.year = Some(1988);
        let tone = tone_of(&totoro);
        assert_eq!(tone.source, ToneSource::HandSet);
        assert!(tone.has(ToneTag::FeelGood));
    }

    #[test]
    fn words_are_lower_case_without_apostrophes() {
        let found: Vec<String> = words("Father's DAY—a re-union").collect();
        assert_eq!(found, ["fathers", "day", "a", "re", "union"]);
    }
}
