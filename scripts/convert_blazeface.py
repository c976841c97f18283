#!/usr/bin/env python3
"""Converts MediaPipe's BlazeFace face detectors from a `mediapipe` wheel into safetensors.

Usage (needs `pip install numpy tflite safetensors ai-edge-litert`):

    pip download --no-deps mediapipe==0.10.21 -d /tmp/mp
    python3 scripts/convert_blazeface.py /tmp/mp/mediapipe-0.10.21-*.whl models/blazeface

The wheel holds the models as TFLite flatbuffers with fp16 weights behind DEQUANTIZE ops (and,
for the full-range model, sparse weights behind DENSIFY ops). This script reads the graph with
the `tflite` flatbuffer package, takes each constant operand's f32 value from the reference
TFLite runtime (which performs the DEQUANTIZE/DENSIFY steps itself, so no sparse format is
re-implemented here), and writes:

- `<name>.safetensors`: convolution weights in burn's NCHW layout (`[out, in / groups, kh, kw]`)
  and biases, named `op<index>.weight` / `op<index>.bias`; the graph (a list of operations in
  TFLite's NHWC semantics, with SAME padding already resolved to explicit sides) is stored as
  JSON in the safetensors metadata under `graph`.
- `SOURCE.md` beside them is written by hand; this script prints the sha256 sums it needs.

With `--check IMAGE...` it also runs the reference runtime on the given images (letterboxed to
the model's input) and writes the input (NHWC, -1..1) and the raw outputs to `--reference-dir` (default
`target/blazeface-reference`, outside version control) as little-endian f32 files, for comparison
with the Rust implementation:
`cargo run --release -p vision --example blazeface_reference -- target/blazeface-reference`.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import zipfile

import numpy as np
import tflite
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from safetensors.numpy import save_file

MODELS = {
    "face_detection_short_range": "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    "face_detection_full_range": "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
}

OPNAMES = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def same_padding(size, kernel, stride):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def activation(code, where):
    if code == 0:
        return False
    if code == 1:
        return True
    raise SystemExit(f"{where}: unsupported fused activation {code}")


def convert(name, blob, out_dir):
    model = tflite.Model.GetRootAsModel(blob, 0)
    graph = model.Subgraphs(0)
    interpreter = Interpreter(
        model_content=blob,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
        num_threads=1,
    )
    interpreter.allocate_tensors()
    input_index = int(graph.InputsAsNumpy()[0])
    shape = [int(v) for v in graph.Tensors(input_index).ShapeAsNumpy()]
    interpreter.set_tensor(input_index, np.zeros(shape, np.float32))
    interpreter.invoke()

    def shape_of(index):
        return [int(v) for v in graph.Tensors(index).ShapeAsNumpy()]

    def const(index):
        return np.array(interpreter.get_tensor(int(index)))

    tensors = {}
    ops = []
    for k in range(graph.OperatorsLength()):
        op = graph.Operators(k)
        code_table = model.OperatorCodes(op.OpcodeIndex())
        opname = OPNAMES[max(code_table.BuiltinCode(), code_table.DeprecatedBuiltinCode())]
        inputs = [int(i) for i in op.InputsAsNumpy()]
        outputs = [int(i) for i in op.OutputsAsNumpy()]
        where = f"{name} op {k} {opname}"
        if opname in ("DEQUANTIZE", "DENSIFY"):
            continue  # constants: their outputs are read from the runtime where they are used
        if opname in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            x, w, b = inputs
            weight = const(w).astype(np.float32)
            bias = const(b).astype(np.float32) if b >= 0 else None
            _, in_h, in_w, in_c = shape_of(x)
            if opname == "CONV_2D":
                opts = tflite.Conv2DOptions()
                table = op.BuiltinOptions()
                opts.Init(table.Bytes, table.Pos)
                groups = 1
                weight = weight.transpose(0, 3, 1, 2)  # OHWI -> OIHW
            else:
                opts = tflite.DepthwiseConv2DOptions()
                table = op.BuiltinOptions()
                opts.Init(table.Bytes, table.Pos)
                if opts.DepthMultiplier() not in (0, 1):
                    raise SystemExit(f"{where}: depth multiplier {opts.DepthMultiplier()}")
                groups = in_c
                weight = weight.transpose(3, 0, 1, 2)  # 1HWC -> C1HW
            if opts.DilationHFactor() > 1 or opts.DilationWFactor() > 1:
                raise SystemExit(f"{where}: dilation")
            kh, kw = weight.shape[2], weight.shape[3]
            sh, sw = opts.StrideH(), opts.StrideW()
            if opts.Padding() == tflite.Padding.SAME:
                top, bottom = same_padding(in_h, kh, sh)
                left, right = same_padding(in_w, kw, sw)
            else:
                top = bottom = left = right = 0
            key = f"op{k}"
            tensors[f"{key}.weight"] = np.ascontiguousarray(weight)
            if bias is not None:
                tensors[f"{key}.bias"] = np.ascontiguousarray(bias)
            ops.append({
                "op": "conv", "x": x, "y": outputs[0], "param": key, "bias": bias is not None,
                "stride": [sh, sw], "pad": [top, bottom, left, right], "groups": groups,
                "relu": activation(opts.FusedActivationFunction(), where),
            })
        elif opname == "ADD":
            opts = tflite.AddOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            if shape_of(inputs[0]) != shape_of(inputs[1]):
                raise SystemExit(f"{where}: broadcasting add")
            ops.append({"op": "add", "x": inputs, "y": outputs[0],
                        "relu": activation(opts.FusedActivationFunction(), where)})
        elif opname == "RELU":
            ops.append({"op": "relu", "x": inputs[0], "y": outputs[0]})
        elif opname == "MAX_POOL_2D":
            opts = tflite.Pool2DOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            _, in_h, in_w, _ = shape_of(inputs[0])
            if opts.Padding() == tflite.Padding.SAME and (
                any(same_padding(in_h, opts.FilterHeight(), opts.StrideH()))
                or any(same_padding(in_w, opts.FilterWidth(), opts.StrideW()))
            ):
                raise SystemExit(f"{where}: padded pooling")
            activation(opts.FusedActivationFunction(), where)
            ops.append({"op": "maxpool", "x": inputs[0], "y": outputs[0],
                        "kernel": [opts.FilterHeight(), opts.FilterWidth()],
                        "stride": [opts.StrideH(), opts.StrideW()]})
        elif opname == "PAD":
            paddings = const(inputs[1]).astype(int).tolist()
            ops.append({"op": "pad", "x": inputs[0], "y": outputs[0], "pad": paddings})
        elif opname == "RESHAPE":
            ops.append({"op": "reshape", "x": inputs[0], "y": outputs[0],
                        "shape": shape_of(outputs[0])})
        elif opname == "CONCATENATION":
            opts = tflite.ConcatenationOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            activation(opts.FusedActivationFunction(), where)
            rank = len(shape_of(outputs[0]))
            ops.append({"op": "concat", "x": inputs, "y": outputs[0],
                        "axis": opts.Axis() % rank})
        elif opname == "RESIZE_BILINEAR":
            opts = tflite.ResizeBilinearOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            ops.append({"op": "resize_bilinear", "x": inputs[0], "y": outputs[0],
                        "size": shape_of(outputs[0])[1:3],
                        "align_corners": bool(opts.AlignCorners()),
                        "half_pixel": bool(opts.HalfPixelCenters())})
        elif opname == "DEPTH_TO_SPACE":
            opts = tflite.DepthToSpaceOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            ops.append({"op": "depth_to_space", "x": inputs[0], "y": outputs[0],
                        "block": opts.BlockSize()})
        else:
            raise SystemExit(f"{where}: unsupported operation")

    outputs = [int(i) for i in graph.OutputsAsNumpy()]
    names = [graph.Tensors(i).Name().decode() for i in outputs]
    # MediaPipe's order: regressors (boxes and keypoints) first, then classificators (scores).
    if shape_of(outputs[0])[-1] != 16:
        outputs.reverse()
        names.reverse()
    description = {
        "input": input_index,
        "input_shape": shape,
        "outputs": outputs,
        "output_names": names,
        "ops": ops,
    }
    path = os.path.join(out_dir, f"{name}.safetensors")
    save_file(tensors, path, metadata={"graph": json.dumps(description, separators=(",", ":"))})
    return path, interpreter, input_index, outputs


def letterbox(image_path, side):
    from PIL import Image

    image = Image.open(image_path).convert("RGB")
    scale = side / max(image.size)
    width = max(1, round(image.size[0] * scale))
    height = max(1, round(image.size[1] * scale))
    resized = image.resize((width, height), Image.BILINEAR)
    canvas = Image.new("RGB", (side, side), (0, 0, 0))
    canvas.paste(resized, ((side - width) // 2, (side - height) // 2))
    return np.asarray(canvas, np.float32) / 127.5 - 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel")
    parser.add_argument("out_dir")
    parser.add_argument("--check", nargs="*", default=[], help="images for reference outputs")
    parser.add_argument("--reference-dir", default="target/blazeface-reference",
                        help="where --check writes (default: target/blazeface-reference)")
    args = parser.parse_args()
    wheel_bytes = open(args.wheel, "rb").read()
    print(f"{os.path.basename(args.wheel)}  sha256 {sha256(wheel_bytes)}")
    os.makedirs(args.out_dir, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as wheel:
        for name, member in MODELS.items():
            blob = wheel.read(member)
            print(f"{member}  sha256 {sha256(blob)}")
            path, interpreter, input_index, outputs = convert(name, blob, args.out_dir)
            print(f"{path}  sha256 {sha256(open(path, 'rb').read())}")
            if args.check:
                side = interpreter.get_input_details()[0]["shape"][1]
                ref_dir = args.reference_dir
                os.makedirs(ref_dir, exist_ok=True)
                for image in args.check:
                    pixels = letterbox(image, side)[None]
                    interpreter.set_tensor(input_index, pixels)
                    interpreter.invoke()
                    stem = f"{name}.{os.path.splitext(os.path.basename(image))[0]}"
                    pixels.astype("<f4").tofile(os.path.join(ref_dir, f"{stem}.input.f32"))
                    for label, index in zip(("regressors", "scores"), outputs):
                        interpreter.get_tensor(index).astype("<f4").tofile(
                            os.path.join(ref_dir, f"{stem}.{label}.f32"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
