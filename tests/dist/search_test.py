"""Distributed search equals single-process search: torus-index search under mpirun with 2 and 3
ranks (each rank searching its part of the index, the top-k lists merged) must write exactly the
ids and scores one process writes, for every code kind, on data full of ties (vectors repeated,
codes on few values) where the merge's tie rule decides, and with k larger than one rank's part.

torus-eval and torus-quant-eval under mpirun spread their searches the same way: their reports
(precision@1, the prefixes', every quantisation row) must equal one process's.

usage: search_test.py MPIRUN TORUS_INDEX TORUS_EVAL TORUS_QUANT_EVAL   (mpirun may run as root: meson's test env)"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

MPIRUN, INDEX, EVAL, QUANT = sys.argv[1], *(os.path.abspath(a) for a in sys.argv[2:5])
failures = []


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "\n      " + str(detail).strip()[-2000:]))
    if not cond:
        failures.append(name)


def run(cmd, timeout=90):
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", f"still running after {timeout} s"
    return p.returncode, p.stdout, p.stderr


def mpirun(ranks, *args, program=INDEX):
    return run([MPIRUN, "--oversubscribe", "--bind-to", "none", "--timeout", "60", "-np", ranks, program, *args])


tmp = tempfile.mkdtemp(prefix="torus_dist_search_")
try:
    # torusN D16 (8 circles): 3600 vectors (ranks search whole blocks of 1024: 2+2 blocks on 2
    # ranks, 2+1+1 on 3, the last one 528 rows) whose angles take 6 values per circle, a quarter
    # of them exact repeats of others, so equal scores are everywhere.
    rng = np.random.default_rng(3)
    n, circles = 3600, 8
    angles = rng.integers(0, 6, (n, circles)) / 6.0
    angles[rng.choice(n, n // 4, replace=False)] = angles[rng.choice(n, n // 4, replace=False)]
    z = np.stack([np.cos(2 * np.pi * angles), np.sin(2 * np.pi * angles)], axis=2).reshape(n, 2 * circles)
    folder = f"{tmp}/emb"
    os.makedirs(folder)
    np.save(f"{folder}/train_embeddings.npy", z.astype(np.float32))
    labels = rng.integers(0, 10, n)
    np.save(f"{folder}/train_labels.npy", labels.astype(np.int64))
    # Test queries: 300 training rows moved a little along their circles, with their labels.
    picks = rng.choice(n, 300, replace=False)
    moved = angles[picks] + rng.normal(0, 0.03, (300, circles))
    zt = np.stack([np.cos(2 * np.pi * moved), np.sin(2 * np.pi * moved)], axis=2).reshape(300, 2 * circles)
    np.save(f"{folder}/test_embeddings.npy", zt.astype(np.float32))
    np.save(f"{folder}/test_labels.npy", labels[picks].astype(np.int64))
    with open(f"{folder}/meta.json", "w") as f:
        json.dump({"head": "torusN", "splits": {"train": n, "test": 300}}, f)
    queries = z[rng.choice(n, 60, replace=False)] + rng.normal(0, 0.05, (60, 2 * circles))
    np.save(f"{tmp}/queries.npy", queries.astype(np.float32))

    for kind in ("float", "u8", "u8-dot", "1bit", "pq8_2"):
        index = f"{tmp}/{kind}.tidx"
        code, out, err = run([INDEX, "build", "--embeddings", folder, "--kind", kind, "--out", index, "--threads", "1"])
        check(f"{kind}: index built", code == 0, err)
        if code != 0:
            continue
        # Every kind at k = 10; the float kind (GEMM blocks) and u8 (the tie-heaviest) also at k = 1
        # and at 600, more than the last rank's part on 3 ranks.
        for k in ((1, 10, 600) if kind in ("float", "u8") else (10,)):
            code, out, err = run([INDEX, "search", "--index", index, "--queries", f"{tmp}/queries.npy", "--k", k,
                                  "--out", f"{tmp}/one", "--threads", "1"])
            check(f"{kind} k={k}: single-process search", code == 0, err)
            for ranks in (2, 3):
                code, out, err = mpirun(ranks, "search", "--index", index, "--queries", f"{tmp}/queries.npy", "--k", k,
                                        "--out", f"{tmp}/many", "--threads", "1")
                check(f"{kind} k={k}: search on {ranks} ranks", code == 0, err)
                if code == 0:
                    for part in ("ids", "scores"):
                        a, b = np.load(f"{tmp}/one_{part}.npy"), np.load(f"{tmp}/many_{part}.npy")
                        check(f"{kind} k={k}, {ranks} ranks: {part} equal single-process",
                              a.shape == b.shape and np.array_equal(a, b),
                              f"{np.argwhere(a != b)[:5]} of shapes {a.shape} {b.shape}")
                    check(f"{kind} k={k}, {ranks} ranks: one report line", out.count("queries") == 1, out)
        # The ties are real: the test would pass trivially without them.
        if kind == "u8":
            s = np.load(f"{tmp}/one_scores.npy")
            check("u8: the lists hold equal scores (ties the merge must order)", (np.diff(s, axis=1) == 0).any())

    # torus-eval and torus-quant-eval: the same reports on 1, 2 and 3 ranks (times aside).
    reports = {}
    for ranks in (1, 2, 3):
        code, out, err = mpirun(ranks, "--embeddings", folder, "--threads", "1", "--prefixes", "1,2,4,8", "--json",
                                f"{tmp}/eval{ranks}.json", program=EVAL)
        check(f"torus-eval on {ranks} rank(s)", code == 0, err)
        code2, out2, err2 = mpirun(ranks, "--embeddings", folder, "--threads", "1", "--json", f"{tmp}/quant{ranks}.json",
                                   program=QUANT)
        check(f"torus-quant-eval on {ranks} rank(s)", code2 == 0, err2)
        if code == 0 and code2 == 0:
            e = json.load(open(f"{tmp}/eval{ranks}.json"))
            e.pop("search_seconds")
            for p in e.get("prefixes", []):  # times
                for key in ("queries_per_s", "full_code_queries_per_s"):
                    p.get("two_stage", {}).pop(key, None)
            q = [{k: v for k, v in row.items() if k != "queries_per_s"} for row in json.load(open(f"{tmp}/quant{ranks}.json"))["rows"]]
            reports[ranks] = (e, q)
    if 1 in reports:
        check("torus-eval: a real precision@1 (the test is not empty)", 0.2 < reports[1][0]["precision_at_1"] < 1,
              reports[1][0])
        for ranks in (2, 3):
            if ranks in reports:
                check(f"torus-eval on {ranks} ranks: the single-process report", reports[ranks][0] == reports[1][0],
                      (reports[ranks][0], reports[1][0]))
                check(f"torus-quant-eval on {ranks} ranks: the single-process table", reports[ranks][1] == reports[1][1],
                      (reports[ranks][1], reports[1][1]))

    code, out, err = mpirun(2, "search", "--index", f"{tmp}/u8.tidx", "--queries", f"{tmp}/missing.npy", "--k", 1,
                            "--out", f"{tmp}/x")
    check("missing queries on 2 ranks: non-zero exit", code not in (0, None), err)
    check("missing queries on 2 ranks: the message names the file", "missing.npy" in err, err)
    code, out, err = mpirun(2, "info", "--index", f"{tmp}/u8.tidx")
    check("info on 2 ranks: refused with status 2", code == 2, (code, err))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
