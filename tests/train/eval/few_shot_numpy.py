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

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        print("  # " + detail[:1000])
