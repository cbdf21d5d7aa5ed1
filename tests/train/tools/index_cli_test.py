"""torus-index as a user runs it, each command its own process: build an index from a torus-embed
folder (written here with numpy), search it from another process and check the neighbours against
a numpy brute force of the same uint8 cosine-table score; add a second folder (ids continue), info
and info --verify, then bad input: a flipped byte (caught by --verify), a truncated file, k larger
than the index and an unknown kind, each with its exit status and a message naming the culprit.

usage: index_cli_test.py TORUS_INDEX
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

INDEX = sys.argv[1]
failures = []


def run(*args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "\n      " + detail.strip()[:2000]))
    if not cond:
        failures.append(name)


def embed_folder(path, n, seed):
    """A torusC folder whose coordinates sit at code-cell centres over several periods, so the
    uint8 codes floor(256 (h mod 1)) are known exactly."""
    os.makedirs(path)
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, 6))
    h = (codes + 0.5) / 256 + rng.integers(-2, 3, (n, 6))
    np.save(f"{path}/train_embeddings.npy", h.astype(np.float32))
    np.save(f"{path}/train_labels.npy", np.zeros(n, np.int64))
    np.save(f"{path}/test_embeddings.npy", h[:2].astype(np.float32))
    np.save(f"{path}/test_labels.npy", np.zeros(2, np.int64))
    with open(f"{path}/meta.json", "w") as f:
        json.dump({"head": "torusC", "splits": {"train": n, "test": 2}}, f)
    return codes


def lut_scores(q, r):
    """sum_k LUT[uint8(q_k - r_k)], LUT[j] = round half away from zero of 127 cos(2 pi j / 256)."""
    v = 127 * np.cos(2 * np.pi * np.arange(256) / 256)
    lut = (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)
    return lut[(q[:, None, :] - r[None, :, :]) % 256].sum(axis=2)


tmp = tempfile.mkdtemp(prefix="torus_index_cli_")
try:
    codes_a = embed_folder(f"{tmp}/a", 120, 1)
    codes_b = embed_folder(f"{tmp}/b", 30, 2)
    idx = f"{tmp}/codes.tidx"
    code, out, err = run(INDEX, "build", "--embeddings", f"{tmp}/a", "--kind", "u8", "--out", idx)
    check("build exits 0", code == 0, err)
    check("build reports 120 u8 vectors", "u8 code index of 120 vectors" in out, out)

    rng = np.random.default_rng(3)
    qcodes = rng.integers(0, 256, (9, 6))
    np.save(f"{tmp}/q.npy", ((qcodes + 0.5) / 256).astype(np.float32))
    code, out, err = run(INDEX, "search", "--index", idx, "--queries", f"{tmp}/q.npy", "--k", "4", "--out", f"{tmp}/nn.npy")
    check("search exits 0", code == 0, err)
    ids, scores = np.load(f"{tmp}/nn_ids.npy"), np.load(f"{tmp}/nn_scores.npy")
    check("ids int64 (9, 4), scores float64", ids.dtype == np.int64 and ids.shape == (9, 4) and scores.dtype == np.float64,
          f"{ids.dtype} {ids.shape} {scores.dtype}")
    s = lut_scores(qcodes, codes_a)
    want = np.argsort(-s, axis=1, kind="stable")[:, :4]  # larger is nearer, ties to the lower id
    check("ids equal numpy's brute force", np.array_equal(ids, want), f"{ids}\n{want}")
    check("scores equal numpy's brute force", np.array_equal(scores, np.take_along_axis(s, want, 1).astype(np.float64)))

    code, out, err = run(INDEX, "add", "--index", idx, "--embeddings", f"{tmp}/b")
    check("add exits 0", code == 0, err)
    code, out, err = run(INDEX, "search", "--index", idx, "--queries", f"{tmp}/q.npy", "--k", "150", "--out", f"{tmp}/all")
    check("search of all 150 exits 0", code == 0, err)
    ids = np.load(f"{tmp}/all_ids.npy")
    s = lut_scores(qcodes, np.concatenate([codes_a, codes_b]))
    check("after add: ids 0..149 ranked as the brute force",
          np.array_equal(ids, np.argsort(-s, axis=1, kind="stable")), str(ids[0]))

    code, out, err = run(INDEX, "info", "--index", idx, "--verify")
    check("info --verify exits 0", code == 0, err)
    check("info names kind, size, head and the verified CRC",
          "u8 code index of 150 vectors, torusC D6" in out and "CRC-32 verified" in out, out)
    code, out, err = run(INDEX, "info", "--index", idx)
    check("info without --verify says the CRC was not checked", code == 0 and "not checked" in out, out + err)

    data = bytearray(open(idx, "rb").read())
    data[70] ^= 1
    bad = f"{tmp}/flipped.tidx"
    open(bad, "wb").write(bytes(data))
    code, out, err = run(INDEX, "info", "--index", bad, "--verify")
    check("flipped byte: exit 1 naming the file and the CRC", code == 1 and bad in err and "CRC-32" in err, err)
    open(bad, "wb").write(bytes(data[:-10]))
    code, out, err = run(INDEX, "search", "--index", bad, "--queries", f"{tmp}/q.npy", "--k", "1", "--out", f"{tmp}/x")
    check("truncated: exit 1 naming the file", code == 1 and bad in err and "truncated" in err, err)
    code, out, err = run(INDEX, "search", "--index", idx, "--queries", f"{tmp}/q.npy", "--k", "151", "--out", f"{tmp}/x")
    check("k beyond the index: exit 2", code == 2 and "151" in err, err)
    code, out, err = run(INDEX, "build", "--embeddings", f"{tmp}/a", "--kind", "u4", "--out", f"{tmp}/y.tidx")
    check("unknown kind: exit 2", code == 2 and not os.path.exists(f"{tmp}/y.tidx"), err)
finally:
    shutil.rmtree(tmp)

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
