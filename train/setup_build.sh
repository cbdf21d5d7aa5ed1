# Shared by ./train/quickstart.sh and ./tests/run.sh (sourced, not run): install the Debian
# packages the build needs, only those missing, then configure and build in release mode.
# Environment: BUILD_DIR (default build), TORUS_NATIVE (default true: -march=native),
# TORUS_MESON_ARGS (extra `meson setup` options, e.g. the sanitizer pass of tests/run.sh).

TORUS_PACKAGES="g++ meson ninja-build pkg-config python3 libeigen3-dev libxtensor-dev catch2 libstb-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev libsndfile1-dev libsoxr-dev libkissfft-dev sox libsox-fmt-all libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libcairo2-dev fonts-dejavu-core libopenmpi-dev openmpi-bin libexpat1-dev python3-numpy dataset-fashion-mnist"

torus_missing_packages() {
  local missing="" p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  echo "${missing# }"
}

# Installs what is missing from the given package list; as a non-root user, prints the exact
# command and stops.
torus_install_packages() {
  local missing
  missing=$(torus_missing_packages "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "These Debian packages are missing. Install them, then run this script again:" >&2
    echo "  sudo apt-get install -y --no-install-recommends $missing" >&2
    exit 1
  fi
  echo "Installing missing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || { echo "apt-get update failed" >&2; exit 1; }
  apt-get install -y -qq --no-install-recommends $missing || { echo "apt-get install failed" >&2; exit 1; }
}

# Configures (once) and builds the project in $BUILD_DIR: everything, or the targets given.
torus_build() {
  local native="${TORUS_NATIVE:-true}"
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    # Release unless the extra options set the optimisation level themselves (Meson warns when both are given).
    local buildtype="--buildtype=release"
    case " ${TORUS_MESON_ARGS:-} " in *" -Doptimization="*) buildtype="" ;; esac
    # shellcheck disable=SC2086  # TORUS_MESON_ARGS and buildtype are lists of options
    meson setup "$BUILD_DIR" $buildtype --wrap-mode=nodownload -Dnative="$native" ${TORUS_MESON_ARGS:-} || exit 1
  fi
  meson compile -C "$BUILD_DIR" "$@" || exit 1
}
