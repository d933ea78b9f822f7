#!/usr/bin/env bash
# The project's demo command (README): installs dependencies, builds build/ and runs
# the NodeHost demo (three nodes in one process). Extra arguments are passed to it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
./scripts/build.sh build

demo=build/examples/node_demo/synod-demo
if [[ ! -x "$demo" ]]; then
  echo "demo.sh: $demo was not built (is SYNOD_BUILD_EXAMPLES off in build/?)" >&2
  exit 1
fi
echo
echo "== running $demo $*"
exec "$demo" "$@"
