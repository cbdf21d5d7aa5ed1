"""torus-sweep as a user runs it, on a tiny grid of feature-vector runs (written here with numpy,
as cli_test.py does): the cells become run folders, results.csv has one row per cell and mode with
the documented columns, a second sweep trains nothing, a sweep killed mid-cell continues it, a cell
that cannot learn is recorded as failed with its reason, and bad grid files exit 2 naming the file
and the key.

usage: sweep_test.py TORUS_SWEEP
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

SWEEP = os.path.abspath(sys.argv[1])
failures = []


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "\n      " + str(detail).strip()[:3000]))
    if not cond:
        failures.append(name)


def run(*args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


def features(path, labels, n, seed):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(7).normal(0, 3, (4, 12))
    y = np.arange(n) % 4
    np.save(path, (centres[y] + rng.normal(0, 1, (n, 12))).astype(np.float32))
    np.save(labels, y.astype(np.int64))


COLUMNS = ["cell", "model.head", "optim.lr", "dataset", "head", "dim", "koleo", "seed", "status", "reason", "detail",
           "mode", "bits", "precision_at_1", "circular_variance", "entropy_nats", "distinct", "queries_per_s",
           "train_seconds"]

tmp = tempfile.mkdtemp(prefix="torus_sweep_")
try:
    features(f"{tmp}/train.npy", f"{tmp}/train_labels.npy", 400, 1)
    features(f"{tmp}/test.npy", f"{tmp}/test_labels.npy", 200, 2)
    base = f"""[base]
