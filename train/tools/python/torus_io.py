"""torus_io: read what torus writes, with numpy alone (no torch, no torus build needed).

    import torus_io
    run = torus_io.read_run("runs/fashion-mnist-torusN-D16-seed0")
    run.config["optim"]["lr"], run.metrics["precision_at_1"], run.input["mean"]
    ck = torus_io.read_checkpoint(run.path / "best.ckpt")   # every field, CRC-32 checked
    weights = torus_io.model_weights(ck)                    # {"conv1.weight": ndarray, ...}
    emb = torus_io.read_embeddings(run.path / "embeddings") # after torus-embed
    torus_io.write_safetensors("init.safetensors", weights) # for torus-train --model.init

Formats (the C++ side is the reference; each reader checks what it does):
  checkpoint   nn/io/checkpoint.hpp: "TORUSCKP", version 1, header length, total size, JSON
               header, float32 data, CRC-32 of everything before the last 4 bytes
  safetensors  nn/io/safetensors.hpp: 8-byte header length, JSON header, data
  run folder   config.toml, input.json, class_names.json, metrics.csv, last.ckpt, best.ckpt
  embeddings   torus-embed's folder: meta.json, <split>_embeddings/_labels/_angles.npy, _sources.json
Every error is a TorusFormatError whose message names the file and what was wrong.
"""
import csv
import json
import os
import pathlib
import struct
import tempfile
import tomllib
import zlib

import numpy as np

CHECKPOINT_MAGIC = b"TORUSCKP"
CHECKPOINT_VERSION = 1
MAX_HEADER_BYTES = 100_000_000  # the C++ readers' bound
_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class TorusFormatError(ValueError):
    """A file torus wrote (or should have written) is not what its format says."""


def _fail(path, message):
    raise TorusFormatError(f"{path}: {message}")


def _json_object(path, raw):
    """A file header that must be one JSON object."""
    try:
        header = json.loads(raw)
    except ValueError as e:
        _fail(path, f"header is not valid JSON ({e})")
    if not isinstance(header, dict):
        _fail(path, "header is not a JSON object")
    return header


