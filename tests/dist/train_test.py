"""torus-train under mpirun, as a user runs it: on a Fashion-MNIST subset (the Debian package's own
images, written here as IDX files), a 3-epoch run with 2 ranks against the single-process run, its
checkpoint resumed under 1 rank and under 3, and the faults: configurations that differ between
ranks, a bad setting on one rank, a rank that cannot read its data, and a rank killed mid-run.
Every mpirun must end within its timeout whatever a rank does.

Then torus-embed under mpirun writes the splits in shards that torus-eval, torus-index and
torus_io.py read back as the single-process files.

usage: train_test.py MPIRUN TORUS_TRAIN TORUS_EMBED TORUS_EVAL   (mpirun may run as root: meson's test env)"""
import csv
import gzip
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

MPIRUN, TRAIN, EMBED, EVAL = sys.argv[1], *(os.path.abspath(a) for a in sys.argv[2:5])
FASHION = "/usr/share/datasets/fashion-mnist"
failures = []


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "\n      " + str(detail).strip()[-3000:]))
    if not cond:
        failures.append(name)


def mpirun(ranks, *args, timeout=120, program=TRAIN):
    """ranks: an int, or a list of argument lists, one per rank (mpirun's "A : B" form)."""
    cmd = [MPIRUN, "--oversubscribe", "--bind-to", "none", "--timeout", str(timeout)]
    if isinstance(ranks, int):
        cmd += ["-np", str(ranks), program, *args]
    else:
        for i, rank_args in enumerate(ranks):
            cmd += ([":"] if i else []) + ["-np", "1", TRAIN, *rank_args]
    try:
        p = subprocess.run([str(a) for a in cmd], capture_output=True, text=True, timeout=timeout + 30)
    except subprocess.TimeoutExpired as e:
        return None, "", f"still running after {timeout + 30} s: {e}"
    return p.returncode, p.stdout, p.stderr


def single(*args):
    p = subprocess.run([TRAIN, *[str(a) for a in args]], capture_output=True, text=True, timeout=180)
    return p.returncode, p.stdout, p.stderr


def metrics(run_dir):
    return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(f"{run_dir}/metrics.csv"))]


def leftovers(run_dir):
    return [f for f in os.listdir(run_dir) if f.startswith(".") or "tmp" in f]


