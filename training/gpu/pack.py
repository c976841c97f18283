#!/usr/bin/env python3
"""Packs FER-2013 (Training + PublicTest) and the FER+ votes into one compact file (uint8
arrays in an .npz, xz-compressed) that train.py reads with --data, for a machine that should
not get the CSV files (e.g. a GPU machine whose upload is size-limited).

    python training/gpu/pack.py --data fer2013.csv.gz --ferplus fer2013new.csv --out fer.npz.xz

The pack holds the dataset itself: keep it out of version control, as the CSV files are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from moodreel_gpu import data  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="FER-2013 Kaggle CSV (plain or .gz)")
    parser.add_argument("--ferplus", type=Path, help="FER+ vote file")
    parser.add_argument("--out", required=True, type=Path, help="the pack to write (name ends in .npz.xz)")
    args = parser.parse_args()
    if not args.out.name.endswith(data.PACK_SUFFIX):
        parser.error(f"--out must end in {data.PACK_SUFFIX}")
    try:
        splits = data.read_fer_csv(args.data)
        votes = data.read_ferplus(args.ferplus) if args.ferplus else None
    except (OSError, data.DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    data.write_pack(args.out, splits, votes)
    sizes = ", ".join(f"{name} {len(split)}" for name, split in splits.items())
    print(f"{args.out}: {sizes} faces; {args.out.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
