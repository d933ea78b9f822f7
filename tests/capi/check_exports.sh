#!/usr/bin/env bash
# Checks that libsynod exports exactly the functions synod.h declares with SYNOD_API:
# nothing of the engine's C++ or of the libraries linked into it leaks out, and nothing
# declared is missing.
# Usage: check_exports.sh <libsynod.so> <synod.h>
set -euo pipefail
library="$1"
header="$2"

declared="$(grep -oE 'SYNOD_API [^;(]*\bsynod_[a-z0-9_]+\(' "$header" |
            grep -oE 'synod_[a-z0-9_]+' | sort -u)"
exported="$(nm -D --defined-only "$library" | awk '$2 ~ /^[A-Za-z]$/ {print $3}' |
            sed 's/@.*//' | grep -v '^SYNOD_0$' | sort -u)"

if [[ -z "$declared" ]]; then
  echo "check_exports: no SYNOD_API functions found in $header" >&2
  exit 1
fi
extra="$(comm -13 <(echo "$declared") <(echo "$exported"))"
missing="$(comm -23 <(echo "$declared") <(echo "$exported"))"
status=0
if [[ -n "$extra" ]]; then
  echo "check_exports: exported but not declared in synod.h:" >&2
  echo "$extra" | head -50 >&2
  status=1
fi
if [[ -n "$missing" ]]; then
  echo "check_exports: declared in synod.h but not exported:" >&2
  echo "$missing" >&2
  status=1
fi
[[ $status -eq 0 ]] && echo "check_exports: $(echo "$declared" | wc -l) functions, exactly as declared"
exit $status
