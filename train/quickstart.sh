#!/usr/bin/env bash
# The first command of the README: install what is missing, build the binaries in release mode,
# then the main job: train the default torusN D16 model on Fashion-MNIST (train/configs/quickstart.toml),
# embed the training and test sets with the best checkpoint, evaluate the test set against the
# training set (float and quantised codes), and export the network as int8 C for a
# microcontroller. Extra arguments go to torus-train (e.g. --train.epochs 2 for a short run).
# Environment: RUN_DIR (default runs/quickstart), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
RUN_DIR="${RUN_DIR:-runs/quickstart}"
. train/setup_build.sh
torus_install_packages $TORUS_PACKAGES
torus_build torus-train torus-embed torus-eval torus-quant-eval torus-export
threads=$(nproc)
echo
echo "== training: torusN D16 on Fashion-MNIST -> $RUN_DIR =="
"$BUILD_DIR/train/torus-train" --config train/configs/quickstart.toml --out "$RUN_DIR" --overwrite --train.threads "$threads" "$@"
echo
echo "== embedding the training and test sets =="
"$BUILD_DIR/train/torus-embed" --run "$RUN_DIR" --threads "$threads" >/dev/null
echo
echo "== evaluating: test queries against training references =="
"$BUILD_DIR/train/torus-eval" --embeddings "$RUN_DIR/embeddings" --threads "$threads" \
  --csv "$RUN_DIR/eval.csv" --json "$RUN_DIR/eval.json"
echo
echo "== quantised codes: bits per vector against precision@1 and search speed =="
"$BUILD_DIR/train/torus-quant-eval" --embeddings "$RUN_DIR/embeddings" --threads "$threads" \
  --csv "$RUN_DIR/quant.csv" --json "$RUN_DIR/quant.json" --plot "$RUN_DIR/quant.png" 2>/dev/null
echo
echo "== export: int8 C99 for a microcontroller =="
"$BUILD_DIR/train/torus-export" --run "$RUN_DIR" --threads "$threads"
echo
echo "run folder: $RUN_DIR (config.toml, input.json, class_names.json, metrics.csv, best.ckpt; plots as .png and .svg: loss,"
echo "            precision, circular_variance, embeddings, angles; embeddings/*.npy, eval.csv, eval.json,"
echo "            quant.csv, quant.png/.svg, export/torus_*.[ch]);"
echo "check the exported C against the float model with: $BUILD_DIR/train/torus-export --run $RUN_DIR --check"
