#!/usr/bin/env python3
"""Trains moodreel's expression network on a GPU (or CPU) with PyTorch.

    python training/gpu/train.py --data fer2013.csv.gz --ferplus fer2013new.csv \
        --config models/expression/train_config.json --out runs/gpu

Reads the Kaggle FER-2013 CSV (plain or gz) or a pack made by pack.py, the FER+ vote file,
and a train_config.json with the fields of `moodreel train`'s TrainConfig. Writes into --out:
train_config.json, metrics.jsonl (one line per epoch), checkpoint.pt (resume with --resume),
best/ (the model with the best PublicTest accuracy: config.json + model.safetensors, read by
`moodreel --model DIR` and by the embedded-model build) and last/ (the final weights).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from moodreel_gpu import data  # noqa: E402
from moodreel_gpu.trainer import train  # noqa: E402

# TrainConfig's defaults (crates/train/src/trainer.rs), for fields a config file leaves out.
DEFAULTS = {
    "network": {"channels": [32, 64, 128, 256], "convs": [1, 2, 2, 2], "hidden": 256, "dropout": 0.4},
    "augment": {"max_shift": 0.1, "max_rotation_degrees": 15.0, "max_scale": 0.15,
                "max_contrast": 0.3, "max_brightness": 25.0, "erase_probability": 0.5},
    "epochs": 40, "batch": 64, "learning_rate": 0.05, "warmup_epochs": 1.0, "momentum": 0.9,
    "weight_decay": 5e-4, "label_smoothing": 0.1, "ferplus_weight": 0.5, "class_balance": 0.3,
    "seed": 42,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="FER-2013 Kaggle CSV (plain or .gz) or a pack (.npz.xz)")
    parser.add_argument("--ferplus", type=Path, help="FER+ vote file (a pack may already hold the votes)")
    parser.add_argument("--config", type=Path, help="train_config.json; the flags below override it")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu"), help="run folder")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", default=None, help="cuda, cuda:1, cpu (default: cuda if present)")
    parser.add_argument("--limit", type=int, help="use only the first N training and validation faces (a smoke test)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--stop-after", type=int, metavar="N",
                        help="stop after epoch N of the --epochs schedule (as a run cut short by a time limit)")
    parser.add_argument("--deterministic", action="store_true",
                        help="reproducible GPU kernels (slower); without it a GPU rerun differs slightly")
    args = parser.parse_args()

    if args.deterministic:
        # cuBLAS needs a fixed workspace for reproducible results; set before CUDA starts.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    config = json.loads(json.dumps(DEFAULTS))
    if args.config:
        given = json.loads(args.config.read_text())
        unknown = set(given) - set(DEFAULTS) - {"init"}
        if unknown:
            parser.error(f"{args.config}: unknown settings {sorted(unknown)}")
        if given.get("init"):
            parser.error(f"{args.config}: `init` (starting from trained weights) is for `moodreel train`")
        given.pop("init", None)
        for key, value in given.items():
            config[key] = {**config[key], **value} if isinstance(value, dict) else value
    for flag, key in (("epochs", "epochs"), ("batch", "batch"), ("lr", "learning_rate"), ("seed", "seed")):
        if getattr(args, flag) is not None:
            config[key] = getattr(args, flag)
    if config["batch"] < 1 or config["epochs"] < 1:
        parser.error("--batch and --epochs must be at least 1")

    started = time.perf_counter()
    try:
        splits, votes = data.load(args.data, args.ferplus)
    except (OSError, data.DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    training, validation = splits["Training"], splits["PublicTest"]
    if votes is None:
        config["ferplus_weight"] = 0.0  # as `moodreel train` without --ferplus
    else:
        training, join = data.join_ferplus(training, votes)
        print(f"FER+: {join['matched']} faces with soft labels, {join['dropped']} dropped (unknown / not a face),"
              f" {join['unmatched']} without a FER+ row", file=sys.stderr)
    if args.limit:
        cut = lambda s: data.FerSplit(s.pixels[: args.limit], s.labels[: args.limit], s.rows[: args.limit],  # noqa: E731
                                      None if s.soft_labels is None else s.soft_labels[: args.limit])
        training, validation = cut(training), cut(validation)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"{len(training)} training faces, {len(validation)} PublicTest faces; {config['epochs']} epochs of"
          f" {config['batch']} faces per step on {device} (data read in {time.perf_counter() - started:.1f} s)",
          file=sys.stderr)
    history = train(config, training, validation, args.out, device, resume=args.resume,
                    log=lambda line: print(line, file=sys.stderr, flush=True),
                    stop_after=args.stop_after, deterministic=args.deterministic)
    best = max(history, key=lambda m: m["val_accuracy"])
    print(f"best PublicTest accuracy {best['val_accuracy']:.4f} at epoch {best['epoch']}"
          f" ({best['val_accuracy_tta']:.4f} mirrored); model in {args.out / 'best'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
