"""Reading user data (.npy, ONNX TensorProto .pb, .npz) and writing results, with one-line errors."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import HwcError
from .outdir import writable_parent


def read_array(path) -> np.ndarray:
    path = str(path)
    if not os.path.exists(path):
        raise HwcError("no such file", path)
    if path.endswith(".pb"):
        import onnx
        from onnx import numpy_helper

        try:
            with open(path, "rb") as f:
                t = onnx.TensorProto.FromString(f.read())
            return numpy_helper.to_array(t)
        except Exception as e:
            raise HwcError(f"not an ONNX TensorProto ({type(e).__name__})", path) from None
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:
        raise HwcError(f"not a readable .npy file ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})", path) from None
    if isinstance(arr, np.lib.npyio.NpzFile):
        raise HwcError("is an .npz archive; pass it as the only --input", path)
    return arr


def read_npz(path) -> dict[str, np.ndarray]:
    path = str(path)
    if not os.path.exists(path):
        raise HwcError("no such file", path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise HwcError(f"not a readable .npz file ({type(e).__name__})", path) from None


def read_data(spec: str) -> np.ndarray:
    """An array from `.npy`, `.pb` or `ARCHIVE.npz:KEY` (a lone-array .npz needs no key)."""
    if ".npz:" in spec:
        archive, key = spec.rsplit(":", 1)
        data = read_npz(archive)
        if key not in data:
            raise HwcError(f"has no array named {key!r} (it has: {', '.join(data)})", archive)
        return data[key]
    if spec.endswith(".npz"):
        data = read_npz(spec)
        if len(data) != 1:
            raise HwcError(f"holds {len(data)} arrays ({', '.join(data)}): pick one with {spec}:KEY", spec)
        return next(iter(data.values()))
    return read_array(spec)


def write_outputs(path, names: list[str], arrays: list[np.ndarray]) -> None:
    """`.npy` for one output, `.npz` (keyed by output name) for several; written atomically."""
    if str(path) == "":
        raise HwcError("the output path is empty")
    path = Path(path)
    if len(arrays) > 1 and path.suffix != ".npz":
        raise HwcError(f"the model has {len(arrays)} outputs: give an .npz path", str(path))
    if len(arrays) == 1 and path.suffix not in (".npy", ".npz"):
        raise HwcError("output must be a .npy (or .npz) file", str(path))
    if path.is_dir():
        raise HwcError("is a directory: give a file name", str(path))
    writable_parent(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    except OSError as e:
        raise HwcError(f"cannot write here ({e.strerror or type(e).__name__})", str(path)) from None
    os.close(fd)
    try:
        if path.suffix == ".npz":
            np.savez(tmp, **dict(zip(names, arrays)))
        else:
            np.save(tmp, arrays[0])
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise HwcError(f"cannot write ({e.strerror or type(e).__name__})", str(path)) from None
        raise
