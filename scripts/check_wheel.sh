#!/usr/bin/env bash
# The Python wheel as a user gets it (scripts/test.sh runs this):
#   1. `pip wheel ./python` (offline: --no-build-isolation --no-index, with Debian's
#      setuptools, wheel and pybind11 seen through a --system-site-packages venv) builds
#      synod-*.whl, which must carry the module and libsynod;
#   2. a fresh venv (/usr/bin/python3 -m venv, no system site packages) installs that wheel
#      alone, binary only, with only the venv on PATH (so no compiler could run);
#   3. a tiny program, copied outside the source tree and run in isolated mode (-I) from
#      a directory without sources, imports synod from the venv and runs a one-node
#      cluster: elected, one entry of each log type committed and read back.
# Usage: scripts/check_wheel.sh [<work dir>]  (default: a temporary directory, removed)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -ge 1 ]]; then
  work="$1"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

echo "== pip wheel ./python"
/usr/bin/python3 -m venv --system-site-packages "$work/build-venv"
"$work/build-venv/bin/pip" wheel --quiet --no-build-isolation --no-index --no-deps \
  -w "$work/wheels" "$repo_root/python"
wheels=("$work"/wheels/synod-*.whl)
if [[ ${#wheels[@]} -ne 1 || ! -f "${wheels[0]}" ]]; then
  echo "check_wheel: expected one synod wheel in $work/wheels" >&2
  exit 1
fi
wheel="${wheels[0]}"
echo "built $(basename "$wheel")"
/usr/bin/python3 - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = {"module": any(n.startswith("synod/_synod") and n.endswith(".so") for n in names),
        "libsynod": "synod/libsynod.so.0" in names,
        "sources": "synod/__init__.py" in names}
missing = [k for k, ok in need.items() if not ok]
if missing:
    sys.exit(f"check_wheel: the wheel lacks {', '.join(missing)}: {names}")
EOF

echo "== install into a fresh venv, binary only, nothing but the venv on PATH"
/usr/bin/python3 -m venv "$work/venv"
mkdir "$work/app"
cp "$wheel" "$work/app/"
(cd "$work/app" &&
   env -i HOME="$work" PATH="$work/venv/bin" "$work/venv/bin/pip" install --quiet \
     --no-index --only-binary=:all: --no-deps "$work/app/$(basename "$wheel")")

cat >"$work/app/one_node.py" <<'EOF'
# A one-node cluster from the installed wheel.
import sys

import synod

if not synod.__file__.startswith(sys.prefix):
    sys.exit(f"synod came from {synod.__file__}, not from the venv {sys.prefix}")
with synod.Node(synod.Config(node_id=1, members=[1], tick_interval_ms=5)) as node:
    node.wait_for_leader(1, timeout=20)
    written = [node.replicate_sync(1, "Installed", b"wheel"), node.replicate_sync(1, 7, b"\x00")]
    read = [node.next_entry(timeout=20) for _ in written]
    got = [(e.index, e.type, bytes(e.data)) for e in read]
    want = [(written[0].index, "Installed", b"wheel"), (written[1].index, 7, b"\x00")]
    if got != want:
        sys.exit(f"read back {got}, wrote {want}")
print(f"wheel: synod from {synod.__file__} committed entries {[w.index for w in written]}")
EOF
echo "== a one-node cluster from the installed wheel"
(cd "$work/app" && env -i HOME="$work" PATH="$work/venv/bin" "$work/venv/bin/python" -I one_node.py)
echo "check_wheel: OK"
