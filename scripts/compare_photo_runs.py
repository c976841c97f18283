#!/usr/bin/env python3
"""Compare two models photo by photo on one labelled collection.

    moodreel eval-photos DIR --json > a.json
    moodreel eval-photos DIR --json --model OTHER > b.json
    scripts/compare_photo_runs.py a.json b.json

Prints how many photos both read right, only A, only B, neither, the exact two-sided McNemar
p-value of the photos the two disagree on (how likely a split at least that uneven is if
neither model is better on such photos), and which photos each reads right alone.
Standard library only.
"""

import json
import sys
from math import comb


def load(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    return {row["file"]: row for row in report["per_image"]}


def mcnemar_exact(b, c):
    """Two-sided exact McNemar (binomial) p-value for b against c discordant pairs."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    a, b = load(argv[1]), load(argv[2])
    if a.keys() != b.keys():
        sys.exit("the two reports are not of the same photos")
    counts = {"both": 0, "only A": 0, "only B": 0, "neither": 0}
    only = {"only A": [], "only B": []}
    for file in sorted(a):
        ra, rb = bool(a[file].get("correct")), bool(b[file].get("correct"))
        if ra and rb:
            counts["both"] += 1
        elif ra:
            counts["only A"] += 1
            only["only A"].append((file, a[file]["label"], b[file].get("emotion")))
        elif rb:
            counts["only B"] += 1
            only["only B"].append((file, a[file]["label"], a[file].get("emotion")))
        else:
            counts["neither"] += 1
    print(", ".join(f"{key}: {value}" for key, value in counts.items()))
    p = mcnemar_exact(counts["only A"], counts["only B"])
    print(f"exact McNemar p = {p:.4f} ({len(a)} photos)")
    for key, rows in only.items():
        print(f"{key} (file, label, the other model's reading):")
        for file, label, other in rows:
            print(f"  {file}  {label}  {other}")


if __name__ == "__main__":
    main(sys.argv)
