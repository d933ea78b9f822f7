#!/usr/bin/env bash
# Installs a build into a temporary prefix (cmake --install) and builds, outside the
# source tree, a C program against that prefix alone: once with pkg-config, once with
# find_package(synod) -> synod::synod and once with find_package(Synod) -> Synod::synod.
# Each program must run and commit an entry. Also checks the installed files and SONAME.
# With a javac and a java (a build with the Java binding): compiles a Java program against
# the installed share/java/synod.jar alone and runs it with only that jar and itself on
# the class path.
# Usage: check_install.sh <build dir> <tests/install dir> <C compiler> [<javac> <java>]
set -euo pipefail
build="$1"
here="$2"
cc="$3"
javac="${4:-}"
java="${5:-}"

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

if [[ -n "$javac" ]]; then
  echo "== javac against the installed synod.jar alone"
  jar="$prefix/share/java/synod.jar"
  [[ -f "$jar" ]] || { echo "check_install: $jar was not installed" >&2; exit 1; }
  mkdir "$work/java-app"
  cp "$work/src/java/Consumer.java" "$work/java-app/"
  # What a user does (README): javac -cp synod.jar App.java && java -cp synod.jar:. App.
  # No library path: the jar must load the native libraries it carries.
  (cd "$work/java-app" && "$javac" -cp "$jar" Consumer.java &&
     env -u LD_LIBRARY_PATH "$java" -cp "$jar:." Consumer)
fi
echo "check_install: OK"
