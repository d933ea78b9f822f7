#!/usr/bin/env bash
# The project's test command (README, CI).
#   1. installs dependencies (scripts/setup.sh)
#   2. builds build/ and runs its CTest suite (C++, the C ABI, pytest, the examples),
#      then the .NET binding's build, tests and package (dotnet/test.sh),
#      pip install ./python into a fresh venv followed by the Python example, and the
#      wheel from `pip wheel ./python` installed into a bare venv (scripts/check_wheel.sh)
#   3. builds build-asan/ with AddressSanitizer + UBSan and runs the suite again, then
#      build-tsan/ with ThreadSanitizer for the runtime, transport and snapshot-store tests
#      (where threads meet; gRPC's cases are left out: Debian's gRPC is not instrumented)
#   4. builds the libFuzzer targets in build-fuzz/ with clang (ASan + UBSan) and fuzzes the
#      stored-record and the wire batch decoders for 30 s each, from seeds the build writes
# Usage: scripts/test.sh [--quick]
#   --quick skips the pip install and wheel, step 3 and, in step 4, only replays the seed corpus
#   (no fuzzing);
#   CI never passes it.
# Exits non-zero if any step fails.
set -euo pipefail

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help)
      sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "test.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() {
  echo
  echo "=================================================================="
  echo "== $*"
  echo "=================================================================="
}

failures=()

# ctest: --no-tests=error so that a suite that silently registers nothing fails.
run_ctest() {
  ctest --test-dir "$1" --output-on-failure --no-tests=error -j2
}

section "setup: dependencies"
./scripts/setup.sh

section "build: build/ (RelWithDebInfo)"
if ./scripts/build.sh build; then
  section "test: build/"
  run_ctest build || failures+=("tests in build/")
else
  failures+=("build of build/")
fi

# The .NET binding over build/'s libsynod.so: build, xunit suite, the example's
# self-test, and the NuGet package (which must carry the native library).
if [[ " ${failures[*]} " != *"build of build/"* ]]; then
  section "test: .NET binding (dotnet/test.sh)"
  SYNOD_NATIVE_LIBRARY="$PWD/build/capi/libsynod.so" ./dotnet/test.sh ||
    failures+=("the .NET binding (dotnet/test.sh)")
fi

# What a user does: pip install ./python (offline, building the engine with CMake) into a
# fresh venv, then run the example against the installed package.
if [[ $quick -eq 1 ]]; then
  section "python: pip install skipped (--quick)"
else
  section "test: pip install ./python into a fresh venv, then examples/python"
  venv_dir="$(mktemp -d)"
  if /usr/bin/python3 -m venv --system-site-packages "$venv_dir/venv" &&
     "$venv_dir/venv/bin/pip" install --quiet --no-build-isolation --no-index ./python &&
     (cd "$venv_dir" && "$venv_dir/venv/bin/python" "$OLDPWD/examples/python/job_scheduler.py"); then
    echo "python: installed package and example OK"
  else
    failures+=("pip install ./python and the example")
  fi
  rm -rf "$venv_dir"

  # What a user of the wheel does: pip wheel ./python, then install the wheel alone into a
  # bare venv (no system site packages, no compiler on PATH) and run a node from it.
  section "test: pip wheel ./python, installed into a bare venv, a one-node cluster from it"
  ./scripts/check_wheel.sh || failures+=("the Python wheel (scripts/check_wheel.sh)")
fi

if [[ $quick -eq 1 ]]; then
  section "sanitizers: skipped (--quick)"
elif [[ " ${failures[*]} " == *"build of build/"* ]]; then
  section "sanitizers: skipped because the plain build failed"
else
  section "build: build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer)"
  if ./scripts/build.sh build-asan -DSYNOD_SANITIZE=address; then
    section "test: build-asan/"
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
      run_ctest build-asan || failures+=("tests in build-asan/")
  else
    failures+=("build of build-asan/")
  fi

  section "build: build-tsan/ (ThreadSanitizer; the runtime and transport tests only)"
  if ./scripts/build.sh build-tsan -DSYNOD_SANITIZE=thread -DSYNOD_BUILD_PYTHON=OFF \
       -DSYNOD_BUILD_BENCH=OFF -DSYNOD_BUILD_EXAMPLES=OFF -- synod_node_test synod_transport_test \
       synod_storage_test; then
    section "test: build-tsan/"
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp}"
    build-tsan/tests/node/synod_node_test --gtest_filter='-*Grpc*:*grpc*' &&
      build-tsan/tests/transport/synod_transport_test --gtest_filter='-*Grpc*:*grpc*' &&
      build-tsan/tests/storage/synod_storage_test --gtest_filter='*Snapshot*' ||
      failures+=("tests in build-tsan/")
  else
    failures+=("build of build-tsan/")
  fi
fi

# Fuzzing: a clang build of the fuzz targets only (they compile the few sources they need,
# so this does not build core with clang). The corpus directory keeps what earlier runs
# found; a crashing input is written to artifacts/ and fails the step.
fuzz_dir=build-fuzz/tests/fuzz
section "build: build-fuzz/ (clang, libFuzzer + ASan + UBSan, fuzz targets only)"
if CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja --no-warn-unused-cli \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYNOD_BUILD_FUZZERS=ON -DSYNOD_BUILD_TESTS=OFF \
     -DSYNOD_BUILD_BENCH=OFF -DSYNOD_BUILD_EXAMPLES=OFF -DSYNOD_BUILD_PYTHON=OFF &&
   cmake --build build-fuzz -j2 --target synod_record_decode_fuzzer synod_batch_decode_fuzzer \
     synod_snapshot_file_fuzzer synod_system_decode_fuzzer; then
  fuzz_args=(-timeout=10 -malloc_limit_mb=64 -artifact_prefix="$fuzz_dir/artifacts/")
  if [[ $quick -eq 1 ]]; then
    fuzz_what="seed corpus only (--quick)"
    fuzz_args+=(-runs=0)
  else
    fuzz_what="30 seconds"
    fuzz_args+=(-max_total_time=30 -print_final_stats=1)
  fi
  # fuzz <name> <what>: runs synod_<name>_fuzzer over <name>_corpus and <name>_seeds.
  fuzz() {
    mkdir -p "$fuzz_dir/$1_corpus" "$fuzz_dir/artifacts"
    section "fuzz: $2, $fuzz_what"
    if ! "$fuzz_dir/synod_$1_fuzzer" "${fuzz_args[@]}" \
         "$fuzz_dir/$1_corpus" "$fuzz_dir/$1_seeds"; then
      echo "fuzz: the input that failed is in $fuzz_dir/artifacts/; replay it with"
      echo "  $fuzz_dir/synod_$1_fuzzer $fuzz_dir/artifacts/<file>"
      failures+=("fuzzing of the $2 in build-fuzz/")
    fi
  }
  fuzz record_decode "record decoders"
  fuzz batch_decode "wire batch decoders"
  fuzz snapshot_file "snapshot file checker"
  fuzz system_decode "system partition codec"
else
  failures+=("build of build-fuzz/")
fi

section "summary"
if [[ ${#failures[@]} -ne 0 ]]; then
  for f in "${failures[@]}"; do
    echo "FAILED: $f"
  done
  exit 1
fi
if [[ $quick -eq 1 ]]; then
  echo "OK: build/ and the fuzz seeds passed (sanitizer build and fuzzing skipped with --quick)"
else
  echo "OK: build/, build-asan/ and 3 x 30 seconds of fuzzing passed"
fi
