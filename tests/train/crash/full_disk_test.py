#!/usr/bin/env python3
"""A full disk: training into a small tmpfs fails with a clear error and keeps the previous
checkpoint intact, whichever write the space runs out in.

    full_disk_test.py TORUS_TRAIN

Each case mounts a tmpfs of a different size in a private mount namespace (`unshare -m`, or
`unshare -rm` without root), trains the run of crash_test.py into it, and copies the folder out
before the namespace goes. The sizes are spread so that the space runs out in different files
(the first config.toml, a plot, best.ckpt, last.ckpt, the metrics row). Each case must:
  - exit 1 with a message that names a file in the run folder and says the device is full;
  - leave no temporary file, a whole last.ckpt if any, and metrics rows 1..n;
  - resume (copied to a disk with space) to the uninterrupted run's last.ckpt, bit for bit.
Exits 77 (skipped) when no mount namespace can be made (a container without the capability).
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_common import checkpoint_epoch, metrics_rows, training_setup, without_timings  # noqa: E402

TRAIN = sys.argv[1]
failures = checks = 0


def check(name, cond, detail=""):
    global failures, checks
    checks += 1
    print(f"ok    {name}" if cond else f"FAIL  {name}\n{detail}")
    failures += 0 if cond else 1


def namespace_prefix():
    for prefix in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = subprocess.run(prefix + ["sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', tempfile.gettempdir()],
                               capture_output=True)
        if probe.returncode == 0:
            return prefix
    return None


prefix = shutil.which("unshare") and namespace_prefix()
if not prefix:
    print("skipped: no private mount namespace here (unshare -m and unshare -rm both refused)")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="torus_full_disk_")
try:
    new_run = training_setup(tmp)
    ref = f"{tmp}/ref"
    p = subprocess.run([TRAIN] + new_run + [ref], capture_output=True, text=True)
    check("uninterrupted run", p.returncode == 0, p.stderr)
    ref_rows = metrics_rows(f"{ref}/metrics.csv")
    ref_files = sorted(os.listdir(ref))

    mnt = f"{tmp}/mnt"
    os.makedirs(mnt)
    where, resumed = set(), 0
    for kib in (4, 24, 56, 88, 120, 152, 184, 208, 224, 232, 236, 240, 244, 248, 252, 256, 264, 300):
        label = f"tmpfs of {kib} KiB"
        out = f"{tmp}/out_{kib}"
        script = (f'mount -t tmpfs -o size={kib}k tmpfs "{mnt}" || exit 99\n'
                  f'"{TRAIN}" "$@" "{mnt}/run" 2>"{tmp}/stderr_{kib}"\n'
                  f'status=$?\n'
                  f'[ -d "{mnt}/run" ] && cp -a "{mnt}/run" "{out}"\n'
                  f'exit $status\n')
        p = subprocess.run(prefix + ["sh", "-c", script, "sh"] + new_run, capture_output=True, text=True)
        err = open(f"{tmp}/stderr_{kib}").read() if os.path.exists(f"{tmp}/stderr_{kib}") else ""
        if p.returncode == 0:
            # Enough space for the whole run: it must equal the uninterrupted one.
            check(f"{label}: a run that fits is unharmed",
                  open(f"{out}/last.ckpt", "rb").read() == open(f"{ref}/last.ckpt", "rb").read())
            continue
        check(f"{label}: exit 1", p.returncode == 1, f"exit {p.returncode}\n{err}")
        check(f"{label}: the message says the device is full and names the file",
              "No space left on device" in err and f"{mnt}/run/" in err, err)
        for line in err.splitlines():
            if "No space left" in line:
                where.add(line.split(f"{mnt}/run/", 1)[-1].split(":")[0].split(" ")[0])
        if not os.path.exists(out):
            continue  # the space ran out before the folder was made
        files = os.listdir(out)
        check(f"{label}: no temporary file left", not any(".tmp-" in f for f in files), str(files))
        rows = metrics_rows(f"{out}/metrics.csv")
        epochs = [int(r["epoch"]) for r in rows]
        check(f"{label}: metrics rows are epochs 1..n", epochs == list(range(1, len(epochs) + 1)), str(epochs))
        if os.path.exists(f"{out}/last.ckpt"):
            e = checkpoint_epoch(f"{out}/last.ckpt")
            check(f"{label}: last.ckpt is whole", isinstance(e, int) and e <= len(rows), f"{e}, rows {epochs}")
            resumed += 1
            p = subprocess.run([TRAIN, "--resume", out], capture_output=True, text=True)
            check(f"{label}: resumed on a disk with space", p.returncode == 0, p.stderr)
            check(f"{label}: resumed to the uninterrupted last.ckpt, bit for bit",
                  open(f"{out}/last.ckpt", "rb").read() == open(f"{ref}/last.ckpt", "rb").read())
            check(f"{label}: resumed metrics equal the uninterrupted run's",
                  without_timings(metrics_rows(f"{out}/metrics.csv")) == without_timings(ref_rows))
            check(f"{label}: resumed folder holds the same files", sorted(os.listdir(out)) == ref_files,
                  str(sorted(os.listdir(out))))
    print("the space ran out in: " + ", ".join(sorted(where)))
    check("the space ran out in at least four different files", len(where) >= 4, str(where))
    check("at least three cases failed after a checkpoint and resumed", resumed >= 3, str(resumed))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{checks - failures} checks passed, {failures} failed")
sys.exit(1 if failures else 0)
