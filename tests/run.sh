#!/usr/bin/env bash
# The second command of the README: install what is missing, build, run every test. The last line
# is "N passed, N failed", counting test cases (each TAP line of a Catch2 executable, or one per
# plain test); the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
. train/setup_build.sh
torus_install_packages $TORUS_PACKAGES
torus_build
start=$(date +%s)
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2
meson_status=$?
echo "test suite took $(( $(date +%s) - start )) s"
python3 - "$BUILD_DIR/meson-logs/testlog.json" "$meson_status" <<'PY'
import json, re, sys
passed = failed = 0
try:
    records = [json.loads(line) for line in open(sys.argv[1])]
except OSError:
    records = []
for r in records:
    lines = r.get("stdout") or ""
    ok = len(re.findall(r"^ok \d+", lines, re.M))
    bad = len(re.findall(r"^not ok \d+", lines, re.M))
    if ok + bad == 0:  # a plain test: one case
        ok, bad = (1, 0) if r["result"] == "OK" else (0, 1)
    elif r["result"] != "OK" and bad == 0:  # crashed or timed out after its last TAP line
        bad = 1
    passed += ok
    failed += bad
if not records or (int(sys.argv[2]) != 0 and failed == 0):
    failed += 1  # meson itself failed before or around the tests
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
