#!/usr/bin/env python3
"""Writes the fixture of the PyTorch ↔ Rust equivalence test
(crates/expression/tests/torch_equivalence.rs): a small network with seeded random weights and
batch-norm statistics far from the identity, exported as a model folder, a few dozen synthetic
48×48 faces, and the logits PyTorch computes for them in float32 on the CPU.

    python training/gpu/export_fixture.py crates/expression/tests/fixtures/torch_export
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from moodreel_gpu.data import FACE_SIDE  # noqa: E402
from moodreel_gpu.net import ExpressionNet, normalise, save_model  # noqa: E402

SEED = 20261204
FACES = 32
NETWORK = {"channels": [4, 8, 8, 16], "convs": [1, 2, 1, 2], "hidden": 16, "dropout": 0.4}


def synthetic_faces(rng: np.random.Generator) -> np.ndarray:
    """Smooth shapes with noise: gradients, blobs and stripes, so every filter sees structure."""
    ys, xs = np.mgrid[0:FACE_SIDE, 0:FACE_SIDE].astype(np.float64) / (FACE_SIDE - 1)
    faces = []
    for _ in range(FACES):
        cx, cy, radius = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.4)
        blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        stripes = np.sin((xs * rng.uniform(2, 12) + ys * rng.uniform(-6, 6)) * np.pi)
        image = 128 + rng.uniform(-80, 80) * blob + rng.uniform(-40, 40) * stripes
        image += rng.uniform(-60, 60) * (xs - 0.5) + rng.normal(0, rng.uniform(2, 25), xs.shape)
        faces.append(np.clip(np.round(image), 0, 255).astype(np.uint8))
    return np.stack(faces)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "crates/expression/tests/fixtures/torch_export")
    torch.manual_seed(SEED)
    net = ExpressionNet(NETWORK)
    with torch.no_grad():
        for block in net.blocks:
            for norm in block.norms:
                channels = norm.num_features
                norm.weight.copy_(torch.empty(channels).uniform_(0.5, 1.5))
                norm.bias.copy_(torch.empty(channels).uniform_(-0.5, 0.5))
                norm.running_mean.copy_(torch.empty(channels).uniform_(-0.3, 0.3))
                norm.running_var.copy_(torch.empty(channels).uniform_(0.2, 2.0))
        for linear in (net.hidden, net.output):
            linear.bias.copy_(torch.empty_like(linear.bias).uniform_(-0.2, 0.2))
        # Logits of a few units, like a trained model's, so a tolerance of 1e-4 means something.
        net.output.weight.mul_(10.0)
    net.eval()
    faces = synthetic_faces(np.random.default_rng(SEED))
    with torch.no_grad():
        logits = net(normalise(torch.from_numpy(faces)).unsqueeze(1)).numpy()
    save_model(net, out / "model")
    (out / "faces.bin").write_bytes(faces.tobytes())
    (out / "logits.json").write_text(
        json.dumps({"seed": SEED, "faces": FACES, "logits": [[float(v) for v in row] for row in logits]}, indent=1)
        + "\n"
    )
    print(f"{out}: {FACES} faces, logits in [{logits.min():.3f}, {logits.max():.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
