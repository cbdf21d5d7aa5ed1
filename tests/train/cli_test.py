"""The binaries as a user runs them: a short torus-train run on feature vectors (written here with
numpy), torus-embed, torus-eval, then every kind of bad input (a wrong path, a bad configuration
key, a corrupt checkpoint, a truncated .npy) must give a clear message naming the culprit, a
non-zero exit, and leave no half-written file behind.

usage: cli_test.py TORUS_TRAIN TORUS_EMBED TORUS_EVAL TORUS_QUANT_EVAL TORUS_BENCH
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TRAIN, EMBED, EVAL, QUANT, BENCH = (os.path.abspath(a) for a in sys.argv[1:6])
failures = []


def run(*args, cwd=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "\n      " + detail.strip()[:2000]))
    if not cond:
        failures.append(name)


def expect_error(name, args, status, *fragments, untouched=()):
    before = {p: open(p, "rb").read() if os.path.exists(p) else None for p in untouched}
    code, out, err = run(*args)
    check(f"{name}: exit {status}", code == status, f"exit {code}\nstdout {out}\nstderr {err}")
    for f in fragments:
        check(f"{name}: message names {f!r}", f in err, err)
    for p, content in before.items():
        now = open(p, "rb").read() if os.path.exists(p) else None
        check(f"{name}: {os.path.basename(p)} untouched", now == content)


def features(path, labels, n, seed):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(7).normal(0, 3, (4, 12))
    y = np.arange(n) % 4
    np.save(path, (centres[y] + rng.normal(0, 1, (n, 12))).astype(np.float32))
    np.save(labels, y.astype(np.int64))


tmp = tempfile.mkdtemp(prefix="torus_cli_")
try:
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
[loss]
views = 1
[optim]
optimizer = "adam"
lr = 0.003
[train]
epochs = 2
batch = 32
threads = 1
""")
    run_dir = f"{tmp}/run"
    code, out, err = run(TRAIN, "--config", f"{tmp}/run.toml", "--out", run_dir)
    check("torus-train runs", code == 0, err)
    summary = json.loads(out.strip().splitlines()[-1]) if code == 0 else {}
    check("torus-train reports precision@1", summary.get("precision_at_1", 0) > 0.9, out)
    for f in ["config.toml", "metrics.csv", "last.ckpt", "best.ckpt"] + [
            p + ext for p in ("loss", "precision", "circular_variance", "embeddings", "angles") for ext in (".png", ".svg")]:
        check(f"run folder holds {f}", os.path.exists(f"{run_dir}/{f}"))
    circvar = [float(r["circular_variance"]) for r in csv.DictReader(open(f"{run_dir}/metrics.csv"))]
    check("metrics.csv has the circular variance of each epoch", len(circvar) == 2 and all(0 <= v <= 1 for v in circvar),
          str(circvar))
    check("no temporary files left", not [f for f in os.listdir(run_dir) if f.startswith(".") or "tmp" in f],
          str(os.listdir(run_dir)))

    record = json.load(open(f"{run_dir}/input.json"))
    check("input.json records the input", record.get("kind") == "features" and record.get("shape") == [12], str(record))
    code, out, err = run(EMBED, "--run", run_dir, "--threads", "1")
    check("torus-embed runs", code == 0, err)
    emb = f"{run_dir}/embeddings"
    z = np.load(f"{emb}/test_embeddings.npy")
    u = np.load(f"{emb}/test_angles.npy")
    check("test embeddings (200, 8)", z.shape == (200, 8), str(z.shape))
    check("torusN pairs have unit norm", np.allclose(np.linalg.norm(z.reshape(200, 4, 2), axis=2), 1, atol=1e-5))
    check("angles in [0, 1) match the pairs",
          u.shape == (200, 4) and u.min() >= 0 and u.max() < 1 and
          np.allclose(np.cos(2 * np.pi * u), z[:, 0::2], atol=1e-4) and np.allclose(np.sin(2 * np.pi * u), z[:, 1::2], atol=1e-4))
    check("labels int64", np.load(f"{emb}/test_labels.npy").dtype == np.int64)
    meta = json.load(open(f"{emb}/meta.json"))
    check("meta.json says what each file holds", meta.get("files", {}).get("test_angles.npy", {}).get("evaluate_as") == "torusC"
          and meta["files"].get("train_embeddings.npy", {}).get("evaluate_as") == "torusN", str(meta.get("files")))
    sources = json.load(open(f"{emb}/test_sources.json"))
    check("test_sources.json: the record index of each row", sources.get("sources") == list(range(200)), str(sources)[:200])
    angle_files = [f"{emb}/test_angles.npy", f"{emb}/test_labels.npy", f"{emb}/train_angles.npy", f"{emb}/train_labels.npy"]
    expect_error("angles evaluated as torusN", [EVAL, "--queries", angle_files[0], "--query-labels", angle_files[1],
                                                "--references", angle_files[2], "--reference-labels", angle_files[3],
                                                "--head", "torusN"], 1, "test_angles.npy", "evaluated as --head torusC")
    code, out, err = run(EVAL, "--queries", angle_files[0], "--query-labels", angle_files[1], "--references", angle_files[2],
                         "--reference-labels", angle_files[3], "--head", "torusC")
    check("angles evaluated as torusC", code == 0, err)

    code, out, err = run(EVAL, "--embeddings", emb, "--json", f"{tmp}/eval.json", "--csv", f"{tmp}/eval.csv",
                         "--episodes", "50", "--few-shot-queries", "10")
    check("torus-eval runs", code == 0, err)
    ev = json.load(open(f"{tmp}/eval.json")) if code == 0 else {}
    # precision@1 computed here with numpy: each test row's nearest training row by inner product
    zr = np.load(f"{emb}/train_embeddings.npy")
    lr, lq = np.load(f"{emb}/train_labels.npy"), np.load(f"{emb}/test_labels.npy")
    p1 = float(np.mean(lr[np.argmax(z @ zr.T, axis=1)] == lq))
    check("torus-eval precision@1 equals numpy's", abs(ev.get("precision_at_1", -1) - p1) < 1e-9, f"{ev} vs {p1}")
    check("torus-eval few-shot (4 classes: 4-way)", "4-way 1-shot" in out and ev.get("few_shot", {}).get("4-way 5-shot", {}).get("mean", 0) > 0.9, out)
    check("torus-eval CSV has header and row", len(open(f"{tmp}/eval.csv").read().strip().splitlines()) == 2)
    # Precision@1 of prefixes of circles (Matryoshka codes cut after k bytes), against numpy.
    code, out, err = run(EVAL, "--embeddings", emb, "--prefixes", "1,2", "--episodes", "5", "--json", f"{tmp}/prefix.json")
    pre = json.load(open(f"{tmp}/prefix.json")).get("prefixes", []) if code == 0 else []
    zr2 = zr[:, :2]
    p1_first = float(np.mean(lr[np.argmax(z[:, :2] @ zr2.T, axis=1)] == lq))
    check("torus-eval --prefixes: first circle's precision@1 equals numpy's, codes beside it",
          code == 0 and len(pre) == 2 and abs(pre[0]["precision_at_1"] - p1_first) < 1e-9 and pre[0]["bytes_per_item"] == 1
          and 0 < pre[1]["code_precision_at_1"] <= 1 and "precision@1 first 2 circles" in out, f"{err}{out}{pre}")
    expect_error("torus-eval --prefixes beyond the circles", [EVAL, "--embeddings", emb, "--prefixes", "1,99"], 1, "99")
    code, out, err = run(EVAL, "--embeddings", emb, "--protocol", "bioacoustic", "--episodes", "50", "--json", f"{tmp}/bio.json")
    bio = json.load(open(f"{tmp}/bio.json")) if code == 0 else {}
    check("torus-eval --protocol bioacoustic", code == 0 and bio.get("few_shot", {}).get("4-way 5-shot", {}).get("mean", 0) > 0.9,
          err + out)

    code, out, err = run(QUANT, "--embeddings", emb, "--threads", "2", "--json", f"{tmp}/quant.json",
                         "--plot", f"{tmp}/quant.png")
    check("torus-quant-eval runs", code == 0, err)
    check("torus-quant-eval --plot writes the PNG and the SVG beside it",
          open(f"{tmp}/quant.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n" and
          all(t in open(f"{tmp}/quant.svg").read() for t in ("bits per vector", "pqB_M", "cpqB_M", "u8-lut")))
    bad_code, _, bad_err = run(QUANT, "--embeddings", emb, "--plot", f"{tmp}/quant.jpg")
    check("torus-quant-eval --plot refuses a name not ending in .png", bad_code != 0 and ".png" in bad_err, bad_err)
    table = {r["mode"]: r for r in json.load(open(f"{tmp}/quant.json"))["rows"]} if code == 0 else {}
    check("quantisation table has every mode", set(table) == {"none", "float16", "8bit", "1bit", "pq8_2", "pq8_1", "pq4_4",
          "pq4_2", "u8-lut", "u8-l1", "u8-dot", "cpq8_2", "cpq8_1", "cpq4_4", "cpq4_2"}, str(sorted(table)))
    check("quantisation table: float precision@1 equals torus-eval's",
          abs(table.get("none", {}).get("precision_at_1", -1) - p1) < 1e-9, str(table.get("none")))
    check("quantisation table: bits per vector", [table.get(m, {}).get("bits") for m in ("none", "8bit", "1bit", "u8-lut", "pq8_2", "pq4_2")]
          == [256, 32, 8, 32, 16, 8], str(table))
    # the uint8 torus codes, by numpy: floor(256 u) of the angles, then the cosine similarity
    q8 = np.floor(256 * u).astype(np.int64) % 256
    r8 = np.floor(256 * np.load(f"{emb}/train_angles.npy")).astype(np.int64) % 256
    sim = np.cos(2 * np.pi * (q8[:, None, :] - r8[None, :, :]) / 256).sum(axis=2)
    p1_u8 = float(np.mean(lr[np.argmax(sim, axis=1)] == lq))
    check("u8-lut precision@1 near numpy's float-cosine search on the same codes",
          abs(table.get("u8-lut", {}).get("precision_at_1", -1) - p1_u8) <= 0.02, f"{table.get('u8-lut')} vs {p1_u8}")

    # Fewer than 256 references: the PQ rows with 256 centroids are skipped, the others still printed
    # (the whole table used to be lost).
    few = f"{tmp}/few_refs"
    shutil.copytree(emb, few)
    for name in ("train_embeddings", "train_angles", "train_labels"):
        np.save(f"{few}/{name}.npy", np.load(f"{emb}/{name}.npy")[:100])
    meta = json.load(open(f"{few}/meta.json"))
    if "splits" in meta and "train" in meta["splits"]:
        meta["splits"]["train"]["count"] = 100
    json.dump(meta, open(f"{few}/meta.json", "w"))
    code, out, err = run(QUANT, "--embeddings", few, "--threads", "1", "--json", f"{tmp}/quant_few.json")
    check("torus-quant-eval with 100 references runs", code == 0, err)
    few_table = {r["mode"]: r for r in json.load(open(f"{tmp}/quant_few.json"))["rows"]} if code == 0 else {}
    check("100 references: the 8-bit PQ rows are skipped, the 4-bit ones and the rest kept",
          "pq8_2" not in few_table and "cpq8_1" not in few_table and {"none", "8bit", "u8-lut", "pq4_4", "cpq4_2"} <= set(few_table),
          str(sorted(few_table)) + err)
    check("the skipped rows are named with the reason", "fewer than its 256 centroids" in err, err)

    # One NaN row in the queries: refused, naming the file and the row (it reported a precision@1).
    nan_emb = f"{tmp}/nan_emb"
    shutil.copytree(emb, nan_emb)
    zq = np.load(f"{emb}/test_embeddings.npy")
    zq[3] = np.nan
    np.save(f"{nan_emb}/test_embeddings.npy", zq)
    for binary in (EVAL, QUANT):
        expect_error(f"NaN row to {os.path.basename(binary)}", [binary, "--embeddings", nan_emb], 1,
                     "test_embeddings.npy: row 3 holds a NaN")

    # --- bad input ---
    expect_error("wrong data path", [TRAIN, "--config", f"{tmp}/run.toml", "--data.path", f"{tmp}/missing.npy",
                                     "--out", f"{tmp}/r_missing"], 1, "missing.npy")
    check("wrong data path: no run folder", not os.path.exists(f"{tmp}/r_missing"))
    with open(f"{tmp}/bad.toml", "w") as f:
        f.write("[optim]\nlr = 0.1\nmomentun = 0.9\n")
    expect_error("unknown configuration key", [TRAIN, "--config", f"{tmp}/bad.toml", "--out", f"{tmp}/r_bad"], 2,
                 "bad.toml:3", "optim.momentun", "did you mean momentum?")
    check("unknown key: no run folder", not os.path.exists(f"{tmp}/r_bad"))
    expect_error("out-of-range flag", [TRAIN, "--train.batch", "1", "--out", f"{tmp}/r_bad"], 2, "--train.batch", "[2, 65536]")
    expect_error("existing run without --resume", [TRAIN, "--config", f"{tmp}/run.toml", "--out", run_dir], 2, "--resume")
    # A bad command line is a configuration error (2), not one of CLI11's own codes (105-114).
    for binary in (TRAIN, EMBED, EVAL, QUANT):
        expect_error(f"bad command line to {os.path.basename(binary)}", [binary, "--no-such-flag"], 2, "--help")
    expect_error("flag without its value", [TRAIN, "--optim.lr"], 2, "--optim.lr")
    expect_error("mistyped flag: the nearest is suggested", [TRAIN, "--optim.momentun", "0.5"], 2,
                 "--optim.momentun: did you mean --optim.momentum?")
    code, out, err = run(TRAIN, "--help")
    check("--help shows type, default and ranges as written", code == 0 and "--optim.momentum FLOAT" in out and
          "[0, 0.9999] (default 0.9)" in out and "--data.path PATH" in out, out[:3000])
    for binary in (TRAIN, EMBED, EVAL, QUANT, BENCH):
        code, out, err = run(binary, "--version")
        check(f"{os.path.basename(binary)} --version", code == 0 and "0.1.0 (git " in out and "build: buildtype=" in out, out + err)
    # torus-bench on a small Fashion-MNIST folder: batches larger than the set are refused (they
    # divided by zero batches, SIGFPE, or read past the images, an uncaught out_of_range).
    small = f"{tmp}/small_fmnist"
    os.makedirs(small)
    import gzip, struct
    with gzip.open(f"{small}/train-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 10, 28, 28) + bytes(10 * 784))
    with gzip.open(f"{small}/train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(range(10)))
    expect_error("bench batch above the data", [BENCH, "--data", small, "--workload", "W1", "--batch", "1000"], 2,
                 "--batch 1000", "10 images")
    expect_error("bench inference batch above the data", [BENCH, "--data", small, "--workload", "W2", "--infer-batch", "60000"],
                 2, "--infer-batch 60000", "10 images")
    # torus-bench's search workload: one line per code kind, on the path TORUS_SEARCH_KERNEL forces;
    # a value that names no path is refused, naming the variable and the accepted values.
    search = [BENCH, "--workload", "search", "--refs", "500", "--search-reps", "1"]
    p = subprocess.run(search, capture_output=True, text=True, timeout=120, env=dict(os.environ, TORUS_SEARCH_KERNEL="portable"))
    lines = [json.loads(line) for line in p.stdout.splitlines()] if p.returncode == 0 else []
    check("bench search on the forced portable path", [l["kind"] for l in lines] == ["u8-lut", "u8-l1", "u8-dot", "1bit"] and
          all(l["kernel"] == "portable" and l["nb"] == 500 for l in lines), p.stdout + p.stderr)
    p = subprocess.run(search, capture_output=True, text=True, timeout=120, env=dict(os.environ, TORUS_SEARCH_KERNEL="avx3"))
    check("bench search refuses an unknown TORUS_SEARCH_KERNEL", p.returncode == 1 and 'TORUS_SEARCH_KERNEL="avx3"' in p.stderr and
          "avx512, avx2-vnni, avx2, portable" in p.stderr, p.stdout + p.stderr)
    expect_error("--resume fewer epochs than done", [TRAIN, "--resume", run_dir, "--train.epochs", "1"], 2,
                 "train.epochs", "already", untouched=[f"{run_dir}/config.toml", f"{run_dir}/metrics.csv"])

    corrupt = f"{tmp}/corrupt_run"
    shutil.copytree(run_dir, corrupt)
    blob = bytearray(open(f"{corrupt}/last.ckpt", "rb").read())
    blob[len(blob) // 2] ^= 0x40
    open(f"{corrupt}/last.ckpt", "wb").write(bytes(blob))
    expect_error("corrupt checkpoint", [TRAIN, "--resume", corrupt, "--train.epochs", "3"], 1, "last.ckpt", "corrupt",
                 untouched=[f"{corrupt}/metrics.csv", f"{corrupt}/last.ckpt", f"{corrupt}/best.ckpt"])
    open(f"{corrupt}/last.ckpt", "wb").write(bytes(blob[: len(blob) // 3]))
    expect_error("truncated checkpoint", [TRAIN, "--resume", corrupt, "--train.epochs", "3"], 1, "last.ckpt", "truncated",
                 untouched=[f"{corrupt}/metrics.csv"])
    expect_error("resume may not change the model", [TRAIN, "--resume", run_dir, "--model.dim", "16"], 2, "--model.dim")
    # An edited config.toml: the checkpoint records the settings it was trained with, and a
    # resumed run refuses a fixed one that changed (it used the edited learning rate silently).
    edited = f"{tmp}/edited_run"
    shutil.copytree(run_dir, edited)
    text = open(f"{edited}/config.toml").read()
    lr_line = next(l for l in text.splitlines() if l.startswith("lr = "))
    open(f"{edited}/config.toml", "w").write(text.replace(lr_line, "lr = 0.0123", 1))
    expect_error("resume with an edited config.toml", [TRAIN, "--resume", edited, "--train.epochs", "3"], 2,
                 "edited_run/config.toml", "optim.lr = 0.0123", "was trained with optim.lr = " + lr_line[5:],
                 untouched=[f"{edited}/metrics.csv", f"{edited}/last.ckpt", f"{edited}/best.ckpt"])
    open(f"{edited}/config.toml", "w").write(text)
    code, out, err = run(TRAIN, "--resume", edited, "--train.epochs", "3", "--train.threads", "1")
    check("resume with config.toml put back (and another thread count)", code == 0, err)

    raw = open(f"{emb}/test_embeddings.npy", "rb").read()
    bad_emb = f"{tmp}/bad_emb"
    shutil.copytree(emb, bad_emb)
    open(f"{bad_emb}/test_embeddings.npy", "wb").write(raw[:-7])
    expect_error("truncated embeddings", [EVAL, "--embeddings", bad_emb, "--json", f"{tmp}/bad_eval.json"], 1,
                 "test_embeddings.npy")
    check("truncated embeddings: no JSON written", not os.path.exists(f"{tmp}/bad_eval.json"))
    code, out, err = run(EMBED, "--run", f"{tmp}/nowhere")
    check("embed without a run: non-zero exit naming the folder", code != 0 and "nowhere" in err, err)
    os.remove(f"{corrupt}/best.ckpt")
    expect_error("embed with a missing checkpoint", [EMBED, "--run", corrupt, "--out", f"{tmp}/emb2"], 1, "best.ckpt")
    check("missing checkpoint: no embeddings written", not os.path.exists(f"{tmp}/emb2/test_embeddings.npy"))
    # A run folder travels: trained with relative data paths from one directory, copied elsewhere,
    # then embedded from a third (config.toml stores the paths resolved; it stored them as typed).
    os.makedirs(f"{tmp}/project/data")
    for name in ("train.npy", "train_labels.npy", "test.npy", "test_labels.npy"):
        shutil.copy(f"{tmp}/{name}", f"{tmp}/project/data/{name}")
    code, out, err = run(TRAIN, "--data.dataset", "features", "--model.arch", "head", "--model.dim", "8",
                         "--data.path", "data/train.npy", "--data.labels", "data/train_labels.npy",
                         "--data.test_path", "data/test.npy", "--data.test_labels", "data/test_labels.npy",
                         "--train.epochs", "1", "--train.batch", "32", "--out", "runs/relative", cwd=f"{tmp}/project")
    check("training with relative data paths", code == 0, err)
    stored = open(f"{tmp}/project/runs/relative/config.toml").read()
    check("config.toml stores the data paths resolved", f"path = '{tmp}/project/data/train.npy'" in stored, stored)
    shutil.copytree(f"{tmp}/project/runs/relative", f"{tmp}/elsewhere/copied")
    code, out, err = run(EMBED, "--run", f"{tmp}/elsewhere/copied", cwd="/")
    check("a copied run folder embeds from another directory", code == 0, err)
    check("its embeddings are in the copy", os.path.exists(f"{tmp}/elsewhere/copied/embeddings/test_embeddings.npy"))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
