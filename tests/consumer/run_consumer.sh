#!/usr/bin/env bash
# Builds tests/consumer/project against torus and runs it.
#   run_consumer.sh subproject SOURCE_ROOT   torus as subprojects/torus of the consumer
#   run_consumer.sh pkgconfig SOURCE_ROOT BUILD_DIR
#                                            `meson install` of BUILD_DIR into a temporary
#                                            directory, found through its generated torus.pc
set -euo pipefail
mode=$1
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/tests/consumer/project" "$work/consumer"
case "$mode" in
  subproject)
    mkdir -p "$work/consumer/subprojects"
    ln -s "$src" "$work/consumer/subprojects/torus"
    # Unoptimised: the test is that a consumer builds, links and runs, and -O0 halves its compile time.
    meson setup "$work/build" "$work/consumer" --wrap-mode=nodownload -Doptimization=0 -Ddebug=false >"$work/setup.log" || { cat "$work/setup.log"; exit 1; }
    ;;
  pkgconfig)
    build=$(cd "$3" && pwd)
    meson install -C "$build" --no-rebuild --destdir "$work/root" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
    pc=$(find "$work/root" -name torus.pc | head -n 1)
    [ -n "$pc" ] || { echo "no torus.pc was installed"; exit 1; }
    prefix=$(sed -n 's/^prefix=//p' "$pc")
    # Each library and each flag once on the Libs line (Meson repeats dependencies per library).
    libs=$(sed -n 's/^Libs: //p' "$pc")
    dups=$(echo "$libs" | tr ' ' '\n' | sort | uniq -d)
    [ -z "$dups" ] || { echo "torus.pc repeats on its Libs line: $dups"; exit 1; }
    for lib in torus_autodiff torus_geometry torus_file torus_nn torus_datasets; do
      echo "$libs" | grep -q -- "-l$lib" || { echo "torus.pc does not link $lib: $libs"; exit 1; }
    done
    # The generated file names the real prefix; point it at the temporary copy.
    sed -i "s|^prefix=.*|prefix=$work/root$prefix|" "$pc"
    PKG_CONFIG_PATH=$(dirname "$pc") meson setup "$work/build" "$work/consumer" --wrap-mode=nodownload >"$work/setup.log" \
      || { cat "$work/setup.log"; exit 1; }
    grep -q "Run-time dependency torus found: YES" "$work/setup.log" || { cat "$work/setup.log"; exit 1; }
    ;;
  *)
    echo "usage: run_consumer.sh subproject|pkgconfig SOURCE_ROOT [BUILD_DIR]" >&2
    exit 2
    ;;
esac
meson compile -C "$work/build" consumer >"$work/compile.log" || { cat "$work/compile.log"; exit 1; }
"$work/build/consumer"
