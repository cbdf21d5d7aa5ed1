#!/usr/bin/python3
"""numpy and our .npy code agree: numpy loads what our writers produce, our reader loads what
numpy writes (every supported dtype, format versions 1.0, 2.0 and 3.0) and refuses what it must
(Fortran order, big-endian, structured and object dtypes, truncated files). TAP on stdout.
Usage: npy_interop.py path/to/npy_interop_tool"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("1..0 # SKIP numpy is not installed for this python")
    sys.exit(0)

TOOL = sys.argv[1]
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}")
    if not ok and detail:
        print("# " + str(detail).replace("\n", "\n# "))


def tool(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)


def read_with_tool(kind, path):
    """Our reader's view of a file: (shape, values) or raises with its error message."""
    r = tool(kind, path)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    lines = r.stdout.split()
    if kind == "matrix":
        rows, cols = int(lines[0]), int(lines[1])
        return (rows, cols), np.array([np.float32(float(x)) for x in lines[2:]], dtype=np.float32).reshape(rows, cols)
    count = int(lines[0])
    return (count,), np.array([int(x) for x in lines[1:]], dtype=object)


def write_numpy(path, array, version=None):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=True)


with tempfile.TemporaryDirectory() as d:
    # --- numpy loads ours
    r = tool("write", d)
    check("our writers ran", r.returncode == 0, r.stderr)
    a = np.load(os.path.join(d, "ours_f32.npy"))
    expect = (np.arange(12, dtype=np.float32) * np.float32(0.5) - np.float32(1.25))
    expect[11] = np.float32(1e-30)
    check("numpy loads our float32 matrix", a.dtype == np.float32 and a.shape == (3, 4) and
          np.array_equal(a, expect.reshape(3, 4)), a)
    a = np.load(os.path.join(d, "ours_i64.npy"))
    check("numpy loads our int64 vector", a.dtype == np.int64 and a.shape == (6,) and
          a.tolist() == [-5, 0, 7, 1 << 40, -(1 << 63), (1 << 63) - 1], a)
    a = np.load(os.path.join(d, "ours_u8.npy"))
    check("numpy loads our uint8 matrix", a.dtype == np.uint8 and a.shape == (2, 3) and
          a.tolist() == [[0, 1, 127], [128, 254, 255]], a)
    a = np.load(os.path.join(d, "ours_empty.npy"))
    check("numpy loads our empty matrix", a.dtype == np.float32 and a.shape == (0, 3), a.shape)

    # --- we load numpy's
    rng = np.random.default_rng(7)
    for version in [(1, 0), (2, 0), (3, 0)]:
        for dtype in ["<f4", "<f8"]:
            m = (rng.standard_normal((5, 7)) * 1000).astype(dtype)
            p = os.path.join(d, "m.npy")
            write_numpy(p, m, version)
            try:
                shape, values = read_with_tool("matrix", p)
                ok = shape == (5, 7) and np.array_equal(values, m.astype(np.float32))
                check(f"we load numpy's {dtype} matrix, format {version[0]}.0", ok, values)
            except RuntimeError as e:
                check(f"we load numpy's {dtype} matrix, format {version[0]}.0", False, e)
    for dtype in ["|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"]:
        info = np.iinfo(np.dtype(dtype))
        v = np.array([info.min, 0, 1, 2, info.max if dtype != "<u8" else (1 << 63) - 1], dtype=dtype)
        p = os.path.join(d, "v.npy")
        np.save(p, v)
        try:
            shape, values = read_with_tool("integers", p)
            check(f"we load numpy's {dtype} labels", shape == (5,) and values.tolist() == [int(x) for x in v], values)
        except RuntimeError as e:
            check(f"we load numpy's {dtype} labels", False, e)
    big = rng.standard_normal((300, 37)).astype(np.float32)
    np.save(os.path.join(d, "big.npy"), big)
    shape, values = read_with_tool("matrix", os.path.join(d, "big.npy"))
    check("we load numpy's np.save of a (300, 37) matrix", shape == (300, 37) and np.array_equal(values, big))

    # --- what we must refuse, with the file named
    m = rng.standard_normal((4, 3)).astype(np.float32)
    refusals = [
        ("Fortran order", np.asfortranarray(m), "matrix", "C order"),
        ("big-endian", m.astype(">f4"), "matrix", "big-endian"),
        ("structured dtype", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]), "integers", "structured"),
        ("object dtype", np.array([1, "x", None], dtype=object), "integers", "not supported"),
        ("rank 3", np.zeros((2, 2, 2), dtype=np.float32), "matrix", "rank 2"),
        ("bool", np.array([True, False]), "integers", "not supported"),
    ]
    for name, array, kind, message in refusals:
        p = os.path.join(d, "refuse.npy")
        write_numpy(p, array)
        r = tool(kind, p)
        check(f"we refuse numpy's {name} array", r.returncode == 1 and message in r.stderr and p in r.stderr,
              r.stderr or r.stdout)
    p = os.path.join(d, "cut.npy")
    np.save(p, m)
    data = open(p, "rb").read()
    cuts_refused = 0
    for length in range(0, len(data), 7):
        with open(p, "wb") as f:
            f.write(data[:length])
        cuts_refused += tool("matrix", p).returncode == 1
    check("we refuse numpy files cut short", cuts_refused == len(range(0, len(data), 7)), cuts_refused)

print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
