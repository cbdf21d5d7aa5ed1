#!/usr/bin/env bash
# The first command of the README: install what is missing, build in release mode, run the main job.
# Until the training binary lands, the main job is the engine's demonstration: an MLP fitting the
# two-spirals set, printing its loss curve. Extra arguments go to that program.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
. train/setup_build.sh
torus_install_packages $TORUS_PACKAGES
torus_build
echo
echo "== main job: the engine fits two spirals =="
"$BUILD_DIR/train/torus-spirals" --seed 0 --threads "$(nproc)" "$@"
