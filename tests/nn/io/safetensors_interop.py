#!/usr/bin/env python3
"""safetensors between torus and Python, with numpy and the spec alone (no safetensors package).

usage: safetensors_interop.py SAFETENSORS_TOOL WORK_DIR

(a) safetensors_tool writes a file; we parse the 8-byte length, the JSON header and the data with
    np.frombuffer and check every value, the layout rules and the metadata.
(b) we write a file by hand (F32 and F64 tensors, header keys out of data order); the tool loads it
    and prints sums that we predict exactly.
(c) we write an I64 tensor; the tool must refuse it, naming the file and the dtype.
Exit status 77 (meson: skipped) when no python3 on PATH (or /usr/bin/python3) can import numpy.
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def rerun_with_numpy():
    """Re-executes this script under another python3 that has numpy, if there is one.

    The python3 first on PATH is not always the one with numpy: a pyenv or virtualenv interpreter
    shadows the system one, whose numpy is Debian's python3-numpy.
    """
    if os.environ.get("TORUS_INTEROP_RERUN"):
        return
    seen = {os.path.realpath(sys.executable)}
    candidates = [os.path.join(d, "python3") for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    for candidate in candidates + ["/usr/bin/python3"]:
        real = os.path.realpath(candidate)
        if real in seen or not os.access(candidate, os.X_OK):
            continue
        seen.add(real)
        if subprocess.run([candidate, "-c", "import numpy"], capture_output=True).returncode == 0:
            print("numpy found under %s" % candidate, flush=True)
            os.environ["TORUS_INTEROP_RERUN"] = "1"
            os.execv(candidate, [candidate] + sys.argv)


try:
    import numpy as np
except ImportError:
    rerun_with_numpy()
    print("numpy is not importable by any python3: skipping")
    sys.exit(77)

FAILURES = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        FAILURES.append(what)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        arrays[name] = np.frombuffer(data[begin:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return n, header, data, arrays


def write_safetensors(path, tensors, metadata=None, header_order=None):
    """tensors: list of (name, numpy array) laid out in this order; header_order: key order."""
    codes = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<i8"): "I64"}
    entries, chunks, offset = {}, [], 0
    for name, array in tensors:
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        entries[name] = {"dtype": codes[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in header_order or [name for name, _ in tensors]:
        header[name] = entries[name]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def run_tool(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, text=True)


def part_a(tool, work):
    path = os.path.join(work, "from_cpp.safetensors")
    result = run_tool(tool, "write", path)
    check(result.returncode == 0, "C++ writer exits 0 " + result.stderr.strip())
    n, header, data, arrays = read_safetensors(path)
    check(n % 8 == 0, "header length is a multiple of 8")
    check(header.get("__metadata__") == {"format": "pt", "written_by": "torus"}, "metadata")
    names = sorted((e["data_offsets"][0], e["data_offsets"][1], k) for k, e in header.items() if k != "__metadata__")
    check([k for _, _, k in names] == ["fc.weight", "fc.bias", "scalar", "empty", "special"], "data in the order given")
    end = 0
    for begin, stop, name in names:
        check(begin == end, "tensor %s starts where the previous one ended" % name)
        end = stop
    check(end == len(data), "no bytes after the last tensor")
    check(all(e["dtype"] == "F32" for k, e in header.items() if k != "__metadata__"), "every dtype is F32")

    expected_weight = (np.float32(-2.0) + np.float32(0.375) * np.arange(12, dtype=np.float32)).reshape(3, 4)
    check(arrays["fc.weight"].shape == (3, 4) and np.array_equal(arrays["fc.weight"], expected_weight), "fc.weight values")
    check(np.array_equal(arrays["fc.bias"], np.float32(1.0) - np.float32(0.5) * np.arange(4, dtype=np.float32)), "fc.bias values")
    check(arrays["scalar"].shape == () and arrays["scalar"][()] == np.float32(3.25), "0-d scalar")
    check(arrays["empty"].shape == (0, 3), "empty (0, 3) tensor")
    special = arrays["special"]
    check(special[0] == 0 and np.signbit(special[0]), "-0.0 keeps its sign")
    check(np.isposinf(special[1]) and np.isneginf(special[2]), "infinities")
    check(special[3] == np.nextafter(np.float32(0), np.float32(1)), "smallest denormal")


def parse_checksums(text):
    tensors, meta = [], {}
    for line in text.splitlines():
        fields = line.split(" ")
        if fields[0] == "tensor":
            tensors.append((fields[1], fields[2], int(fields[3]), float(fields[4]), float(fields[5])))
        elif fields[0] == "meta":
            meta[fields[1]] = " ".join(fields[2:])
    return tensors, meta


def part_b(tool, work):
    path = os.path.join(work, "from_python.safetensors")
    a = (np.arange(6, dtype=np.float32) * np.float32(0.25) - np.float32(0.5)).reshape(2, 3)
    b = np.array([1.5, -3.0, 1024.0, 0.125, 7.0], dtype=np.float64)
    c = np.array(-4.75, dtype=np.float32)
    d = np.zeros((2, 0), dtype=np.float32)
    tensors = [("layer.a", a), ("layer.b", b), ("c", c), ("d", d)]
    write_safetensors(path, tensors, metadata={"framework": "numpy"}, header_order=["c", "d", "layer.b", "layer.a"])
    result = run_tool(tool, "checksum", path)
    check(result.returncode == 0, "C++ loads the Python file " + result.stderr.strip())
    loaded, meta = parse_checksums(result.stdout)
    check([t[0] for t in loaded] == ["layer.a", "layer.b", "c", "d"], "C++ lists tensors in data order")
    check(meta == {"framework": "numpy"}, "C++ reads the metadata")
    for (name, array), (got_name, shape, count, total, weighted) in zip(tensors, loaded):
        values = [float(x) for x in array.reshape(-1)]
        want_shape = "[" + ",_".join(str(s) for s in array.shape) + "]"
        check(got_name == name and shape == want_shape and count == array.size, "%s: name, shape %s, size" % (name, shape))
        check(total == math.fsum(values), "%s: sum %r" % (name, total))
        check(weighted == math.fsum((i + 1) * x for i, x in enumerate(values)), "%s: weighted sum %r" % (name, weighted))


def part_c(tool, work):
    path = os.path.join(work, "int64.safetensors")
    write_safetensors(path, [("steps", np.array([1, 2, 3], dtype=np.int64))])
    result = run_tool(tool, "checksum", path)
    check(result.returncode == 1, "C++ refuses an I64 tensor")
    check(path in result.stderr and '"I64" is not supported' in result.stderr, "the refusal names the file and the dtype: "
          + result.stderr.strip())


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tool, work_root = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="safetensors_interop_", dir=work_root)
    try:
        part_a(tool, work)
        part_b(tool, work)
        part_c(tool, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failed" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
