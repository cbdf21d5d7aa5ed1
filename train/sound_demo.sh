#!/usr/bin/env bash
# Sound end to end, the quickstart's counterpart for the paper's second domain (method.md 13):
# write the synthetic corpus of animal calls (no bird-sound archive installs here), train the
# audio CNN with a torusN head on it (train/configs/sound.toml: six species held out of training),
# embed the training clips and the held-out species, and run the bioacoustic few-shot test on the
# held-out species, in floats and on uint8 torus codes. Extra arguments go to torus-train.
# Environment: DATA_DIR (default data/calls), RUN_DIR (default runs/sound), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
DATA_DIR="${DATA_DIR:-data/calls}"
RUN_DIR="${RUN_DIR:-runs/sound}"
. train/setup_build.sh
torus_install_packages $TORUS_PACKAGES
torus_build torus-synthetic-calls torus-train torus-embed torus-eval
threads=$(nproc)
if [ ! -d "$DATA_DIR" ]; then
  echo "== writing the synthetic corpus: 24 species x 30 clips of 3 s -> $DATA_DIR =="
  "$BUILD_DIR/train/torus-synthetic-calls" --out "$DATA_DIR" --species 24 --clips 30 --seconds 3
fi
echo
echo "== training: audio CNN, torusN D16, 18 species (6 held out) -> $RUN_DIR =="
"$BUILD_DIR/train/torus-train" --config train/configs/sound.toml --data.path "$DATA_DIR" --out "$RUN_DIR" --overwrite \
  --train.threads "$threads" "$@"
echo
echo "== embedding the training clips and the held-out species =="
"$BUILD_DIR/train/torus-embed" --run "$RUN_DIR" --threads "$threads" >/dev/null
echo
echo "== few-shot on the held-out species (the bioacoustic protocol) =="
"$BUILD_DIR/train/torus-eval" --embeddings "$RUN_DIR/embeddings" --protocol bioacoustic --threads "$threads" \
  --json "$RUN_DIR/eval.json"
