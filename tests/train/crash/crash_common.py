"""What crash_test.py and full_disk_test.py share: the small training run both interrupt, and the
readers that check what an interrupted run left on disk."""
import json
import struct
import zlib

import numpy as np


def features(path, labels, n, seed):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(7).normal(0, 1, (8, 12))
    y = np.arange(n) % 8
    np.save(path, (centres[y] + rng.normal(0, 1, (n, 12))).astype(np.float32))
    np.save(labels, y.astype(np.int64))


def training_setup(tmp):
    """Writes 400 + 200 feature vectors of 8 classes and run.toml into tmp; returns the arguments of
    a new run, to be followed by the run folder. A head-only network with SGD momentum and EMA, so
    the checkpoint holds weights, optimiser state and averages; 4 epochs at one thread, in seconds."""
    features(f"{tmp}/train.npy", f"{tmp}/train_labels.npy", 400, 1)
    features(f"{tmp}/test.npy", f"{tmp}/test_labels.npy", 200, 2)
    with open(f"{tmp}/run.toml", "w") as f:
        f.write(f"""[data]
dataset = "features"
path = "{tmp}/train.npy"
labels = "{tmp}/train_labels.npy"
test_path = "{tmp}/test.npy"
test_labels = "{tmp}/test_labels.npy"
holdout = 80
[model]
arch = "head"
dim = 8
[optim]
lr = 0.02
momentum = 0.9
[train]
epochs = 4
batch = 32
threads = 1
ema = 0.9
""")
    return ["--config", f"{tmp}/run.toml", "--out"]


def checkpoint_epoch(path):
    """The epoch of a whole checkpoint, or a string saying what is wrong (nn/io/checkpoint.hpp's format)."""
    blob = open(path, "rb").read()
    if len(blob) < 28 or blob[:8] != b"TORUSCKP":
        return "not a checkpoint"
    header_len, size = struct.unpack("<IQ", blob[12:24])
    if size != len(blob):
        return f"size {len(blob)}, records {size}"
    if zlib.crc32(blob[:-4]) != struct.unpack("<I", blob[-4:])[0]:
        return "CRC mismatch"
    return json.loads(blob[24:24 + header_len])["epoch"]


def metrics_rows(path):
    """metrics.csv as a list of {column: text}; [] when the file does not exist."""
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        return []
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def without_timings(rows):
    return [{k: v for k, v in r.items() if k not in ("images_per_s", "seconds")} for r in rows]
