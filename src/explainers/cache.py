"""Content-addressed cache of training runs and benchmarks.

A result is stored under a key made from: the function's name, its config, the source of the code it
runs (its module and every ``explainers`` module that one imports, transitively), the hashes of its data
files, and, for benchmarks, the machine. Change any of them and the run is recomputed; change none and
a rebuild retrains nothing.

Files are written atomically (a temporary file, then ``os.replace``), so an interrupted build leaves
either the old entry or none. A file that is not a whole entry (no zip directory, a member shorter than
its header says) is recomputed, not trusted. An entry's arrays are mapped from its file, not read: a stage
pays only for the arrays it touches.
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import struct
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .timeline import Timeline

PACKAGE = __name__.rsplit(".", 1)[0]
PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """``$EXPLAINERS_CACHE``, else ``_build/explainers-cache`` in a source checkout, else ``~/.cache``."""
    if os.environ.get("EXPLAINERS_CACHE"):
        return Path(os.environ["EXPLAINERS_CACHE"])
    checkout = PACKAGE_DIR.parents[1]
    if (checkout / "pyproject.toml").exists() and (checkout / "_config.yml").exists():
        return checkout / "_build" / "explainers-cache"
    return Path.home() / ".cache" / "explainers"


def _module_file(name: str) -> Path | None:
    """The source file of a module, found without importing it (importing would pull in torch)."""
    if name == PACKAGE or name.startswith(PACKAGE + "."):
        base = PACKAGE_DIR.joinpath(*name.split(".")[1:])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None  # `from .x import name` where name is not a module
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec else None
    return Path(origin) if origin and origin.endswith(".py") else None


def _imported_modules(module_name: str) -> dict[str, Path]:
    """``module_name`` and every module of this package it imports, followed transitively."""
    seen: dict[str, Path] = {}
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        todo += [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]  # parents run too
        tree = ast.parse(path.read_text())
        parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if target.split(".")[0] != PACKAGE:
                    continue
                todo.append(target)
                # `from . import x` and `from .pkg import x` may name submodules
                todo += [f"{target}.{a.name}" for a in node.names]
    return seen


def source_hash(module_name: str) -> str:
    digest = hashlib.sha256()
    for name, path in sorted(_imported_modules(module_name).items()):
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def file_hash(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def machine_fingerprint() -> dict:
    from .device import describe

    record = describe()
    return {k: record[k] for k in ("device", "device_name", "cpu_count", "torch")}


def config_json(config) -> str:
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    return json.dumps(config, sort_keys=True, default=str)


def key_for(fn, config, data_files=(), machine=False) -> str:
    parts = {
        "function": f"{fn.__module__}.{fn.__qualname__}",
        "config": config_json(config),
        "source": source_hash(fn.__module__),
        "data": [file_hash(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in map(Path, data_files)],
        "machine": machine_fingerprint() if machine else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def load(path: Path) -> Timeline | None:
    """The Timeline stored at ``path``, or None when it is missing, partial or corrupt.

    Its arrays are mapped from the file (copy on write), not read: a stage that reads one array of the
    gigabyte activation store pays for that array only, and a second load of the same file costs
    almost nothing."""
    try:
        return Timeline.from_arrays(mapped_arrays(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError,
            UnicodeDecodeError, struct.error):
        return None


HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
MAP_FROM_BYTES = 1 << 20  # smaller arrays are read whole: a mapping per small array costs more than it saves


def mapped_arrays(path: Path) -> dict[str, np.ndarray]:
    """Each ``.npy`` member of an uncompressed ``.npz`` file (what ``save`` writes), as an array mapped
    from the file. Mapping skips the zip's CRC check; the write is atomic, so the hazard that check
    covers here, a half-written file, is a file without its zip directory, which ``ZipFile`` refuses."""
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as f:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"{path} holds {info.filename!r} in a form the cache never writes")
            f.seek(info.header_offset)
            local = f.read(30)  # the member's local header: its name and extra field lengths end it
            if local[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"no member header for {info.filename!r} in {path}")
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            f.seek(info.header_offset + 30 + name_length + extra_length)
            read_header = HEADER_READERS[np.lib.format.read_magic(f)]
            shape, fortran, dtype = read_header(f)
            if dtype.hasobject:
                raise ValueError(f"{path} holds an object array")
            offset, count = f.tell(), int(np.prod(shape))
            if offset + count * dtype.itemsize > info.header_offset + 30 + name_length + extra_length + info.file_size:
                raise EOFError(f"{info.filename!r} in {path} is shorter than its header says")
            name, order = info.filename.removesuffix(".npy"), "F" if fortran else "C"
            if count * dtype.itemsize < MAP_FROM_BYTES:
                raw = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype, count=count)
                arrays[name] = raw.reshape(shape, order=order).copy(order=order)
            else:
                mapped = np.memmap(f, dtype=dtype, mode="c", offset=offset, shape=shape, order=order)
                arrays[name] = mapped.view(np.ndarray)
    return arrays


@contextlib.contextmanager
def atomic_path(path: Path, mode: int = 0o644):
    """A temporary file beside ``path`` to write; once the block ends without error it replaces ``path``
    in one step (``os.replace``), so a reader finds the old file or the new one, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)  # mkstemp makes files private; the book's files are for a web server to serve
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(path: Path, timeline: Timeline) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **timeline.to_arrays())
        f.flush()
        os.fsync(f.fileno())


def cached(fn=None, *, data=None, machine=False):
    """Decorate ``fn(config) -> Timeline`` so each distinct run is computed once.

    ``data(config)`` names the data files the run reads; ``machine=True`` adds the machine to the key
    (for benchmarks, whose numbers belong to the hardware that measured them).
    """
    if fn is None:
        return functools.partial(cached, data=data, machine=machine)

    @functools.wraps(fn)
    def wrapper(config):
        files = list(data(config)) if data else []
        key = key_for(fn, config, files, machine)
        path = cache_dir() / f"{fn.__module__}.{fn.__qualname__}" / f"{key}.npz"
        timeline = load(path)
        if timeline is not None:
            timeline.meta["cache"] = "hit"
            return timeline
        started = time.perf_counter()
        timeline = fn(config)
        timeline.meta.setdefault("wall_time_s", round(time.perf_counter() - started, 3))
        # every result says when it was computed, as well as where (explainers.device)
        timeline.meta.setdefault("computed_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        timeline.meta["cache_key"] = key
        save(path, timeline)
        timeline.meta["cache"] = "miss"
        return timeline

    wrapper.uncached = fn
    return wrapper
