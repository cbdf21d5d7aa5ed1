"""Few-shot accuracy against a direct numpy implementation on the same episodes: the C++ side
(few_shot_tool) draws the episodes and reports each one's accuracy; numpy recomputes every
accuracy from the episode's rows alone, for the image protocol and the bioacoustic one (method.md
13: L2-normalise, subtract the support mean, nearest prototype, every other sample of a class a
query), and checks that each episode is what the protocol says.

usage: few_shot_numpy.py FEW_SHOT_TOOL      (TAP output)
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TOOL = os.path.abspath(sys.argv[1])
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), str(detail)))


def numpy_accuracy(x, support, queries, centre):
    v = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30) if centre else x
    mu = v[np.concatenate(support)].mean(axis=0) if centre else np.zeros(x.shape[1], np.float32)
    protos = np.stack([(v[s] - mu).mean(axis=0) for s in support])
    correct = total = 0
    for w, qs in enumerate(queries):
        d = (((v[qs] - mu)[:, None, :] - protos[None, :, :]) ** 2).sum(axis=2)
        correct += int((d.argmin(axis=1) == w).sum())
        total += len(qs)
    return correct / total


def numpy_code_accuracy(u, support, queries):
    """The code protocol: uint8 codes of the angles, prototypes the circular mean per circle rounded
    to a code, nearest by circular L1 in code units."""
    q = np.floor(u.astype(np.float64) * 256).astype(np.int64) % 256
    angle = q * (2 * np.pi / 256)
    protos = []
    for s in support:
        turns = np.arctan2(np.sin(angle[s]).sum(axis=0), np.cos(angle[s]).sum(axis=0)) / (2 * np.pi)
        protos.append(np.floor(turns * 256 + 0.5).astype(np.int64) % 256)
    protos = np.stack(protos)
    correct = total = 0
    for w, qs in enumerate(queries):
        d = (q[qs][:, None, :] - protos[None, :, :]) % 256
        dist = np.minimum(d, 256 - d).sum(axis=2)
        correct += int((dist.argmin(axis=1) == w).sum())
        total += len(qs)
    return correct / total


rng = np.random.default_rng(5)
classes, per_class, dim = 12, 14, 8
labels = np.repeat(np.arange(classes), per_class)
x = (rng.normal(0, 1, (classes, dim))[labels] * 1.5 + rng.normal(0, 1, (labels.size, dim)) + 3).astype(np.float32)
with tempfile.TemporaryDirectory() as tmp:
    np.save(f"{tmp}/x.npy", x)
    np.save(f"{tmp}/y.npy", labels.astype(np.int64))
    for name, shots, queries, centre in (("images 5-way 1-shot", 1, 5, 0), ("images 5-way 5-shot", 5, 3, 0),
                                         ("bioacoustic 5-way 1-shot", 1, 0, 1), ("bioacoustic 5-way 5-shot", 5, 0, 1)):
        p = subprocess.run([TOOL, f"{tmp}/x.npy", f"{tmp}/y.npy", "5", str(shots), str(queries), "40", "7", str(centre),
                            f"{tmp}/out.json"], capture_output=True, text=True)
        check(f"{name}: runs", p.returncode == 0, p.stderr)
        if p.returncode != 0:
            continue
        out = json.load(open(f"{tmp}/out.json"))
        eps = out["episodes"]
        worst = max(abs(numpy_accuracy(x, e["support"], e["queries"], centre) - e["accuracy"]) for e in eps)
        if centre == 1 and shots == 5:
            episodes_float = [(e["support"], e["queries"]) for e in eps]
        check(f"{name}: every episode's accuracy equals numpy's (largest difference {worst:.1e})", worst < 1e-12, worst)
        shape_ok = True
        for e in eps:
            drawn = [labels[s[0]] for s in e["support"]]
            shape_ok &= len(set(drawn)) == 5 and all(len(s) == shots for s in e["support"])
            for s, q, c in zip(e["support"], e["queries"], drawn):
                shape_ok &= set(labels[s]) == {c} and set(labels[q]) == {c} and not set(s) & set(q)
                shape_ok &= len(q) == (queries if queries else per_class - shots)
        check(f"{name}: episodes draw 5 distinct classes, disjoint supports and queries of the stated sizes", shape_ok)
        mean = float(np.mean([e["accuracy"] for e in eps]))
        check(f"{name}: mean accuracy {mean:.3f} above chance", abs(mean - out["mean"]) < 1e-12 and mean > 0.4, out["mean"])

    # Torus codes: angles in turns clustered per class around random centres, wrapping across 0.
    u = ((rng.uniform(0, 1, (classes, dim))[labels] + rng.normal(0, 0.08, (labels.size, dim))) % 1.0).astype(np.float32)
    np.save(f"{tmp}/u.npy", u)
    p = subprocess.run([TOOL, f"{tmp}/u.npy", f"{tmp}/y.npy", "5", "5", "0", "40", "7", "codes", f"{tmp}/out.json"],
                       capture_output=True, text=True)
    check("u8 codes 5-way 5-shot: runs", p.returncode == 0, p.stderr)
    if p.returncode == 0:
        out = json.load(open(f"{tmp}/out.json"))
        eps = out["episodes"]
        worst = max(abs(numpy_code_accuracy(u, e["support"], e["queries"]) - e["accuracy"]) for e in eps)
        check(f"u8 codes 5-way 5-shot: every episode's accuracy equals numpy's (largest difference {worst:.1e})",
              worst < 1e-12, worst)
        check("u8 codes 5-way 5-shot: the same episodes as the float protocol with the same seed",
              [(e["support"], e["queries"]) for e in eps] == episodes_float)
        mean = float(np.mean([e["accuracy"] for e in eps]))
        check(f"u8 codes 5-way 5-shot: mean accuracy {mean:.3f} well above chance", mean > 0.8, mean)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        print("  # " + detail[:1000])
