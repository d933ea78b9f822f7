#!/usr/bin/env bash
# Installs a build into a temporary prefix (cmake --install) and builds, outside the
# source tree, a C program against that prefix alone: once with pkg-config, once with
# find_package(synod) -> synod::synod and once with find_package(Synod) -> Synod::synod.
# Each program must run and commit an entry. Also checks the installed files and SONAME.
# Usage: check_install.sh <build dir> <tests/install dir> <C compiler>
set -euo pipefail
build="$1"
here="$2"
cc="$3"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
libdir="$(dirname "$(find "$prefix" -name 'libsynod.so' | head -n 1)")"
for file in "$prefix/include/synod.h" "$prefix/include/synod_status.h" \
            "$libdir/libsynod.so" "$libdir/libsynod.so.0" "$libdir/pkgconfig/synod.pc" \
            "$libdir/cmake/synod/synod-config.cmake"; do
  [[ -e "$file" ]] || { echo "check_install: $file was not installed" >&2; exit 1; }
done
soname="$(objdump -p "$libdir/libsynod.so" | awk '$1 == "SONAME" {print $2}')"
[[ "$soname" == "libsynod.so.0" ]] || { echo "check_install: SONAME is '$soname'" >&2; exit 1; }

# The consumer's sources, copied away from the source tree.
cp -r "$here/consumer" "$work/src"

echo "== pkg-config"
flags="$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs synod)"
# shellcheck disable=SC2086  # the flags are several words
"$cc" -std=c99 -Wall -Werror "$work/src/consumer.c" $flags -o "$work/pc-consumer"
LD_LIBRARY_PATH="$libdir" "$work/pc-consumer"

for spelling in synod Synod; do
  echo "== find_package($spelling) -> $spelling::synod"
  cmake -S "$work/src" -B "$work/build-$spelling" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_PREFIX_PATH="$prefix" -DSYNOD_PACKAGE="$spelling" \
        -DSYNOD_TARGET="$spelling::synod" >"$work/configure-$spelling.log" ||
    { cat "$work/configure-$spelling.log" >&2; exit 1; }
  cmake --build "$work/build-$spelling" >"$work/build-$spelling.log" ||
    { cat "$work/build-$spelling.log" >&2; exit 1; }
  # CMake links the imported library with an RPATH into the prefix: nothing else needed.
  "$work/build-$spelling/consumer"
done
echo "check_install: OK"
