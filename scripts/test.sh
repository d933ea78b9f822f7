#!/usr/bin/env bash
# The project's test command (README, CI).
#   1. installs dependencies (scripts/setup.sh)
#   2. builds build/ and runs its CTest suite
#   3. builds build-asan/ with AddressSanitizer + UBSan and runs the suite again
# Usage: scripts/test.sh [--quick]     (--quick skips step 3; CI never passes it)
# Exits non-zero if any step fails.
set -euo pipefail

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help)
      sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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
fi

section "summary"
if [[ ${#failures[@]} -ne 0 ]]; then
  for f in "${failures[@]}"; do
    echo "FAILED: $f"
  done
  exit 1
fi
if [[ $quick -eq 1 ]]; then
  echo "OK: build/ passed (sanitizer build skipped with --quick)"
else
  echo "OK: build/ and build-asan/ passed"
fi
