"""The training loop of crates/train/src/trainer.rs on a PyTorch device: seeded shuffling and
augmentation derived from (seed, epoch), SGD with Nesterov momentum under a linear warm-up +
cosine learning-rate schedule per step, class-balanced soft-label cross-entropy, validation on
PublicTest after every epoch, `best/` written when the accuracy improves, `metrics.jsonl` with
the Rust trainer's fields, and a checkpoint after every epoch so `--resume` continues exactly.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .augment import augment
from .data import EMOTION_COUNT, FerSplit
from .net import ExpressionNet, normalise, save_model

GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of every random choice of one epoch (crates/train: seed ^ epoch · golden)."""
    return (seed ^ ((epoch * GOLDEN) & MASK64)) & MASK64


def schedule(config: dict, step: float, steps_per_epoch: float, total_steps: float) -> float:
    """Linear warm-up to the peak, then cosine decay to zero at the last step."""
    warmup = config["warmup_epochs"] * steps_per_epoch
    if step < warmup:
        return config["learning_rate"] * (step + 1.0) / warmup
    progress = min(max((step - warmup) / max(total_steps - warmup, 1.0), 0.0), 1.0)
    return config["learning_rate"] * 0.5 * (1.0 + math.cos(math.pi * progress))


def targets(split: FerSplit, config: dict) -> np.ndarray:
    """FER one-hot mixed with the FER+ votes, then label smoothing."""
    one_hot = np.eye(EMOTION_COUNT, dtype=np.float32)[split.labels]
    mixed = one_hot
    if split.soft_labels is not None:
        weight = config["ferplus_weight"]
        mixed = (1.0 - weight) * one_hot + weight * split.soft_labels
    smoothing = config["label_smoothing"]
    return ((1.0 - smoothing) * mixed + smoothing / EMOTION_COUNT).astype(np.float32)


