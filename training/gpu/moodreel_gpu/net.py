"""The expression network of crates/expression (`network.rs`), in PyTorch, and its export to
the Rust model folder: `config.json` + `model.safetensors` with burn's parameter names and
layouts (linear weights stored `[in, out]`, batch norm as gamma/beta/running_mean/running_var).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .data import EMOTION_COUNT, FACE_SIDE

# crates/faceinput/src/lib.rs (FER2013_NORMALISATION): mean and standard deviation of FER-2013
# training pixels.
PIXEL_MEAN = 0.5077
PIXEL_STD = 0.2550
# burn's BatchNorm defaults, which the Rust model uses when it folds the statistics.
BATCH_NORM_EPSILON = 1e-5


def normalise(levels: torch.Tensor) -> torch.Tensor:
    """Grey levels (0..255, any float or int tensor) to the network's input scale."""
    return (levels.float() / 255.0 - PIXEL_MEAN) / PIXEL_STD


class ConvBlock(nn.Module):
    """`convs` × (3×3 convolution without bias → batch norm → ReLU), then 2×2 max pooling."""

    def __init__(self, channels_in: int, channels_out: int, convs: int):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        channels = channels_in
        for _ in range(convs):
            self.convs.append(nn.Conv2d(channels, channels_out, 3, padding=1, bias=False))
            self.norms.append(nn.BatchNorm2d(channels_out, eps=BATCH_NORM_EPSILON))
            channels = channels_out
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x = torch.relu(norm(conv(x)))
        return self.pool(x)


class ExpressionNet(nn.Module):
    """Conv blocks, then dropout → hidden linear → ReLU → dropout → 7 logits."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)
        channels, convs = config["channels"], config["convs"]
        if len(channels) != len(convs) or not channels:
            raise ValueError("network: channels and convs must be non-empty and of one length")
        self.blocks = nn.ModuleList()
        channels_in = 1
        for channels_out, count in zip(channels, convs):
            self.blocks.append(ConvBlock(channels_in, channels_out, count))
            channels_in = channels_out
        side = FACE_SIDE >> len(channels)
        self.dropout = nn.Dropout(config["dropout"])
        self.hidden = nn.Linear(channels_in * side * side, config["hidden"])
        self.output = nn.Linear(config["hidden"], EMOTION_COUNT)

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        x = faces
        for block in self.blocks:
            x = block(x)
        x = torch.flatten(x, 1)
        x = torch.relu(self.hidden(self.dropout(x)))
        return self.output(self.dropout(x))


def burn_state(net: ExpressionNet) -> dict[str, torch.Tensor]:
    """The parameters under the names and layouts burn's SafetensorsStore reads."""
    tensors: dict[str, torch.Tensor] = {}
    for b, block in enumerate(net.blocks):
        for c, conv in enumerate(block.convs):
            tensors[f"blocks.{b}.convs.{c}.weight"] = conv.weight
        for n, norm in enumerate(block.norms):
            prefix = f"blocks.{b}.norms.{n}"
            tensors[f"{prefix}.gamma"] = norm.weight
            tensors[f"{prefix}.beta"] = norm.bias
            tensors[f"{prefix}.running_mean"] = norm.running_mean
            tensors[f"{prefix}.running_var"] = norm.running_var
    for name in ("hidden", "output"):
        linear = getattr(net, name)
        tensors[f"{name}.weight"] = linear.weight.t()  # burn stores [in, out]
        tensors[f"{name}.bias"] = linear.bias
    return {k: v.detach().float().cpu().contiguous() for k, v in tensors.items()}


def save_model(net: ExpressionNet, folder: Path) -> None:
    """Writes a model folder for `moodreel --model DIR`: config.json + model.safetensors."""
    from safetensors.torch import save_file

    folder = Path(folder)
    staging = folder.with_name(folder.name + ".tmp")
    staging.mkdir(parents=True, exist_ok=True)
    # The input the weights expect, as `moodreel train` records it (the Rust loader refuses a
    # model whose `input` differs from its own preprocessing).
    config = {**net.config, "input": {"side": FACE_SIDE, "pixel_mean": PIXEL_MEAN, "pixel_std": PIXEL_STD}}
    (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    save_file(burn_state(net), str(staging / "model.safetensors"), metadata={"format": "safetensors"})
    if folder.exists():
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()
    staging.rename(folder)
