"""Builds the native part of the `synod` package with the project's CMake.

setuptools handles the pure-Python files (pyproject.toml); the one extension,
synod._synod, comes from configuring the repository root with only the Python module
enabled and building its target, which also builds libsynod. Both shared objects are
copied into the package: the module finds libsynod next to it through RPATH $ORIGIN.

The repository root is python/.. (pip builds a local directory in place). Building from
a copy elsewhere needs SYNOD_SOURCE_DIR=<repository root>. The CMake tree lives in
setuptools' build_temp (python/build/temp.*/cmake), so a second install only rebuilds
what changed. SYNOD_CMAKE_ARGS adds configure arguments; CMAKE_BUILD_PARALLEL_LEVEL sets
the build's parallelism (default: the number of cores).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent


def repository_root() -> Path:
    candidates = []
    if os.environ.get("SYNOD_SOURCE_DIR"):
        candidates.append(Path(os.environ["SYNOD_SOURCE_DIR"]).resolve())
    candidates.append(HERE.parent)
    for root in candidates:
        if (root / "capi" / "include" / "synod.h").is_file() and \
                (root / "python" / "CMakeLists.txt").is_file():
            return root
    raise RuntimeError(
        f"cannot find the Synod repository around {HERE} (looked in "
        f"{', '.join(map(str, candidates))}); set SYNOD_SOURCE_DIR to its root")


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        root = repository_root()
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(root), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSYNOD_BUILD_TESTS=OFF", "-DSYNOD_BUILD_BENCH=OFF",
            "-DSYNOD_BUILD_EXAMPLES=OFF", "-DSYNOD_BUILD_PYTHON=ON",
            "-DSYNOD_BUILD_JAVA=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").exists():
            configure += ["-G", "Ninja"]
        configure += shlex.split(os.environ.get("SYNOD_CMAKE_ARGS", ""))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        self._run(configure)
        self._run(["cmake", "--build", str(build_dir), "--target", "synod_python",
                   "--parallel", jobs])

        package = build_dir / "python" / "synod"
        modules = sorted(package.glob("_synod*.so"))
        libraries = sorted(package.glob("libsynod.so*"))
        if len(modules) != 1 or not libraries:
            raise RuntimeError(f"the CMake build left no module or libsynod in {package}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules[0], target)
        for library in libraries:
            shutil.copyfile(library, target.parent / library.name)

    def _run(self, command: list[str]) -> None:
        print("+ " + shlex.join(command), flush=True)
        subprocess.run(command, check=True)


# Package layout here rather than in pyproject.toml: setuptools 66 calls [tool.setuptools]
# beta and warns on every build.
setup(
    package_dir={"": "src"},
    packages=["synod"],
    package_data={"synod": ["py.typed", "*.pyi"]},
    ext_modules=[CMakeExtension("synod._synod")],
    cmdclass={"build_ext": CMakeBuild},
)
