#!/usr/bin/env bash
# Installs BUILD_DIR into a temporary directory and compiles tests/train/consumer/main.cpp against
# the installed headers and libraries, found only through the installed torus-train.pc (which
# requires torus-eval.pc and torus.pc); then runs it.
#   run_train_consumer.sh SOURCE_ROOT BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
meson install -C "$build" --no-rebuild --destdir "$work/root" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
pc=$(find "$work/root" -name torus-train.pc | head -n 1)
[ -n "$pc" ] || { echo "no torus-train.pc was installed"; exit 1; }
pcdir=$(dirname "$pc")
# The generated files name the real prefix; point them at the temporary copy.
for f in "$pcdir"/torus.pc "$pcdir"/torus-eval.pc "$pcdir"/torus-train.pc; do
  prefix=$(sed -n 's/^prefix=//p' "$f")
  sed -i "s|^prefix=.*|prefix=$work/root$prefix|" "$f"
done
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs torus-train)
"${CXX:-c++}" -std=c++20 -O1 "$src/tests/train/consumer/main.cpp" -o "$work/consumer" $flags
"$work/consumer"
