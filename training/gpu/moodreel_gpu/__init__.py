"""GPU training of moodreel's expression network in PyTorch.

The Rust trainer (`moodreel train`, crates/train) is the CPU path; this package mirrors its
recipe on a GPU and writes a model folder (`config.json` + `model.safetensors`) that the Rust
model loads unchanged. Inference never needs Python.
"""
