#!/usr/bin/env python3
"""Trains several network shapes side by side on one GPU within a time budget: the run used to
explore the accuracy / inference-time frontier on a lent GPU machine.

    python training/gpu/sweep.py --data fer.npz.xz --budget 420 --out runs/sweep configs/*.json

Each config is a train_config.json. First every config trains 2 epochs at once (a probe of the
time per epoch when they share the GPU); then each is trained from scratch, all at once, with
the most epochs (up to its own `epochs`) that fit the budget at the probed speed. Every run's
epoch count is written in its train_config.json, so `train.py --config that-file` repeats it.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def launch(config: Path, data: Path, out: Path, epochs: int, log: Path, limit: int | None) -> subprocess.Popen:
    command = [sys.executable, str(HERE / "train.py"), "--data", str(data), "--config", str(config),
               "--epochs", str(epochs), "--out", str(out)]
    if limit:
        command += ["--limit", str(limit)]
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--budget", type=float, required=True, help="seconds for the real runs")
    parser.add_argument("--min-epochs", type=int, default=30)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--limit", type=int, help="train.py --limit (a smoke test on a CPU)")
    parser.add_argument("configs", nargs="+", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = [c.stem for c in args.configs]

    started = time.perf_counter()
    probes = [launch(c, args.data, args.out / "probe" / n, 2, args.out / f"probe-{n}.log", args.limit)
              for c, n in zip(args.configs, names)]
    for p in probes:
        p.wait()
    per_epoch = {}
    for n in names:
        lines = (args.out / "probe" / n / "metrics.jsonl").read_text().splitlines()
        per_epoch[n] = json.loads(lines[-1])["seconds"]
    print(f"probe took {time.perf_counter() - started:.0f} s; seconds per epoch when shared: {per_epoch}", flush=True)

    runs = {}
    for config, n in zip(args.configs, names):
        wanted = json.loads(config.read_text())["epochs"]
        epochs = max(args.min_epochs, min(wanted, math.floor(args.budget / per_epoch[n])))
        print(f"{n}: {epochs} epochs", flush=True)
        runs[n] = launch(config, args.data, args.out / n, epochs, args.out / f"{n}.log", args.limit)
    deadline = time.perf_counter() + args.budget + 45
    for n, p in runs.items():
        try:
            p.wait(timeout=max(deadline - time.perf_counter(), 1))
        except subprocess.TimeoutExpired:
            p.kill()
            print(f"{n}: stopped at the deadline", flush=True)
    for n in names:
        metrics = [json.loads(l) for l in (args.out / n / "metrics.jsonl").read_text().splitlines() if l.strip()]
        if metrics:
            best = max(metrics, key=lambda m: m["val_accuracy"])
            best_tta = max(metrics, key=lambda m: m["val_accuracy_tta"])
            print(f"{n}: {len(metrics)} epochs, best {best['val_accuracy']:.4f} at {best['epoch']}"
                  f" ({best['val_accuracy_tta']:.4f} mirrored there); best mirrored {best_tta['val_accuracy_tta']:.4f}"
                  f" at {best_tta['epoch']}; last {metrics[-1]['val_accuracy']:.4f} / {metrics[-1]['val_accuracy_tta']:.4f}",
                  flush=True)
    print(f"sweep took {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
