"""Augmentation of a batch of 48×48 grey faces on the training device, the same perturbations
as crates/train/src/augment.rs: an affine warp (shift, rotation, scale) sampled bilinearly with
edge replication, a horizontal flip, contrast around the face's mean and brightness, rounding to
grey levels, and random erasing with noise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .data import FACE_SIDE


def augment(faces: torch.Tensor, config: dict, generator: torch.Generator) -> torch.Tensor:
    """Perturbed copies of `faces` (uint8 `[b, 48, 48]`) as grey levels (float, 0..255,
    whole numbers) `[b, 1, 48, 48]`; every random draw comes from `generator`."""
    device = faces.device
    batch = faces.shape[0]
    side = float(FACE_SIDE)
    centre = (side - 1.0) / 2.0

    def uniform() -> torch.Tensor:  # in [-1, 1]
        return torch.rand(batch, generator=generator, device=device) * 2.0 - 1.0

    def fraction() -> torch.Tensor:  # in [0, 1)
        return torch.rand(batch, generator=generator, device=device)

    angle = uniform() * math.radians(config["max_rotation_degrees"])
    scale = 1.0 + uniform() * config["max_scale"]
    shift_x = uniform() * config["max_shift"] * side
    shift_y = uniform() * config["max_shift"] * side
    flip = fraction() < 0.5
    contrast = 1.0 + uniform() * config["max_contrast"]
    brightness = uniform() * config["max_brightness"]

    levels = torch.arange(FACE_SIDE, device=device, dtype=torch.float32)
    ys, xs = torch.meshgrid(levels, levels, indexing="ij")
    column = lambda v: v[:, None, None]  # noqa: E731  (per-face value over the pixel grid)
    out_x = torch.where(column(flip), side - 1.0 - xs, xs)
    dx = out_x - centre - column(shift_x)
    dy = ys - centre - column(shift_y)
    sin, cos = column(torch.sin(angle)), column(torch.cos(angle))
    inverse_scale = column(1.0 / scale)
    source_x = (cos * dx + sin * dy) * inverse_scale + centre
    source_y = (-sin * dx + cos * dy) * inverse_scale + centre
    # grid_sample's coordinates: -1 and 1 are the centres of the edge pixels (align_corners);
    # "border" clamps outside coordinates to the edge, as the Rust bilinear sampler does.
    grid = torch.stack([source_x, source_y], dim=-1) / (side - 1.0) * 2.0 - 1.0
    source = faces.float().unsqueeze(1)
    warped = F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=True)
    mean = source.mean(dim=(1, 2, 3), keepdim=True)
    values = (warped - mean) * contrast[:, None, None, None] + mean + brightness[:, None, None, None]
    values = values.round().clamp(0.0, 255.0)

    erase = fraction() < config["erase_probability"]
    area = (0.02 + fraction() * 0.18) * side * side
    aspect = 0.3 + fraction() * 3.0
    width = torch.sqrt(area * aspect).round().clamp(1, FACE_SIDE)
    height = torch.sqrt(area / aspect).round().clamp(1, FACE_SIDE)
    left = torch.floor(fraction() * (side - width + 1.0))
    top = torch.floor(fraction() * (side - height + 1.0))
    inside = (
        column(erase)
        & (xs >= column(left))
        & (xs < column(left + width))
        & (ys >= column(top))
        & (ys < column(top + height))
    )
    noise = torch.randint(0, 256, (batch, FACE_SIDE, FACE_SIDE), generator=generator, device=device)
    return torch.where(inside.unsqueeze(1), noise.unsqueeze(1).float(), values)
