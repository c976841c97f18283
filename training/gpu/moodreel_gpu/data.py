"""Readers for FER-2013 (Kaggle CSV, plain or gzip) and the FER+ votes, with the same joins and
drops as the Rust `dataset` crate, and the compact pack (uint8 arrays, xz) that carries both to
a machine without the CSV files.

Bad rows are reported as `file:line: column: problem`, as the Rust readers do.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FACE_SIDE = 48
FACE_PIXELS = FACE_SIDE * FACE_SIDE
EMOTION_COUNT = 7
SPLITS = ("Training", "PublicTest", "PrivateTest")

# FER+ vote columns in FER-2013 class order (angry, disgust, fear, happy, sad, surprise,
# neutral). Contempt has no FER-2013 class; its votes count as disgust, as in crates/dataset.
VOTE_COLUMNS = (
    ("anger", 0),
    ("disgust", 1),
    ("fear", 2),
    ("happiness", 3),
    ("sadness", 4),
    ("surprise", 5),
    ("neutral", 6),
    ("contempt", 1),
)


class DataError(Exception):
    """A file that does not hold what it should (message names file:line and column)."""


@dataclass
class FerSplit:
    """48×48 grey faces as uint8 `[n, 48, 48]`, FER labels, original row indices (-1 unknown)
    and, after a FER+ join, soft labels `[n, 7]`."""

    pixels: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    soft_labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=EMOTION_COUNT)


@dataclass
class FerPlusVotes:
    """FER+ soft labels by original FER-2013 row, and the rows annotators rejected."""

    by_row: dict[int, np.ndarray] = field(default_factory=dict)
    dropped: set[int] = field(default_factory=set)


def _open_text(path: Path) -> io.TextIOBase:
    raw = path.open("rb")
    magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", newline="")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _column(header: list[str], name: str, path: Path, required: bool = True) -> int | None:
    for index, text in enumerate(header):
        if text.strip().lower() == name.lower():
            return index
    if required:
        raise DataError(f"{path}: no column {name!r} (found {','.join(header)})")
    return None


def read_fer_csv(path: Path, wanted: tuple[str, ...] = ("Training", "PublicTest")) -> dict[str, FerSplit]:
    """The Kaggle layout `emotion,pixels,Usage[,row,...]`: one FerSplit per wanted split."""
    path = Path(path)
    collected: dict[str, tuple[list, list, list]] = {name: ([], [], []) for name in wanted}
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{path}:1: -: the file is empty") from None
        emotion_col = _column(header, "emotion", path)
        pixels_col = _column(header, "pixels", path)
        usage_col = _column(header, "Usage", path)
        row_col = _column(header, "row", path, required=False)
        for record in reader:
            line = reader.line_num

            def bad(column: str, problem: str) -> DataError:
                return DataError(f"{path}:{line}: {column}: {problem}")

            def get(index: int, name: str) -> str:
                if index >= len(record):
                    raise bad(name, "missing field")
                return record[index]

            usage = get(usage_col, "Usage").strip()
            split = next((s for s in SPLITS if s.lower() == usage.lower()), None)
            if split is None:
                raise bad("Usage", f"unknown split {usage!r}")
            if split not in collected:
                continue
            emotion = get(emotion_col, "emotion")
            try:
                label = int(emotion.strip())
            except ValueError:
                label = -1
            if not 0 <= label < EMOTION_COUNT:
                raise bad("emotion", f"{emotion!r} is not a class id 0..=6")
            values = get(pixels_col, "pixels").split()
            try:
                face = np.array([int(v) for v in values], dtype=np.int32)
            except ValueError:
                raise bad("pixels", "a value is not a grey level 0..=255") from None
            if face.size != FACE_PIXELS:
                raise bad("pixels", f"{face.size} values, expected {FACE_PIXELS} (48×48)")
            if face.min() < 0 or face.max() > 255:
                raise bad("pixels", "a value is not a grey level 0..=255")
            row = -1
            if row_col is not None and row_col < len(record) and record[row_col].strip():
                try:
                    row = int(record[row_col].strip())
                except ValueError:
                    raise bad("row", f"{record[row_col]!r} is not a row index") from None
            faces, labels, rows = collected[split]
            faces.append(face.astype(np.uint8))
            labels.append(label)
            rows.append(row)
    result = {}
    for name, (faces, labels, rows) in collected.items():
        result[name] = FerSplit(
            pixels=np.stack(faces).reshape(-1, FACE_SIDE, FACE_SIDE)
            if faces
            else np.zeros((0, FACE_SIDE, FACE_SIDE), np.uint8),
            labels=np.array(labels, dtype=np.uint8),
            rows=np.array(rows, dtype=np.int64),
        )
    return result


def read_ferplus(path: Path) -> FerPlusVotes:
    """A FER+ vote file. With a `row` column that is the join key; without one, data row i is
    FER-2013 row i. A face is dropped when `unknown` or `NF` outvotes every emotion."""
    path = Path(path)
    votes = FerPlusVotes()
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = [(_column(header, name, path), name, emotion) for name, emotion in VOTE_COLUMNS]
        unknown = _column(header, "unknown", path)
        not_face = _column(header, "NF", path)
        row_col = _column(header, "row", path, required=False)
        for index, record in enumerate(reader):
            line = reader.line_num

            def number(column: int, name: str) -> float:
                text = record[column].strip() if column < len(record) else ""
                try:
                    value = float(text)
                except ValueError:
                    value = float("nan")
                if not (np.isfinite(value) and value >= 0):
                    raise DataError(f"{path}:{line}: {name}: {text!r} is not a vote count")
                return value

            if row_col is not None:
                text = record[row_col].strip() if row_col < len(record) else ""
                if not text:
                    continue
                try:
                    row = int(text)
                except ValueError:
                    raise DataError(f"{path}:{line}: row: {text!r} is not a row index") from None
            else:
                row = index
            counts = np.zeros(EMOTION_COUNT, np.float32)
            best = 0.0
            for column, name, emotion in columns:
                value = number(column, name)
                counts[emotion] += value
                best = max(best, value)
            rejected = max(number(unknown, "unknown"), number(not_face, "NF"))
            total = float(counts.sum())
            if rejected > best or total <= 0:
                votes.dropped.add(row)
                continue
            votes.by_row[row] = counts / total
    return votes


def join_ferplus(split: FerSplit, votes: FerPlusVotes) -> tuple[FerSplit, dict[str, int]]:
    """Soft labels for faces with a FER+ row, rejected faces dropped, a one-hot label kept for
    faces without a FER+ row; the counts as `moodreel train` prints them."""
    keep, soft = [], []
    counts = {"matched": 0, "dropped": 0, "unmatched": 0}
    for index, (label, row) in enumerate(zip(split.labels, split.rows)):
        row = int(row)
        if row >= 0 and row in votes.dropped:
            counts["dropped"] += 1
            continue
        if row >= 0 and row in votes.by_row:
            counts["matched"] += 1
            soft.append(votes.by_row[row])
        else:
            counts["unmatched"] += 1
            one_hot = np.zeros(EMOTION_COUNT, np.float32)
            one_hot[label] = 1.0
            soft.append(one_hot)
        keep.append(index)
    keep = np.array(keep, dtype=np.int64)
    joined = FerSplit(
        pixels=split.pixels[keep],
        labels=split.labels[keep],
        rows=split.rows[keep],
        soft_labels=np.stack(soft).astype(np.float32) if soft else np.zeros((0, EMOTION_COUNT), np.float32),
    )
    return joined, counts


# --- the pack: everything training needs, as arrays in one xz-compressed .npz -----------------

PACK_SUFFIX = ".npz.xz"


def write_pack(path: Path, splits: dict[str, FerSplit], votes: FerPlusVotes | None) -> None:
    """Writes the splits (and the parsed FER+ votes) as uint8/int arrays in an .npz, xz'd."""
    arrays = {}
    for name, split in splits.items():
        arrays[f"{name}_pixels"] = split.pixels
        arrays[f"{name}_labels"] = split.labels
        arrays[f"{name}_rows"] = split.rows
    if votes is not None:
        rows = np.array(sorted(votes.by_row), dtype=np.int64)
        arrays["ferplus_rows"] = rows
        arrays["ferplus_probabilities"] = (
            np.stack([votes.by_row[r] for r in rows]).astype(np.float32)
            if len(rows)
            else np.zeros((0, EMOTION_COUNT), np.float32)
        )
        arrays["ferplus_dropped"] = np.array(sorted(votes.dropped), dtype=np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    # Faces are smooth: a byte-delta filter before LZMA2 packs them tighter than LZMA2 alone.
    filters = [{"id": lzma.FILTER_DELTA, "dist": 1}, {"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    Path(path).write_bytes(lzma.compress(buffer.getvalue(), format=lzma.FORMAT_XZ, filters=filters))


def read_pack(path: Path) -> tuple[dict[str, FerSplit], FerPlusVotes | None]:
    with np.load(io.BytesIO(lzma.decompress(Path(path).read_bytes()))) as arrays:
        splits = {}
        for name in SPLITS:
            if f"{name}_pixels" in arrays:
                splits[name] = FerSplit(
                    pixels=arrays[f"{name}_pixels"],
                    labels=arrays[f"{name}_labels"],
                    rows=arrays[f"{name}_rows"],
                )
        votes = None
        if "ferplus_rows" in arrays:
            votes = FerPlusVotes(
                by_row={int(r): p for r, p in zip(arrays["ferplus_rows"], arrays["ferplus_probabilities"])},
                dropped={int(r) for r in arrays["ferplus_dropped"]},
            )
    return splits, votes


def load(data: Path, ferplus: Path | None) -> tuple[dict[str, FerSplit], FerPlusVotes | None]:
    """Training and PublicTest from a Kaggle CSV or a pack; FER+ votes from their file or the
    pack (a --ferplus file wins)."""
    data = Path(data)
    if data.name.endswith(PACK_SUFFIX):
        splits, votes = read_pack(data)
    else:
        splits, votes = read_fer_csv(data), None
    if ferplus is not None:
        votes = read_ferplus(Path(ferplus))
    return splits, votes
