#!/usr/bin/env bash
# Installs every build and test dependency of Synod from Debian 12 packages.
# Idempotent: when everything is already installed it prints one line and exits.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake g++ ninja-build pkg-config
  # RPC, serialization, storage, HTTP, TLS
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libsqlite3-dev libssl-dev libcpp-httplib-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # Python binding
  python3-dev python3-pybind11 pybind11-dev python3-pytest python3-venv
  # Java binding
  swig default-jdk-headless junit5
  # the status page test: a real headless browser driven through WebDriver
  chromium chromium-driver python3-selenium
  # benchmark plots (--report)
  gnuplot-nox
  # fuzzing (libFuzzer)
  clang libclang-rt-14-dev
  # the fault harness (tests/faults): certificates for its TLS runs, clock skew
  openssl faketime
)

is_installed() {
  local status
  status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  [[ "$status" == *"install ok installed"* ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup: not root and sudo is not available; install these packages:" >&2
    echo "  ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"

# Verify: a package that apt could not provide must not pass silently.
still_missing=()
for pkg in "${missing[@]}"; do
  if ! is_installed "$pkg"; then
    still_missing+=("$pkg")
  fi
done
if [[ ${#still_missing[@]} -ne 0 ]]; then
  echo "setup: still missing after install: ${still_missing[*]}" >&2
  exit 1
fi
echo "setup: done"