def write_idx_subset(out, n_train, n_test):
    def read(path, offset):
        return np.frombuffer(gzip.open(path).read(), np.uint8, offset=offset)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = read(f"{FASHION}/{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:n]
        y = read(f"{FASHION}/{prefix}-labels-idx1-ubyte.gz", 8)[:n]
        with gzip.open(f"{out}/{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, 28, 28) + x.tobytes())
        with gzip.open(f"{out}/{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + y.tobytes())


if not os.path.exists(f"{FASHION}/train-images-idx3-ubyte.gz"):
    print(f"skipped: {FASHION} is missing (the Debian package dataset-fashion-mnist)")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="torus_dist_train_")
try:
    data = f"{tmp}/data"
    os.makedirs(data)
    write_idx_subset(data, 2400, 600)
    config = f"{tmp}/run.toml"
    with open(config, "w") as f:
        f.write(f"""[data]
dataset = "fashion-mnist"
path = "{data}"
holdout = 400
references = 2000
[model]
arch = "convnet"
head = "sphere"
dim = 16
[loss]
views = 1
koleo = 0.01
[optim]
optimizer = "sgd"
lr = 0.05
momentum = 0.9
schedule = "constant"  # a run of 2 epochs resumed to 3 is then the run of 3
[train]
epochs = 3
batch = 96
threads = 1
seed = 1
""")
    # The single-process run and the same run on 2 ranks: the global batch is the single-process
    # batch, so only the order of float sums differs (the gradients are averaged, the gathered
    # features reordered); the first epoch's loss agrees to rounding, the end within noise.
    code, out, err = single("--config", config, "--out", f"{tmp}/one")
    check("single-process run", code == 0, err)
    code, out, err = mpirun(2, "--config", config, "--out", f"{tmp}/two")
    check("2-rank run", code == 0, err)
    if code == 0:
        one, two = metrics(f"{tmp}/one"), metrics(f"{tmp}/two")
        check("2 ranks: 3 metrics rows, written once (rank 0 only)", len(two) == 3, two)
        check("2 ranks: epoch 1's loss equals the single-process loss (relative 1e-4)",
              abs(two[0]["loss"] - one[0]["loss"]) <= 1e-4 * abs(one[0]["loss"]), (one[0], two[0]))
        check("2 ranks: precision@1 after 3 epochs within 0.02 of the single-process run",
              abs(two[2]["precision_at_1"] - one[2]["precision_at_1"]) <= 0.02, (one[2], two[2]))
        check("2 ranks: the run learnt (precision@1 > 0.5, ten classes)", two[2]["precision_at_1"] > 0.5, two[2])
        check("2 ranks: one summary line on stdout", out.count('"run"') == 1, out)
        check("2 ranks: the run folder holds the checkpoints", all(os.path.exists(f"{tmp}/two/{f}") for f in
                                                                   ("config.toml", "last.ckpt", "best.ckpt", "embeddings.png")))
        check("2 ranks: no temporary files left", not leftovers(f"{tmp}/two"), os.listdir(f"{tmp}/two"))

    # Embeddings in shards: 3 ranks write three parts of each split, read back as one process's files.
    if os.path.exists(f"{tmp}/two/best.ckpt"):
        p = subprocess.run([EMBED, "--run", f"{tmp}/two", "--out", f"{tmp}/emb1", "--threads", "1"], capture_output=True,
                           text=True, timeout=120)
        check("torus-embed, one process", p.returncode == 0, p.stderr)
        code, out, err = mpirun(3, "--run", f"{tmp}/two", "--out", f"{tmp}/emb3", "--threads", "1", program=EMBED)
        check("torus-embed on 3 ranks", code == 0, err)
        shards = sorted(f for f in os.listdir(f"{tmp}/emb3") if ".shard-" in f) if code == 0 else []
        check("torus-embed on 3 ranks: three shards of embeddings and labels per split",
              len(shards) == 12 and "train_embeddings.shard-2-of-3.npy" in shards, shards)
        if code == 0 and p.returncode == 0:
            whole = np.load(f"{tmp}/emb1/train_embeddings.npy")
            parts = np.concatenate([np.load(f"{tmp}/emb3/train_embeddings.shard-{r}-of-3.npy") for r in range(3)])
            check("the shards hold the single-process embeddings, bit for bit", np.array_equal(whole, parts))
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "train", "tools", "python"))
            import torus_io
            a, b = torus_io.read_embeddings(f"{tmp}/emb1"), torus_io.read_embeddings(f"{tmp}/emb3")
            check("torus_io reads the shards back as the whole splits",
                  all(np.array_equal(a[s][k], b[s][k]) for s in ("train", "test") for k in ("embeddings", "labels")))
            evals = [subprocess.run([EVAL, "--embeddings", f"{tmp}/{d}", "--threads", "1"], capture_output=True, text=True,
                                    timeout=120) for d in ("emb1", "emb3")]
            same = [[l for l in e.stdout.splitlines() if not l.startswith("search")] for e in evals]
            check("torus-eval reads the shards: the same report", evals[1].returncode == 0 and same[0] == same[1],
                  evals[1].stderr + "\n".join(same[1]))

    # Two epochs on 2 ranks, then the third under 1 rank and under 3: the same run as three epochs
    # on 2 ranks (the checkpoint holds everything; the rank count only reorders float sums).
    code, out, err = mpirun(2, "--config", config, "--out", f"{tmp}/part", "--train.epochs", "2")
    check("2-rank run of 2 epochs", code == 0, err)
    for ranks in (1, 3):
        resumed = f"{tmp}/resumed{ranks}"
        shutil.copytree(f"{tmp}/part", resumed)
        code, out, err = mpirun(ranks, "--resume", resumed, "--train.epochs", "3")
        check(f"resumed under {ranks} rank(s)", code == 0, err)
        if code == 0 and os.path.exists(f"{tmp}/two/metrics.csv"):
            rows, full = metrics(resumed), metrics(f"{tmp}/two")
            check(f"resumed under {ranks}: 3 rows", len(rows) == 3, rows)
            check(f"resumed under {ranks}: epoch 3's loss equals the uninterrupted 2-rank run's (relative 1e-3)",
                  len(rows) == 3 and abs(rows[2]["loss"] - full[2]["loss"]) <= 1e-3 * abs(full[2]["loss"]), (rows, full))
            check(f"resumed under {ranks}: precision@1 within 0.02 of it",
                  len(rows) == 3 and abs(rows[2]["precision_at_1"] - full[2]["precision_at_1"]) <= 0.02, (rows, full))

    # Ranks started with different settings must not train two different models together.
    start = time.monotonic()
    code, out, err = mpirun([["--config", config, "--out", f"{tmp}/mismatch"],
                             ["--config", config, "--out", f"{tmp}/mismatch", "--optim.lr", "0.1"]], timeout=60)
    check("different configurations: non-zero exit", code not in (0, None), err)
    check("different configurations: the message says what differs",
          "the run's configuration (config.toml) differs between ranks: rank 1" in err, err)
    check("different configurations: within 30 s", time.monotonic() - start < 30, time.monotonic() - start)
    check("different configurations: no run folder left", not os.path.exists(f"{tmp}/mismatch"))

    # A bad setting on one rank: every rank leaves with the configuration's status and rank 0 says it.
    code, out, err = mpirun([["--config", config, "--out", f"{tmp}/bad"],
                             ["--config", config, "--out", f"{tmp}/bad", "--optim.lr", "-1"]], timeout=60)
    check("a bad setting on rank 1: exit status 2", code == 2, (code, err))
    check("a bad setting on rank 1: the message names the rank and the setting",
          "configuration (rank 1)" in err and "optim.lr" in err, err)

    # A rank that cannot read its data (its copy is corrupt): it names the file and every rank ends.
    broken = f"{tmp}/broken"
    shutil.copytree(data, broken)
    with open(f"{broken}/train-images-idx3-ubyte.gz", "r+b") as f:
        f.truncate(5000)
    start = time.monotonic()
    code, out, err = mpirun([["--config", config, "--out", f"{tmp}/unread"],
                             ["--config", config, "--out", f"{tmp}/unread", "--data.path", broken]], timeout=60)
    check("unreadable data on rank 1: non-zero exit", code not in (0, None), err)
    check("unreadable data on rank 1: the message names the rank and the file",
          "torus: rank 1 of 2:" in err and "train-images-idx3-ubyte.gz" in err, err)
    check("unreadable data on rank 1: within 30 s", time.monotonic() - start < 30, time.monotonic() - start)
    check("unreadable data on rank 1: no run folder left", not os.path.exists(f"{tmp}/unread"))

    # A rank killed mid-run: mpirun ends the others; what is on disk is whole and resumes.
    killed = f"{tmp}/killed"
    cmd = [MPIRUN, "--oversubscribe", "--bind-to", "none", "--timeout", "120", "-np", "2", TRAIN, "--config", config,
           "--out", killed, "--train.epochs", "50"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(f"{killed}/last.ckpt"):
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
                    exe = os.readlink(f"/proc/{pid}/exe")
                except OSError:
                    continue
                if os.path.basename(exe) == "torus-train" and b"OMPI_COMM_WORLD_RANK=1" in env:
                    victim = int(pid)
            if victim:
                break
        time.sleep(0.2)
    check("killed rank: rank 1 found after the first checkpoint", victim is not None)
    if victim:
        time.sleep(0.5)  # mid-epoch
        os.kill(victim, signal.SIGKILL)
        start = time.monotonic()
        try:
            out, err = proc.communicate(timeout=60)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code = None
        check("killed rank: mpirun ends with a non-zero status within 60 s", code not in (0, None), (code, err))
        check("killed rank: the others end within 30 s", time.monotonic() - start < 30, time.monotonic() - start)
        check("killed rank: mpirun names the killed process", "signal 9" in err or "Killed" in err, err)
        # Rank 0 may be killed inside a write: its temporary file is then left, never a torn
        # checkpoint, and the resumed run clears it.
        done = len(metrics(killed))
        code, out, err = single("--resume", killed, "--train.epochs", done + 1)
        check("killed rank: the run resumes as one process", code == 0, err)
        check("killed rank: no temporary files left after the resume", not leftovers(killed), os.listdir(killed))
    else:
        proc.kill()
        proc.communicate()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