data.dataset = "features"
data.path = "{tmp}/train.npy"
data.labels = "{tmp}/train_labels.npy"
data.test_path = "{tmp}/test.npy"
data.test_labels = "{tmp}/test_labels.npy"
data.holdout = 80
model.arch = "head"
model.dim = 2
loss.views = 1
optim.optimizer = "adam"
train.epochs = 3
train.batch = 32
train.threads = 1
"""
    # optim.lr 1e-7: Adam moves each weight by about 1e-7 a step, so SupCon stays where the random
    # initial weights put it, above the chance loss at D 2 (a stall); lr 0.01 separates the 4 clusters.
    grid = f"{tmp}/grid.toml"
    with open(grid, "w") as f:
        f.write(base + '[axes]\n"model.head" = ["torusN", "torusC"]\n"optim.lr" = [0.01, 1e-7]\n'
                       '[eval]\nquant_modes = ["none", "8bit", "1bit"]\n')
    out = f"{tmp}/sweep"

    code, stdout, stderr = run(SWEEP, "--grid", grid, "--out", out, "--dry-run")
    check("dry run lists 4 cells to run", code == 0 and "4 cells, 0 done, 4 to run" in stdout, stdout + stderr)
    check("dry run made nothing", not os.path.exists(f"{out}/cells"))

    # The first sweep, killed while its first cell trains (its run folder has a checkpoint).
    started = time.time()
    p = subprocess.Popen([SWEEP, "--grid", grid, "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    first = f"{out}/cells/head-torusN_lr-0.01"
    while p.poll() is None and not os.path.exists(f"{first}/last.ckpt") and time.time() - started < 60:
        time.sleep(0.005)
    killed_mid_cell = p.poll() is None and not os.path.exists(f"{first}/cell.json")
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    print(f"# the first sweep was killed {'while its first cell trained' if killed_mid_cell else 'after its first cell'}")
    check("killed sweep left its first cell unrecorded", not os.path.exists(f"{first}/cell.json") or not killed_mid_cell)

    code, stdout, stderr = run(SWEEP, "--grid", grid, "--out", out)
    first_seconds = time.time() - started
    check("sweep runs", code == 0, stderr)
    summary = json.loads(stdout.strip().splitlines()[-1]) if code == 0 else {}
    check("summary counts 4 cells, 2 failed", summary.get("cells") == 4 and summary.get("failed") == 2, stdout)
    names = sorted(os.listdir(f"{out}/cells")) if os.path.isdir(f"{out}/cells") else []
    check("cells are named by their values", names == ["head-torusC_lr-0.01", "head-torusC_lr-1e-07",
                                                       "head-torusN_lr-0.01", "head-torusN_lr-1e-07"], names)
    for n in names:
        d = f"{out}/cells/{n}"
        check(f"{n} is a run folder with its evaluations",
              all(os.path.exists(f"{d}/{f}") for f in ("config.toml", "metrics.csv", "last.ckpt", "embeddings/meta.json",
                                                         "eval.json", "quant_eval.json", "cell.json", "train.log")),
              os.listdir(d))
    resumed = json.load(open(f"{first}/cell.json"))
    if killed_mid_cell:
        check("the killed cell resumed from its checkpoint", resumed.get("train_resumed_from_epoch", 0) >= 1, resumed)

    rows = list(csv.DictReader(open(f"{out}/results.csv")))
    check("results.csv columns", rows and list(rows[0].keys()) == COLUMNS, rows[0].keys() if rows else "no rows")
    check("results.csv: 4 cells x 3 modes", len(rows) == 12 and sorted({r["mode"] for r in rows}) == ["1bit", "8bit", "none"],
          [(r["cell"], r["mode"]) for r in rows])
    by_cell = {}
    for r in rows:
        by_cell.setdefault(r["cell"], r)
    for n in names:
        r = by_cell.get(n, {})
        if "lr-1e-07" in n:
            check(f"{n} failed as a stall", r.get("status") == "failed" and r.get("reason") == "stall", r)
        else:
            check(f"{n} trained", r.get("status") == "ok" and float(r.get("precision_at_1") or 0) > 0.5, r)
    results = json.load(open(f"{out}/results.json"))
    check("results.json has the same rows", len(results["rows"]) == 12 and results["rows"][0]["values"]["model.head"] == "torusN")
    report = open(f"{out}/report.md").read() if os.path.exists(f"{out}/report.md") else ""
    check("report counts the failed cells", "4 cells, 2 trained, 2 failed (2 stall)" in report, report[:800])
    check("report states the claims", report.count("supported") + report.count("not testable") >= 5, report)
    figures = sorted(os.listdir(f"{out}/figures")) if os.path.isdir(f"{out}/figures") else []
    check("figures per mode and per head, PNG and SVG",
          {"features_lr-0.01_8bit.png", "features_lr-0.01_8bit.svg", "features_lr-0.01_torusN_bits.png",
           "features_lr-1e-07_torusC_bits.svg"} <= set(figures),
          figures)

    # A second sweep trains nothing and rewrites no cell.
    before = {n: os.stat(f"{out}/cells/{n}/cell.json").st_mtime_ns for n in names}
    started = time.time()
    code, stdout, stderr = run(SWEEP, "--grid", grid, "--out", out)
    second_seconds = time.time() - started
    summary = json.loads(stdout.strip().splitlines()[-1]) if code == 0 else {}
    check("second sweep ran no cell", code == 0 and summary.get("ran") == 0, stdout + stderr)
    check("second sweep left every cell.json alone",
          all(os.stat(f"{out}/cells/{n}/cell.json").st_mtime_ns == t for n, t in before.items()))
    print(f"# timing: first sweep {first_seconds:.1f} s for 4 cells, second {second_seconds:.1f} s")
    code, stdout, stderr = run(SWEEP, "--grid", grid, "--out", out, "--dry-run")
    check("dry run sees every cell done", code == 0 and "4 cells, 4 done, 0 to run" in stdout and "done, failed (stall)" in stdout,
          stdout)

    # A torusC head driven by SGD at lr 100 puts every vector on one point: SupCon sits exactly at
    # the chance loss and the codes collapse, which the run itself reports as a success.
    collapse_grid = f"{tmp}/collapse.toml"
    with open(collapse_grid, "w") as f:
        f.write(base.replace('optim.optimizer = "adam"', 'optim.optimizer = "sgd"\noptim.lr = 100\noptim.momentum = 0.99\n'
                             'model.head = "torusC"'))
    code, stdout, stderr = run(SWEEP, "--grid", collapse_grid, "--out", f"{tmp}/collapse")
    record = json.load(open(f"{tmp}/collapse/cells/base/cell.json")) if code == 0 else {}
    reasons = [x["reason"] for x in record.get("failures", [])]
    check("collapsed cell: torus-train itself succeeded", record.get("stages", {}).get("train", {}).get("exit") == 0, record)
    check("collapsed cell is failed: stall at chance, then collapse", record.get("status") == "failed" and
          reasons[:1] == ["stall"] and "collapse" in reasons, reasons)
    check("collapsed cell: its codes are named", any("distinct codes for 4 classes" in x["detail"]
                                                     for x in record.get("failures", [])), record.get("failures"))

    # A tool failing (here torus-train on data not there yet) is recorded as an error and tried again
    # by the next sweep, unlike a verdict on the settings.
    late_grid = f"{tmp}/late.toml"
    with open(late_grid, "w") as f:
        f.write(base.replace(f"{tmp}/train.npy", f"{tmp}/late.npy") + 'model.head = "torusN"\noptim.lr = 0.01\n')
    code, stdout, stderr = run(SWEEP, "--grid", late_grid, "--out", f"{tmp}/late")
    record = json.load(open(f"{tmp}/late/cells/base/cell.json")) if code == 0 else {}
    check("missing data: the cell is failed with reason error naming the file",
          record.get("reason") == "error" and "late.npy" in record["failures"][0]["detail"], record.get("failures"))
    shutil.copy(f"{tmp}/train.npy", f"{tmp}/late.npy")
    code, stdout, stderr = run(SWEEP, "--grid", late_grid, "--out", f"{tmp}/late")
    summary = json.loads(stdout.strip().splitlines()[-1]) if code == 0 else {}
    record = json.load(open(f"{tmp}/late/cells/base/cell.json")) if code == 0 else {}
    check("the errored cell runs again once the data is there", summary.get("ran") == 1 and record.get("status") == "ok",
          stdout + stderr)

    # A grid edited since may not reuse the cells run with other settings.
    edited = f"{tmp}/edited.toml"
    with open(edited, "w") as f:
        f.write(base.replace("train.epochs = 3", "train.epochs = 4") +
                '[axes]\n"model.head" = ["torusN", "torusC"]\n"optim.lr" = [0.01, 1e-7]\n')
    code, stdout, stderr = run(SWEEP, "--grid", edited, "--out", out)
    check("an edited grid is refused on the old cells", code == 2 and "other settings" in stderr, stderr)

    # Bad grid files: exit 2, the message names the file and the key.
    for name, text, fragments in [
        ("unknown", '[axes]\n"model.haed" = ["sphere"]\n', ["model.haed", "did you mean model.head"]),
        ("empty", '[axes]\n"loss.koleo" = []\n', ["loss.koleo", "empty axis"]),
        ("type", '[axes]\n"model.dim" = ["16"]\n', ["model.dim", "expected an integer"]),
        ("section", '[base]\ntrain.epoch = 3\n', ["train.epoch", "did you mean train.epochs"]),
    ]:
        path = f"{tmp}/{name}.toml"
        with open(path, "w") as f:
            f.write(text)
        code, stdout, stderr = run(SWEEP, "--grid", path, "--out", f"{tmp}/bad")
        check(f"bad grid {name}: exit 2", code == 2, stderr)
        for frag in [path] + fragments:
            check(f"bad grid {name}: names {frag!r}", frag in stderr, stderr)
        check(f"bad grid {name}: nothing written", not os.path.exists(f"{tmp}/bad"))
    code, stdout, stderr = run(SWEEP, "--grid", f"{tmp}/missing.toml", "--out", f"{tmp}/bad")
    check("missing grid: exit 2 naming it", code == 2 and "missing.toml" in stderr, stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