def class_weights(split: FerSplit, power: float) -> np.ndarray:
    """(median class count / class count) ^ power, so rare classes weigh more."""
    counts = split.class_counts()
    median = max(int(np.sort(counts)[EMOTION_COUNT // 2]), 1)
    return np.array([(median / max(int(c), 1)) ** power for c in counts], dtype=np.float32)


def macro_f1(confusion: np.ndarray) -> float:
    scores = []
    for c in range(EMOTION_COUNT):
        tp = confusion[c, c]
        predicted = confusion[:, c].sum()
        actual = confusion[c, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return float(np.mean(scores))


@torch.no_grad()
def evaluate(net: ExpressionNet, pixels: torch.Tensor, labels: torch.Tensor, amp: bool) -> dict:
    """Accuracy, macro-F1 and log loss on a split, plain and with flip averaging."""
    net.eval()
    plain, mirrored = [], []
    for start in range(0, pixels.shape[0], 1024):
        x = normalise(pixels[start : start + 1024]).unsqueeze(1)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            plain.append(torch.softmax(net(x).float(), 1))
            mirrored.append(torch.softmax(net(torch.flip(x, dims=[3])).float(), 1))
    net.train()
    result = {}
    for name, probabilities in (("", torch.cat(plain)), ("_tta", 0.5 * (torch.cat(plain) + torch.cat(mirrored)))):
        predicted = probabilities.argmax(1)
        truth = labels.long()
        confusion = torch.zeros(EMOTION_COUNT, EMOTION_COUNT, dtype=torch.long, device=pixels.device)
        confusion.index_put_((truth, predicted), torch.ones_like(truth), accumulate=True)
        confusion = confusion.cpu().numpy()
        result[f"accuracy{name}"] = float(np.trace(confusion) / max(confusion.sum(), 1))
        result[f"macro_f1{name}"] = macro_f1(confusion)
        true_p = probabilities.gather(1, truth[:, None]).clamp_min(1e-12)
        result[f"log_loss{name}"] = float(-torch.log(true_p).mean())
    return result


def sgd(net: ExpressionNet, config: dict) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        net.parameters(),
        lr=config["learning_rate"],
        momentum=config["momentum"],
        dampening=0.0,
        nesterov=True,
        weight_decay=config["weight_decay"],
    )


def train(config: dict, train_split: FerSplit, validation: FerSplit, out: Path, device: str,
          resume: bool = False, log=print, stop_after: int | None = None,
          deterministic: bool = False) -> list[dict]:
    """Trains (or with `resume` continues) into the run folder `out`; returns the metrics.
    `stop_after` ends the run after that epoch (the schedule stays that of `epochs`), as a run
    stopped by a time limit ends; `deterministic` asks for reproducible GPU kernels (slower)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if len(train_split) == 0:
        raise ValueError("the training split is empty")
    torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        torch.use_deterministic_algorithms(True)
    amp = device.startswith("cuda") and config.get("bf16", True)
    torch.manual_seed(config["seed"])
    net = ExpressionNet(config["network"]).to(device).to(memory_format=torch.channels_last)
    optimizer = sgd(net, config)
    state = {"epochs_done": 0, "best_accuracy": -1.0, "best_epoch": 0}
    checkpoint = out / "checkpoint.pt"
    metrics_path = out / "metrics.jsonl"
    history: list[dict] = []
    if resume and checkpoint.exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        if saved["config"] != config:
            raise ValueError(f"{checkpoint}: the checkpoint was made with other settings; use a new --out")
        net.load_state_dict(saved["net"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        if metrics_path.exists():
            history = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
        history = history[: state["epochs_done"]]
        log(f"resuming after epoch {state['epochs_done']}")
    (out / "train_config.json").write_text(json.dumps(config, indent=2) + "\n")
    metrics_path.write_text("".join(json.dumps(m) + "\n" for m in history))

    pixels = torch.from_numpy(train_split.pixels).to(device)
    labels = torch.from_numpy(train_split.labels.astype(np.int64)).to(device)
    target = torch.from_numpy(targets(train_split, config)).to(device)
    weights = torch.from_numpy(class_weights(train_split, config["class_balance"])).to(device)[labels]
    val_pixels = torch.from_numpy(validation.pixels).to(device)
    val_labels = torch.from_numpy(validation.labels.astype(np.int64)).to(device)

    count = len(train_split)
    batch = config["batch"]
    steps_per_epoch = math.ceil(count / batch)
    total_steps = config["epochs"] * steps_per_epoch
    last_epoch = min(config["epochs"], stop_after or config["epochs"])
    for epoch in range(state["epochs_done"] + 1, last_epoch + 1):
        started = time.perf_counter()
        seed = epoch_seed(config["seed"], epoch)
        torch.manual_seed(seed)  # dropout
        generator = torch.Generator(device=device).manual_seed(seed)
        order = torch.randperm(count, generator=generator, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        learning_rate = 0.0
        for step in range(steps_per_epoch):
            learning_rate = schedule(config, (epoch - 1) * steps_per_epoch + step, steps_per_epoch, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate
            index = order[step * batch : (step + 1) * batch]
            x = normalise(augment(pixels[index], config["augment"], generator))
            x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
                logits = net(x)
            log_p = F.log_softmax(logits.float(), dim=1)
            per_face = -(log_p * target[index]).sum(1)
            w = weights[index]
            loss = (per_face * w).sum() / w.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * index.shape[0]
            correct += (logits.detach().argmax(1) == labels[index]).sum()
        loss_value = float(loss_sum) / count
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"training diverged in epoch {epoch} (loss is not finite); try a lower learning rate")
        train_seconds = time.perf_counter() - started
        report = evaluate(net, val_pixels, val_labels, amp)
        metrics = {
            "epoch": epoch,
            "train_loss": loss_value,
            "train_accuracy": float(correct) / count,
            "val_loss": report["log_loss"],
            "val_accuracy": report["accuracy"],
            "val_macro_f1": report["macro_f1"],
            "learning_rate": learning_rate,
            "seconds": time.perf_counter() - started,
            "images_per_second": count / train_seconds,
            "val_accuracy_tta": report["accuracy_tta"],
            "val_macro_f1_tta": report["macro_f1_tta"],
        }
        if metrics["val_accuracy"] > state["best_accuracy"]:
            state["best_accuracy"] = metrics["val_accuracy"]
            state["best_epoch"] = epoch
            save_model(net, out / "best")
        state["epochs_done"] = epoch
        torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                    "config": config}, out / "checkpoint.tmp")
        (out / "checkpoint.tmp").replace(checkpoint)
        with metrics_path.open("a") as handle:
            handle.write(json.dumps(metrics) + "\n")
        history.append(metrics)
        log(
            f"epoch {epoch}/{config['epochs']}: loss {loss_value:.4f}, PublicTest {metrics['val_accuracy']:.4f}"
            f" ({metrics['val_accuracy_tta']:.4f} mirrored), {metrics['seconds']:.1f} s"
        )
    save_model(net, out / "last")
    return history
