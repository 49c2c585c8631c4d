"""Compile small C++ programs against the open HLS number headers, with a content-addressed cache.

    ap_types_dir()  -> the Vitis HLS `ap_fixed.h` / `ap_int.h` folder shipped inside hls4ml
    ac_types_dir()  -> the Intel/Catapult `ac_fixed.h` / `ac_int.h` folder shipped inside hls4ml
    build(sources, include_dirs, out_name, pch=None) -> Path of the executable
    Pch(headers, prelude, include_dirs)  -> a precompiled header every source is compiled with (-include)

`build` runs `g++ -std=c++14 -O2 -isystem <dir>... -c <source>` for each source (in parallel), then
links. Object files and the executable are cached under names made from a SHA-256 of: the source
name and text, the flags, the include folders and the size/mtime of every file under them, and
`g++ --version`. A second call with the same inputs returns the cached binary without running the
compiler; changing one source recompiles only that one. The default cache is `~/.cache/hwc/build/`:
    <cache>/obj/<key>.o    <cache>/<key>/<out_name>    <pch cache>/<key>/hwc_pch.h.gch

A precompiled header (`pch`) holds what every model includes: the vendor number headers and hwc's kernel
headers, parsed once. Its key is made from the header texts (not their folder), the flags, the vendor
headers' fingerprint and the compiler, so one .gch serves every model of a vendor (`pch_cache`, default
<cache>/pch, may be shared by builds whose object cache is not). The sources' own #include of those
headers then stops at their include guards. If g++ cannot use the .gch it reads hwc_pch.h as text, which
includes copies of the same headers: the result is the same program either way.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# -Wno-...: these three warnings gate GCC 12's access-warning pass, quadratic in the size of a
# function: the static initialiser of a large table of ap_fixed constants compiles 20x faster without.
DEFAULT_FLAGS = ("-std=c++14", "-O2", "-Wno-free-nonheap-object", "-Wno-mismatched-dealloc", "-Wno-mismatched-new-delete")
DEFAULT_CACHE = Path.home() / ".cache" / "hwc" / "build"


class CompileError(RuntimeError):
    """g++ failed; `.stderr` holds its diagnostics, `.command` the failing command line."""

    def __init__(self, command: list[str], stderr: str):
        self.command = command
        self.stderr = stderr
        super().__init__(f"compilation failed: {' '.join(command)}\n{stderr}")


def _hls4ml_templates() -> Path:
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "hls4ml is not installed: it ships the ap_types/ac_types headers needed to compile HLS C++ "
            "(pip install 'hwc[hls]', i.e. hls4ml==1.3.0)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "templates"


def ap_types_dir() -> Path:
    """Folder holding ap_fixed.h / ap_int.h (Vitis HLS open headers) inside the installed hls4ml."""
    d = _hls4ml_templates() / "vivado" / "ap_types"
    if not (d / "ap_fixed.h").is_file():
        raise RuntimeError(f"ap_fixed.h not found in {d}: unexpected hls4ml layout")
    return d


def ac_types_dir() -> Path:
    """Folder holding ac_fixed.h / ac_int.h (Algorithmic C types) inside the installed hls4ml."""
    d = _hls4ml_templates() / "quartus" / "ac_types"
    if not (d / "ac_fixed.h").is_file():
        raise RuntimeError(f"ac_fixed.h not found in {d}: unexpected hls4ml layout")
    return d


@functools.lru_cache(maxsize=None)
def _compiler_version(cxx: str) -> str:
    if shutil.which(cxx) is None:
        raise RuntimeError(f"C++ compiler {cxx!r} not found on PATH")
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _dir_fingerprint(d: Path) -> str:
    """Names, sizes and mtimes of every file under an include folder (cheap change detection)."""
    items = []
    for root, _, files in sorted(os.walk(d)):
        for f in sorted(files):
            st = os.stat(os.path.join(root, f))
            items.append(f"{os.path.relpath(os.path.join(root, f), d)}:{st.st_size}:{st.st_mtime_ns}")
    return f"{Path(d).resolve()}|" + ";".join(items)


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError(cmd, proc.stderr)


@dataclass(frozen=True)
class Pch:
    """A header to precompile: `prelude` (defines, system includes), then `#include "<path>"` of each
    (path, text) of `headers` in order, the texts written beside it; include_dirs serve their <...> includes."""

    headers: tuple[tuple[str, str], ...]
    prelude: str = ""
    include_dirs: tuple[Path, ...] = ()

    def text(self) -> str:
        return self.prelude + "".join(f'#include "{path}"\n' for path, _ in self.headers)


PCH_NAME = "hwc_pch.h"


def precompile(pch: Pch, flags=DEFAULT_FLAGS, cache_dir: Path | str | None = None, cxx: str = "g++") -> Path:
    """The folder holding hwc_pch.h and its hwc_pch.h.gch (built once per key, then reused)."""
    h = hashlib.sha256()
    for part in [_compiler_version(cxx), cxx, *flags, *map(_dir_fingerprint, pch.include_dirs), pch.text(),
                 *(x for pair in pch.headers for x in pair)]:
        h.update(part.encode() + b"\0")
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE / "pch"
    folder = cache / h.hexdigest()[:20]
    if (folder / f"{PCH_NAME}.gch").is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as tmp:
        work = Path(tmp) / folder.name
        for path, text in pch.headers:
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(text)
        (work / PCH_NAME).write_text(pch.text())
        inc = [a for d in pch.include_dirs for a in ("-isystem", str(d))]
        _run([cxx, *flags, *inc, "-x", "c++-header", PCH_NAME, "-o", f"{PCH_NAME}.gch"], work)
        try:
            os.replace(work, folder)  # atomic: a concurrent build of the same key keeps its own copy
        except OSError:
            if not (folder / f"{PCH_NAME}.gch").is_file():
                raise
    return folder


def build(
    sources: dict[str, str] | list[Path],
    include_dirs=(),
    out_name: str = "a.out",
    cache_dir: Path | str | None = None,
    flags=DEFAULT_FLAGS,
    cxx: str = "g++",
    pch: Pch | None = None,
    pch_cache: Path | str | None = None,
) -> Path:
    """Compile `sources` into an executable and return its path, reusing a cached build if any.

    sources: {file name: C++ text} or a list of paths. .cpp files are compiled in parallel (one job per
        core), each into a cached object file, then linked; .h/.hpp files are only written beside them
        (for #include "..."), and a change in any of them recompiles every .cpp. include_dirs are
        passed with -isystem (so the vendor headers give no warnings). flags default to -std=c++14 -O2.
    pch: compile every .cpp with this precompiled header (-include), built first if not cached.
    Raises CompileError with g++'s stderr.
    """
    if isinstance(sources, dict):
        named = {str(k): str(v) for k, v in sources.items()}
    else:
        named = {}
        for p in map(Path, sources):
            if p.name in named:
                raise ValueError(f"two sources named {p.name}")
            named[p.name] = p.read_text()
    if not named:
        raise ValueError("no sources to compile")
    include_dirs = [Path(d) for d in include_dirs]
    flags = list(flags)

    common = hashlib.sha256()
    for part in [_compiler_version(cxx), cxx, *flags, *map(_dir_fingerprint, include_dirs)]:
        common.update(part.encode() + b"\0")
    headers = {n: t for n, t in named.items() if n.endswith((".h", ".hpp"))}
    cpp = {n: t for n, t in named.items() if n not in headers}

    def key(*parts: str) -> str:
        h = common.copy()
        for part in parts:
            h.update(part.encode() + b"\0")
        return h.hexdigest()[:20]

    hdr_parts = [x for n in sorted(headers) for x in (n, headers[n])]
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE
    pch_flags: list[str] = []
    if pch is not None:
        folder = precompile(pch, flags, pch_cache if pch_cache is not None else cache / "pch", cxx)
        pch_flags = ["-I", str(folder), "-include", PCH_NAME]
        hdr_parts += ["pch", folder.name]
    obj_keys = {n: key("obj", n, t, *hdr_parts) for n, t in cpp.items()}
    final = cache / key("exe", out_name, *sorted(obj_keys.values())) / out_name
    if final.is_file() and os.access(final, os.X_OK):
        return final

    (cache / "obj").mkdir(parents=True, exist_ok=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    inc = [a for d in include_dirs for a in ("-isystem", str(d))]
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as tmp:
        work = Path(tmp)
        for name, text in named.items():
            (work / name).write_text(text)

        def compile_one(name: str) -> Path:  # object files are cached too: editing one source rebuilds one
            obj = cache / "obj" / f"{obj_keys[name]}.o"
            if not obj.is_file():
                _run([cxx, *flags, *pch_flags, *inc, "-c", name, "-o", f"{name}.o"], work)
                os.replace(work / f"{name}.o", obj)  # atomic, so concurrent builds never see half a file
            return obj

        with ThreadPoolExecutor(max_workers=max(1, min(len(cpp), os.cpu_count() or 1))) as ex:
            objs = list(ex.map(compile_one, sorted(cpp, key=lambda n: -len(cpp[n]))))  # biggest first
        _run([cxx, *flags, *map(str, objs), "-o", out_name], work)
        os.replace(work / out_name, final)
    return final
