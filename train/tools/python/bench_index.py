"""W6 for the persistent code index: torus-index against faiss on the same vectors, as users run them.

usage: /usr/bin/python3 train/tools/python/bench_index.py --torus-index build/train/torus-index \
           [--threads 2] [--refs 60000 1000000] [--reps 5]

Data: benchmarks.md's W6 random torus set (numpy default_rng(0): N(0, 1) entries, D = 16, each
pair normalised), 10,000 queries; with 60,000 references it is exactly ../shared/bench/w6_knn.py's.
torus-index is timed as a user meets it, one process per search: start, map the index, read the
queries, search (k = 1), write the ids and scores; faiss's search call alone, in this process, on
an index already built. queries/s = 10,000 / median wall time of --reps runs; recall@1 against the
exact inner-product search. A quiet machine is needed (nothing else running).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import faiss
import numpy as np


def torus_norm(x):
    p = x.reshape(x.shape[0], -1, 2)
    p = p / np.maximum(np.linalg.norm(p, axis=2, keepdims=True), 1e-12)
    return np.ascontiguousarray(p.reshape(x.shape[0], -1), dtype=np.float32)


def median_time(fn, reps):
    fn()  # warm-up (page cache, faiss's first call)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torus-index", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--refs", type=int, nargs="+", default=[60000])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    faiss.omp_set_num_threads(args.threads)
    for nb in args.refs:
        rng = np.random.default_rng(0)
        refs = torus_norm(rng.standard_normal((nb, 16), dtype=np.float32))
        queries = torus_norm(rng.standard_normal((10000, 16), dtype=np.float32))
        nq = queries.shape[0]
        flat = faiss.IndexFlatIP(16)
        flat.add(refs)
        _, exact = flat.search(queries, 1)
        exact = exact[:, 0]
        with tempfile.TemporaryDirectory() as tmp:
            np.save(f"{tmp}/train_embeddings.npy", refs)
            np.save(f"{tmp}/test_embeddings.npy", queries)
            np.save(f"{tmp}/train_labels.npy", np.zeros(nb, np.int64))
            np.save(f"{tmp}/test_labels.npy", np.zeros(nq, np.int64))
            json.dump({"head": "torusN", "dim": 16, "splits": {"train": {}, "test": {}}}, open(f"{tmp}/meta.json", "w"))
            for kind in ("float", "u8", "u8-dot", "pq8_2", "1bit"):
                index = f"{tmp}/{kind}.tidx"
                t0 = time.perf_counter()
                subprocess.run([args.torus_index, "build", "--embeddings", tmp, "--kind", kind, "--out", index,
                                "--threads", str(args.threads)], check=True, capture_output=True)
                build_s = time.perf_counter() - t0
                search = [args.torus_index, "search", "--index", index, "--queries", f"{tmp}/test_embeddings.npy",
                          "--k", "1", "--out", f"{tmp}/hits", "--threads", str(args.threads)]
                t = median_time(lambda: subprocess.run(search, check=True, capture_output=True), args.reps)
                ids = np.load(f"{tmp}/hits_ids.npy")[:, 0]
                print(json.dumps({"impl": "torus-index", "kind": kind, "nb": nb, "threads": args.threads,
                                  "qps": nq / t, "build_s": build_s, "bytes": os.path.getsize(index),
                                  "recall_at_1": float(np.mean(ids == exact))}), flush=True)
        for name, index in (("IndexFlatIP", flat), ("IndexScalarQuantizer-QT_8bit",
                                                     faiss.IndexScalarQuantizer(16, faiss.ScalarQuantizer.QT_8bit,
                                                                                faiss.METRIC_INNER_PRODUCT)),
                            ("IndexPQ-M2x8", faiss.IndexPQ(16, 2, 8, faiss.METRIC_INNER_PRODUCT)),
                            ("IndexPQ-M4x8", faiss.IndexPQ(16, 4, 8, faiss.METRIC_INNER_PRODUCT))):
            t0 = time.perf_counter()
            if not index.is_trained:
                index.train(refs)
            if index.ntotal == 0:
                index.add(refs)
            build_s = time.perf_counter() - t0
            t = median_time(lambda: index.search(queries, 1), args.reps)
            _, ids = index.search(queries, 1)
            print(json.dumps({"impl": "faiss " + faiss.__version__, "kind": name, "nb": nb, "threads": args.threads,
                              "qps": nq / t, "build_s": build_s, "recall_at_1": float(np.mean(ids[:, 0] == exact))}),
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