def _tensors(path, table, data, allowed):
    """Tensors of a header table {name: {dtype, shape, data_offsets}} over `data`, checked to tile
    it exactly (no gap, no overlap) as the C++ readers require."""
    spans, out = [], {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
            _fail(path, f"tensor {name!r} lacks dtype, shape or data_offsets")
        dtype = entry["dtype"]
        if dtype not in allowed:
            _fail(path, f"tensor {name!r} has dtype {dtype!r}, expected one of {sorted(allowed)}")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            _fail(path, f"tensor {name!r} has shape {shape!r}, expected a list of sizes")
        begin, end = entry["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        itemsize = np.dtype(_DTYPES[dtype]).itemsize
        if not (0 <= begin <= end <= len(data)) or end - begin != count * itemsize:
            _fail(path, f"tensor {name!r}: data_offsets [{begin}, {end}) do not hold {shape} x {dtype} "
                        f"within the {len(data)} data bytes")
        spans.append((begin, end, name))
        out[name] = np.frombuffer(data, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"), count=count,
                                  offset=begin).reshape(shape).copy()
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            _fail(path, f"tensor {name!r} starts at byte {begin}, expected {position} (a gap or an overlap)")
        position = end
    if position != len(data):
        _fail(path, f"{len(data) - position} trailing data bytes after the last tensor")
    return out


def read_checkpoint(path):
    """Every field of a torus-train checkpoint: architecture, epoch, step, rng_state, optimizer,
    settings (None in files written before settings were recorded) and tensors ({name: float32
    array} in file order, names like "model/conv1.weight", "optim/conv1.weight.momentum")."""
    path = pathlib.Path(path)
    blob = path.read_bytes()
    if blob[:8] != CHECKPOINT_MAGIC[:len(blob[:8])] or len(blob) < 8:
        _fail(path, f"not a torus checkpoint (starts with {blob[:8]!r}, expected {CHECKPOINT_MAGIC!r})")
    if len(blob) < 28:
        _fail(path, f"truncated: {len(blob)} bytes, fewer than the 28 of an empty checkpoint")
    version, header_len, size = struct.unpack("<IIQ", blob[8:24])
    if version != CHECKPOINT_VERSION:
        _fail(path, f"checkpoint format version {version}, this reader reads version {CHECKPOINT_VERSION}")
    if len(blob) < size:
        _fail(path, f"truncated: {len(blob)} bytes, the checkpoint records {size}")
    if len(blob) > size:
        _fail(path, f"corrupt: {len(blob)} bytes, the checkpoint records {size}")
    stored, computed = struct.unpack("<I", blob[-4:])[0], zlib.crc32(blob[:-4])
    if stored != computed:
        _fail(path, f"corrupt: CRC-32 of the first {len(blob) - 4} bytes is {computed:#010x}, the file records {stored:#010x}")
    if header_len > len(blob) - 28:
        _fail(path, f"header length {header_len} runs past the data")
    header = _json_object(path, blob[24:24 + header_len])
    for key in ("architecture", "epoch", "step", "rng_state", "optimizer", "tensors"):
        if key not in header:
            _fail(path, f'header has no "{key}"')
    table = header["tensors"]
    if not isinstance(table, list):
        _fail(path, 'header field "tensors" is not an array')
    names = [e.get("name") if isinstance(e, dict) else None for e in table]
    if any(not isinstance(n, str) for n in names) or len(set(names)) != len(names):
        _fail(path, "tensor table entries need unique string names")
    tensors = _tensors(path, {e["name"]: e for e in table}, blob[24 + header_len:-4], {"F32"})
    return {"architecture": header["architecture"], "epoch": header["epoch"], "step": header["step"],
            "rng_state": header["rng_state"], "optimizer": header["optimizer"], "settings": header.get("settings"),
            "tensors": {n: tensors[n] for n in names}}


def model_weights(checkpoint, prefix="model/"):
    """The network's parameters of a checkpoint, names without the prefix: what
    write_safetensors + torus-train --model.init take, and what a PyTorch model's state_dict holds
    (see the README's "Interchange with Python and PyTorch" for the name mapping)."""
    return {n[len(prefix):]: t for n, t in checkpoint["tensors"].items() if n.startswith(prefix)}


def read_safetensors(path):
    """({name: array}, metadata) of a safetensors file (any of its numeric dtypes)."""
    path = pathlib.Path(path)
    blob = path.read_bytes()
    if len(blob) < 8:
        _fail(path, f"truncated: {len(blob)} bytes, fewer than the 8 of the header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(blob):
        _fail(path, f"header length {n} exceeds the file ({len(blob)} bytes) or the {MAX_HEADER_BYTES}-byte limit")
    header = _json_object(path, blob[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    return _tensors(path, header, blob[8 + n:], set(_DTYPES)), metadata


def _write_atomic(path, data):
    """Temporary file in the same folder, fsync, rename, fsync of the folder: as torus writes."""
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent or ".", os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} as float32 safetensors (torus reads F32 and F64), atomically."""
    table, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        a = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
        table[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        chunks.append(a.tobytes())
        offset += a.nbytes
    if metadata:
        table["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    header = json.dumps(table, separators=(",", ":")).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    _write_atomic(path, struct.pack("<Q", len(header)) + header + b"".join(chunks))


def read_metrics(path):
    """metrics.csv as {column: array} (epoch as int64, the rest float64)."""
    path = pathlib.Path(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        _fail(path, "empty (expected a header line)")
    header, body = rows[0], [r for r in rows[1:] if r]
    for i, r in enumerate(body, start=2):
        if len(r) != len(header):
            _fail(path, f"line {i} has {len(r)} columns, the header {len(header)}")
    columns = {}
    for j, name in enumerate(header):
        try:
            columns[name] = np.array([float(r[j]) for r in body], dtype=np.float64)
        except ValueError as e:
            _fail(path, f"column {name!r}: {e}")
    if "epoch" in columns:
        columns["epoch"] = columns["epoch"].astype(np.int64)
    return columns


class Run:
    """A run folder read back: .path, .config (config.toml as nested dicts), .input (input.json or
    None), .class_names (list or None), .metrics ({column: array}); checkpoints on demand with
    .checkpoint("best" | "last"), embeddings with .embeddings() once torus-embed has run."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        config = self.path / "config.toml"
        try:
            with open(config, "rb") as f:
                self.config = tomllib.load(f)
        except FileNotFoundError:
            _fail(self.path, "no config.toml (not a torus-train run folder)")
        except tomllib.TOMLDecodeError as e:
            _fail(config, f"not valid TOML ({e})")
        self.input = _json_or_none(self.path / "input.json")
        names = _json_or_none(self.path / "class_names.json")
        self.class_names = names["class_names"] if names else None
        self.metrics = read_metrics(self.path / "metrics.csv") if (self.path / "metrics.csv").exists() else None

    def checkpoint(self, which="best"):
        return read_checkpoint(self.path / f"{which}.ckpt")

    def embeddings(self, folder="embeddings"):
        return read_embeddings(self.path / folder)


def _json_or_none(path):
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        _fail(path, f"not valid JSON ({e})")


def read_run(path):
    return Run(path)


def read_embeddings(folder):
    """torus-embed's folder: {"meta": meta.json, "<split>": {"embeddings", "labels", "angles" (torusN),
    "sources"}} with the arrays loaded and their row counts checked against each other. A split
    written in shards under mpirun (meta.json's "shards") is read back whole, in order."""
    folder = pathlib.Path(folder)
    meta = _json_or_none(folder / "meta.json")
    if meta is None:
        _fail(folder, "no meta.json (not a torus-embed folder)")
    out = {"meta": meta}
    for split, entry in meta.get("splits", {}).items():
        s = {}
        for key in ("embeddings", "labels", "angles"):
            if entry.get("shards"):
                if all(key in shard for shard in entry["shards"]):
                    parts = [np.load(folder / shard[key], allow_pickle=False) for shard in entry["shards"]]
                    for shard, part in zip(entry["shards"], parts):
                        if len(part) != shard["count"]:
                            _fail(folder / shard[key], f"{len(part)} rows, meta.json's shard {shard['count']}")
                    s[key] = np.concatenate(parts)
                continue
            name = entry.get(key) or (f"{split}_angles.npy" if key == "angles" and (folder / f"{split}_angles.npy").exists() else None)
            if name:
                s[key] = np.load(folder / name, allow_pickle=False)
        if entry.get("sources"):
            s["sources"] = json.loads((folder / entry["sources"]).read_text())["sources"]
        rows = {k: len(v) for k, v in s.items()}
        if len(set(rows.values())) > 1:
            _fail(folder, f"split {split!r}: row counts differ between files: {rows}")
        out[split] = s
    return out
