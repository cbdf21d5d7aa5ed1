"""torus_io (train/tools/python) against real files: a short torus-train run on feature vectors,
torus-embed, then every reader; damaged checkpoints are refused naming what is wrong; and weights
go both ways: read from a checkpoint in Python, written as safetensors, loaded by
torus-train --model.init, and found again unchanged in the next checkpoint.

usage: test_torus_io.py TORUS_TRAIN TORUS_EMBED TORUS_IO_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TRAIN, EMBED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.abspath(sys.argv[3]))
import torus_io  # noqa: E402

failures = []


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "\n      " + str(detail)[:2000]))
    if not cond:
        failures.append(name)


def refused(name, f, *fragments):
    try:
        f()
    except torus_io.TorusFormatError as e:
        check(name, all(x in str(e) for x in fragments), str(e))
        return
    check(name, False, "accepted")


def run(*args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="torus_io_")
try:
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 3, (4, 10))
    for split, n in (("train", 300), ("test", 100)):
        y = np.arange(n) % 4
        np.save(f"{tmp}/{split}.npy", (centres[y] + rng.normal(0, 1, (n, 10))).astype(np.float32))
        np.save(f"{tmp}/{split}_labels.npy", y.astype(np.int64))
    common = ["--data.dataset", "features", "--model.arch", "head", "--model.dim", "6", "--train.batch", "32",
              "--train.threads", "1", "--data.path", f"{tmp}/train.npy", "--data.labels", f"{tmp}/train_labels.npy",
              "--data.test_path", f"{tmp}/test.npy", "--data.test_labels", f"{tmp}/test_labels.npy"]
    run_dir = f"{tmp}/run"
    code, out, err = run(TRAIN, *common, "--train.epochs", "2", "--optim.lr", "0.02", "--out", run_dir)
    check("torus-train", code == 0, err)
    code, out, err = run(EMBED, "--run", run_dir, "--threads", "1")
    check("torus-embed", code == 0, err)

    r = torus_io.read_run(run_dir)
    check("config.toml", r.config["optim"]["lr"] == 0.02 and r.config["model"]["dim"] == 6
          and r.config["data"]["path"] == f"{tmp}/train.npy", r.config)
    check("input.json", r.input == {"kind": "features", "shape": [10], "source": "features"}, r.input)
    check("metrics.csv", list(r.metrics["epoch"]) == [1, 2] and r.metrics["precision_at_1"].shape == (2,)
          and r.metrics["epoch"].dtype == np.int64, r.metrics)
    last = r.checkpoint("last")
    check("last.ckpt: counters", last["epoch"] == 2 and last["step"] > 0, {k: last[k] for k in ("epoch", "step")})
    check("last.ckpt: settings recorded", last["settings"]["optim.lr"] == "0.02" and last["settings"]["model.dim"] == "6",
          last["settings"])
    check("last.ckpt: architecture", last["architecture"]["dim"] == 6 and last["architecture"]["input"] == [10],
          last["architecture"])
    weights = torus_io.model_weights(last)
    momenta = [n for n in last["tensors"] if n.startswith("optim/")]
    check("last.ckpt: weights and momentum of every parameter",
          len(weights) > 0 and len(momenta) == len(weights) and all(w.dtype == np.float32 for w in weights.values()),
          list(last["tensors"]))

    emb = r.embeddings()
    z, labels = emb["test"]["embeddings"], emb["test"]["labels"]
    check("embeddings: shapes and labels", z.shape == (100, 6) and list(labels[:5]) == [0, 1, 2, 3, 0], z.shape)
    check("embeddings: torusN unit pairs", np.allclose(np.linalg.norm(z.reshape(100, 3, 2), axis=2), 1, atol=1e-5))
    check("embeddings: angles and sources", emb["test"]["angles"].shape == (100, 3) and emb["test"]["sources"] == list(range(100)))
    check("embeddings: meta.json", emb["meta"]["head"] == "torusN" and emb["meta"]["epoch"] >= 1, emb["meta"])

    # Damaged checkpoints are refused, each with its own message.
    blob = bytearray(open(f"{run_dir}/last.ckpt", "rb").read())
    bad = f"{tmp}/bad.ckpt"
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 1
    open(bad, "wb").write(flipped)
    refused("a flipped bit", lambda: torus_io.read_checkpoint(bad), "bad.ckpt", "corrupt: CRC-32")
    open(bad, "wb").write(blob[:-10])
    refused("a truncated checkpoint", lambda: torus_io.read_checkpoint(bad), "truncated")
    other = bytearray(blob)
    other[8] = 2
    open(bad, "wb").write(other)
    refused("another version", lambda: torus_io.read_checkpoint(bad), "version 2")
    open(bad, "wb").write(b"PK\x03\x04 not a checkpoint at all")
    refused("a foreign file", lambda: torus_io.read_checkpoint(bad), "not a torus checkpoint")

    # Weights both ways: Python -> safetensors -> torus-train --model.init -> checkpoint -> Python.
    init = f"{tmp}/init.safetensors"
    torus_io.write_safetensors(init, weights, {"source": "test_torus_io"})
    back, meta = torus_io.read_safetensors(init)
    check("safetensors round trip", meta == {"source": "test_torus_io"} and
          all(np.array_equal(back[n], w) for n, w in weights.items()))
    code, out, err = run(TRAIN, *common, "--train.epochs", "1", "--optim.lr", "1e-9", "--optim.momentum", "0",
                         "--model.init", init, "--out", f"{tmp}/from_init")
    check("torus-train --model.init with weights written by Python", code == 0, err)
    again = torus_io.model_weights(torus_io.read_checkpoint(f"{tmp}/from_init/last.ckpt"))
    check("the next checkpoint starts from exactly those weights (lr 1e-9 moves them < 1e-6)",
          again.keys() == weights.keys() and all(np.allclose(again[n], w, atol=1e-6, rtol=0) for n, w in weights.items()))
    renamed = dict(weights)
    first = next(iter(renamed))
    renamed["wrong." + first] = renamed.pop(first)
    torus_io.write_safetensors(init, renamed)
    code, out, err = run(TRAIN, *common, "--train.epochs", "1", "--model.init", init, "--out", f"{tmp}/bad_init")
    check("an init file with a wrong name is refused, naming the missing one", code != 0 and f"missing tensor \"{first}\"" in err, err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
