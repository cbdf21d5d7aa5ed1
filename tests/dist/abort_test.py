"""One failing rank stops every rank: run abort_probe under mpirun with 2 and 3 ranks and check that
the run ends non-zero within seconds, that no rank passed the barrier the failing rank never
reached, and that the failing rank's message is printed exactly once.

usage: abort_test.py MPIRUN PROBE   (the environment allows mpirun as root: meson's test env)"""
import subprocess
import sys
import time

mpirun, probe = sys.argv[1], sys.argv[2]
MESSAGE = "cannot read data/shard-1.bin: expected 4096 bytes, found 17"
failures = []
for ranks in (2, 3):
    start = time.monotonic()
    try:
        run = subprocess.run([mpirun, "--oversubscribe", "--bind-to", "none", "--timeout", "30", "-np", str(ranks), probe],
                             capture_output=True, text=True, timeout=45)
    except subprocess.TimeoutExpired:
        failures.append(f"{ranks} ranks: still running after 45 s (a rank hangs)")
        continue
    seconds = time.monotonic() - start
    output = run.stdout + run.stderr
    print(f"{ranks} ranks: exit status {run.returncode} after {seconds:.1f} s")
    if run.returncode == 0:
        failures.append(f"{ranks} ranks: exit status 0, expected non-zero")
    if seconds > 20:
        failures.append(f"{ranks} ranks: took {seconds:.1f} s, expected the abort within 20 s")
    if output.count(MESSAGE) != 1:
        failures.append(f"{ranks} ranks: the message appears {output.count(MESSAGE)} times, expected once")
    if f"torus: rank 1 of {ranks}: {MESSAGE}" not in output:
        failures.append(f"{ranks} ranks: no line 'torus: rank 1 of {ranks}: ...'")
    if "passed the barrier" in output:
        failures.append(f"{ranks} ranks: a rank passed the barrier the failing rank never reached")
    if failures:
        print(output)
for f in failures:
    print("FAILED:", f)
sys.exit(1 if failures else 0)
