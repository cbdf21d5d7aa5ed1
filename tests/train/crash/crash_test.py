#!/usr/bin/env python3
"""kill -9 at 41 points of a training run, then recovery: the run folder must stay consistent and
the recovered run must end bit for bit where an uninterrupted one does.

    crash_test.py TORUS_TRAIN KILL_AT_SYNC_SO

The points are chosen from the trace of an uninterrupted run (kill_at_sync.cpp numbers every fsync
and rename): every point of the second epoch's save (the metrics row; the loss, precision and
circular variance plots; best.ckpt; the embedding and angle plots; last.ckpt: before each temporary
file's fsync, before its rename, before the folder's fsync; each plot is a PNG and an SVG, so
1 + 3 * (10 + 2) = 37 points), and four more: config.toml's rename and the first metrics row in
epoch 1, epoch 1's last.ckpt rename, and the run's very last fsync. After each kill:
  - last.ckpt, when present, is whole (magic, size, CRC-32) and metrics.csv holds a row for each
    epoch it has done; best.ckpt is the best row up to its epoch; so nothing on disk disagrees;
  - a folder without last.ckpt is refused by a new run without --overwrite, with a clear message;
  - recovery (--resume, or --overwrite when no checkpoint was written) exits 0, leaves no
    temporary file, and ends with last.ckpt and best.ckpt byte-identical to the uninterrupted
    run's and the same metrics (timings aside), at one thread.
The run is crash_common.training_setup's (feature vectors, a head with SGD momentum and EMA), so 40
runs take seconds.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_common import checkpoint_epoch, metrics_rows, training_setup, without_timings  # noqa: E402

TRAIN, PRELOAD = sys.argv[1], os.path.abspath(sys.argv[2])
failures = 0
checks = 0


def check(name, cond, detail=""):
    global failures, checks
    checks += 1
    if cond:
        print(f"ok    {name}")
    else:
        failures += 1
        print(f"FAIL  {name}\n{detail}")


def run(args, kill_at=None, trace=None):
    env = dict(os.environ)
    if kill_at is not None or trace is not None:
        env["LD_PRELOAD"] = PRELOAD
        # A sanitizer build wants its runtime first; the preloaded library does not mind.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    if kill_at is not None:
        env["TORUS_KILL_AT"] = str(kill_at)
    if trace is not None:
        env["TORUS_SYNC_TRACE"] = trace
    p = subprocess.run([TRAIN] + args, capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="torus_crash_")
try:
    new_run = training_setup(tmp)

    # The uninterrupted run, traced.
    ref, trace_file = f"{tmp}/ref", f"{tmp}/trace.txt"
    code, out, err = run(new_run + [ref], trace=trace_file)
    check("uninterrupted run", code == 0, err)
    ops = [line.split(" ", 1)[1].replace(ref + "/", "") for line in open(trace_file).read().splitlines()]
    ops = ["fsync of the run folder" if op == f"fsync {ref}" else op for op in ops]
    ref_rows = metrics_rows(f"{ref}/metrics.csv")
    best_epoch = max(range(len(ref_rows)), key=lambda i: (float(ref_rows[i]["precision_at_1"]), -i)) + 1
    check("the reference run has a best epoch after the first (so best.ckpt is rewritten)", best_epoch >= 2,
          str(ref_rows))

    row_syncs = [i for i, op in enumerate(ops) if op == "fsync metrics.csv"]
    epoch2 = list(range(row_syncs[1], row_syncs[2]))
    first = lambda text: next(i for i, op in enumerate(ops) if text in op)
    points = sorted(set([first("-> config.toml"), row_syncs[0], first("-> last.ckpt"), len(ops) - 1] + epoch2))
    check("41 kill points", len(points) == 41, f"{len(points)} points: {[ops[i] for i in points]}")
    check("the points include best.ckpt and last.ckpt renames",
          any("-> best.ckpt" in ops[i] for i in points) and any("-> last.ckpt" in ops[i] for i in points))

    ref_files = sorted(os.listdir(ref))
    for index in points:
        label = f"kill before #{index + 1} ({ops[index]})"
        d = f"{tmp}/killed_{index + 1}"
        code, out, err = run(new_run + [d], kill_at=index + 1)
        check(f"{label}: killed", code == -signal.SIGKILL, f"exit {code}\n{err}")

        # What the kill left on disk agrees with itself.
        rows = metrics_rows(f"{d}/metrics.csv")
        epochs = [int(r["epoch"]) for r in rows]
        check(f"{label}: metrics rows are epochs 1..n", epochs == list(range(1, len(epochs) + 1)), str(epochs))
        if os.path.exists(f"{d}/last.ckpt"):
            e = checkpoint_epoch(f"{d}/last.ckpt")
            check(f"{label}: last.ckpt is whole and metrics.csv holds its epochs",
                  isinstance(e, int) and 1 <= e <= len(rows), f"last.ckpt: {e}, rows {epochs}")
        if os.path.exists(f"{d}/best.ckpt"):
            b = checkpoint_epoch(f"{d}/best.ckpt")
            ok = isinstance(b, int) and 1 <= b <= len(rows)
            if ok:
                p = [float(r["precision_at_1"]) for r in rows[:b]]
                ok = p[b - 1] == max(p) and p.index(max(p)) == b - 1
            check(f"{label}: best.ckpt is the best row up to its epoch", ok, f"best.ckpt: {b}, rows {rows}")

        # Recovery.
        if os.path.exists(f"{d}/last.ckpt") and checkpoint_epoch(f"{d}/last.ckpt") == len(ref_rows):
            # Killed after the final last.ckpt: the run is complete, and a resume says so.
            code, out, err = run(["--resume", d])
            check(f"{label}: --resume of a finished run says it is done", code == 2 and "already done" in err, err)
        elif os.path.exists(f"{d}/last.ckpt"):
            code, out, err = run(["--resume", d])
            check(f"{label}: --resume", code == 0, err)
        else:
            if os.path.exists(f"{d}/metrics.csv"):
                code, out, err = run(new_run + [d])
                check(f"{label}: a new run without --overwrite is refused, saying why",
                      code == 2 and "stopped before its first checkpoint" in err and "--overwrite" in err, err)
            code, out, err = run(new_run + [d, "--overwrite"])
            check(f"{label}: --overwrite", code == 0, err)

        files = sorted(os.listdir(d))
        check(f"{label}: the same files, no temporary left", files == ref_files, f"{files} vs {ref_files}")
        for name in ("last.ckpt", "best.ckpt"):
            same = os.path.exists(f"{d}/{name}") and open(f"{d}/{name}", "rb").read() == open(f"{ref}/{name}", "rb").read()
            check(f"{label}: {name} bit-identical to the uninterrupted run", same)
        check(f"{label}: metrics equal the uninterrupted run's",
              without_timings(metrics_rows(f"{d}/metrics.csv")) == without_timings(ref_rows))
        shutil.rmtree(d)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{checks - failures} checks passed, {failures} failed")
sys.exit(1 if failures else 0)
