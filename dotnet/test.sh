#!/usr/bin/env bash
# The .NET binding's test command:
#   1. builds the C ABI library (cmake --build build --target synod_c), configuring build/
#      first if needed; with SYNOD_NATIVE_LIBRARY=/path/libsynod.so set, uses that instead
#   2. restores once (from /opt/nuget/packages alone, else with dotnet/NuGet.config, which
#      adds nuget.org), then builds, tests and packs with --no-restore
#   3. runs the xunit suite dotnet/Synod.Tests
#   4. packs dotnet/Synod, checks runtimes/linux-x64/native/libsynod.so is in the package,
#      and runs a program that consumes the package (dotnet/PackageSmoke)
#   5. builds the example examples/dotnet/Orders against the package and runs its self-test
#      (three node processes over gRPC, the leader's process killed)
# Exits non-zero if any step fails.
set -euo pipefail

dotnet_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$dotnet_dir/.." && pwd)"
cd "$dotnet_dir"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration=Release
# Two cores are shared with the C++ builds: one MSBuild node.
msbuild_args=(-m:1 -c "$configuration" -nologo)

section() { echo; echo "== dotnet: $*"; }

if ! command -v dotnet >/dev/null; then
  echo "dotnet/test.sh: the .NET SDK (dotnet) is not on PATH" >&2
  exit 1
fi

if [[ -n "${SYNOD_NATIVE_LIBRARY:-}" ]]; then
  native="$SYNOD_NATIVE_LIBRARY"
  section "native library: $native (SYNOD_NATIVE_LIBRARY)"
else
  native="$repo_root/build/capi/libsynod.so"
  section "native library: cmake --build build --target synod_c"
  if [[ ! -f "$repo_root/build/CMakeCache.txt" ]]; then
    cmake -S "$repo_root" -B "$repo_root/build" -G Ninja --no-warn-unused-cli \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE=/usr/bin/python3
  fi
  cmake --build "$repo_root/build" --target synod_c -j2
fi
if [[ ! -f "$native" ]]; then
  echo "dotnet/test.sh: $native does not exist" >&2
  exit 1
fi
msbuild_args+=("-p:SynodNativeLibrary=$native")

section "restore"
# The machine's package folder holds every package the projects use: try it alone first
# (no network), then dotnet/NuGet.config, which adds nuget.org.
machine_packages=/opt/nuget/packages
if ! { [[ -d "$machine_packages" ]] && dotnet restore Synod.slnx --source "$machine_packages" -m:1; }; then
  dotnet restore Synod.slnx --configfile NuGet.config -m:1
fi

section "build"
dotnet build Synod.slnx --no-restore "${msbuild_args[@]}"

section "test: Synod.Tests"
SYNOD_NATIVE_LIBRARY="$native" dotnet test Synod.Tests/Synod.Tests.csproj --no-build -c "$configuration" \
  --logger "console;verbosity=normal"

section "pack"
rm -rf artifacts
dotnet pack Synod/Synod.csproj --no-build "${msbuild_args[@]}" -o artifacts
package="$(ls artifacts/Synod.*.nupkg)"
if ! python3 -c 'import sys, zipfile; sys.exit(0 if "runtimes/linux-x64/native/libsynod.so" in zipfile.ZipFile(sys.argv[1]).namelist() else 1)' "$package"; then
  echo "dotnet/test.sh: $package lacks runtimes/linux-x64/native/libsynod.so" >&2
  exit 1
fi
echo "$package contains runtimes/linux-x64/native/libsynod.so"

section "package smoke test"
# A private package folder, so a package packed earlier with the same version is not reused.
packages="$(mktemp -d)"
trap 'rm -rf "$packages"' EXIT
rm -rf PackageSmoke/bin PackageSmoke/obj
dotnet restore PackageSmoke/PackageSmoke.csproj --source "$dotnet_dir/artifacts" --packages "$packages" -m:1
dotnet build PackageSmoke/PackageSmoke.csproj --no-restore -m:1 -c "$configuration" -nologo
# No SYNOD_NATIVE_LIBRARY here: the library must come from the package.
env -u SYNOD_NATIVE_LIBRARY timeout 120 dotnet "PackageSmoke/bin/$configuration/net10.0/PackageSmoke.dll"

section "example: Orders from the package, self-test"
# The example references the package, not the project: restored from the folder just packed,
# into the same private package folder.
orders="$repo_root/examples/dotnet/Orders"
version="$(basename "$package" .nupkg)"
version="${version#Synod.}"
rm -rf "$orders/bin" "$orders/obj"
dotnet restore "$orders/Orders.csproj" --source "$dotnet_dir/artifacts" --packages "$packages" -m:1 \
  -p:SynodVersion="$version"
dotnet build "$orders/Orders.csproj" --no-restore -m:1 -c "$configuration" -nologo -p:SynodVersion="$version"
# Three node processes of its own; the library must come from the package here too.
env -u SYNOD_NATIVE_LIBRARY timeout 300 dotnet "$orders/bin/$configuration/net10.0/Orders.dll" self-test

section "OK: build, tests, pack, package smoke test and the example's self-test passed"
