//! The Kaggle CSV layout: `emotion,pixels,Usage[,row,...]`, plain or gzip.

use std::io::Read;
use std::path::Path;

use faceinput::FACE_PIXELS;

use crate::{DatasetError, FerSplit, Split, open_maybe_gzip};

/// Reads the wanted splits of a Kaggle FER-2013 CSV (plain or gzip, detected by its magic
/// bytes). Returns one [`FerSplit`] per entry of `wanted`, in that order.
pub fn read_csv(path: &Path, wanted: &[Split]) -> Result<Vec<FerSplit>, DatasetError> {
    read_csv_from(open_maybe_gzip(path)?, path, wanted)
}

fn read_csv_from(
    reader: impl Read,
    path: &Path,
    wanted: &[Split],
) -> Result<Vec<FerSplit>, DatasetError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|error| csv_error(path, error))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| DatasetError::MissingColumn {
                path: path.to_owned(),
                column: name.to_owned(),
                found: headers.iter().collect::<Vec<_>>().join(","),
            })
    };
    let emotion_column = column("emotion")?;
    let pixels_column = column("pixels")?;
    let usage_column = column("Usage")?;
    let row_column = column("row").ok();

    let mut splits = vec![FerSplit::default(); wanted.len()];
    let mut record = csv::StringRecord::new();
    let mut face = Vec::with_capacity(FACE_PIXELS);
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => return Err(csv_error(path, error)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let bad = |column: &str, problem: String| DatasetError::BadRow {
            path: path.to_owned(),
            line,
            column: column.to_owned(),
            problem,
        };
        let field = |index: usize, name: &str| {
            record
                .get(index)
                .ok_or_else(|| bad(name, "missing field".to_owned()))
        };
        let usage = field(usage_column, "Usage")?;
        let split: Split = usage
            .parse()
            .map_err(|_| bad("Usage", format!("unknown split {usage:?}")))?;
        let Some(slot) = wanted.iter().position(|&w| w == split) else {
            continue;
        };
        let emotion = field(emotion_column, "emotion")?;
        let label: u8 = emotion
            .trim()
            .parse()
            .ok()
            .filter(|&label| usize::from(label) < mood::EMOTION_COUNT)
            .ok_or_else(|| bad("emotion", format!("{emotion:?} is not a class id 0..=6")))?;
        face.clear();
        for value in field(pixels_column, "pixels")?.split_ascii_whitespace() {
            let level: u8 = value
                .parse()
                .map_err(|_| bad("pixels", format!("{value:?} is not a grey level 0..=255")))?;
            face.push(level);
        }
        if face.len() != FACE_PIXELS {
            return Err(bad(
                "pixels",
                format!("{} values, expected {FACE_PIXELS} (48×48)", face.len()),
            ));
        }
        let row = match row_column.and_then(|index| record.get(index)) {
            Some(text) if !text.trim().is_empty() => Some(
                text.trim()
                    .parse::<u32>()
                    .map_err(|_| bad("row", format!("{text:?} is not a row index")))?,
            ),
            _ => None,
        };
        splits[slot].push(&face, label, row);
    }
    Ok(splits)
}

fn csv_error(path: &Path, error: csv::Error) -> DatasetError {
    let line = error.position().map_or(0, |p| p.line());
    DatasetError::BadRow {
        path: path.to_owned(),
        line,
        column: "-".to_owned(),
        problem: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_text(level: u8) -> String {
        vec![level.to_string(); FACE_PIXELS].join(" ")
    }

    #[test]
    fn reads_splits_and_ignores_extra_columns() {
        let text = format!(
            "emotion,pixels,Usage,row\n3,{},Training,0\n4,{},PublicTest,\n0,{},Training,7\n",
            face_text(1),
            face_text(2),
            face_text(3)
        );
        let splits = read_csv_from(
            text.as_bytes(),
            Path::new("fer.csv"),
            &[Split::Training, Split::PublicTest],
        )
        .unwrap();
        assert_eq!(splits[0].labels, vec![3, 0]);
        assert_eq!(splits[0].rows, vec![Some(0), Some(7)]);
        assert_eq!(splits[0].face(1)[0], 3);
        assert_eq!(splits[1].labels, vec![4]);
        assert_eq!(splits[1].rows, vec![None]);
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let text = format!(
            "emotion,pixels,Usage\n3,{},Training\n9,{},Training\n",
            face_text(1),
            face_text(1)
        );
        let error = read_csv_from(text.as_bytes(), Path::new("fer.csv"), &[Split::Training])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("fer.csv:3: emotion:"), "{error}");

        let short = "emotion,pixels,Usage\n3,1 2 3,Training\n";
        let error = read_csv_from(short.as_bytes(), Path::new("f.csv"), &[Split::Training])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("f.csv:2: pixels: 3 values"), "{error}");

        let missing = "emotion,Usage\n";
        let error = read_csv_from(missing.as_bytes(), Path::new("f.csv"), &[Split::Training])
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing column \"pixels\""), "{error}");
    }

    #[test]
    fn reads_gzip_files() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fer.csv.gz");
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            Default::default(),
        );
        write!(
            encoder,
            "emotion,pixels,Usage\n5,{},PrivateTest\n",
            face_text(9)
        )
        .unwrap();
        encoder.finish().unwrap();
        let splits = read_csv(&path, &[Split::PrivateTest]).unwrap();
        assert_eq!(splits[0].labels, vec![5]);
    }
}
