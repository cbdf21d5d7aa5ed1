"""A scaling model for data-parallel training on a cluster, from one machine's measurements.

Reads the JSON lines of `torus-bench --workload dist` (one rank's step: its compute time and the
bytes a step allreduces and gathers) and prints, as a Markdown table, the modelled step time and
speed-up against the rank count R for a fixed global batch (what torus-train does: the batch is
split, not multiplied), on two links, with the gradient allreduce after the backward (as
torus-train does it) or overlapped with it (the bucketed allreduce started as each bucket's
gradients are ready, as PyTorch DDP does).

The model: compute t_c / R (each rank's part of the batch; this ignores the loss of efficiency of
small per-rank batches, so it is an upper bound on the speed-up); ring allreduce of P bytes
2 (R-1)/R P / bw + 2 (R-1) a; the features' all-gather (G bytes in all) (R-1)/R G / bw + (R-1) a
and its backward's allreduce of the same G; overlapped, the gradient allreduce hides behind the
backward (two thirds of the compute) and only what sticks out counts.

usage: dist_scaling.py BENCH.jsonl   (lines with "ranks": 1; "bytes_*" from a line with ranks > 1)
"""
import json
import sys

LINKS = {"10 GbE": (1.25e9, 20e-6), "100 Gb/s": (12.5e9, 2e-6)}  # bytes/s, seconds per message
RANKS = [1, 2, 4, 8, 16, 32, 64]


def model(t_c, P, G, R, bw, alpha, overlap):
    compute = t_c / R
    if R == 1:
        return compute
    grad = 2 * (R - 1) / R * P / bw + 2 * (R - 1) * alpha
    gather = (R - 1) / R * G / bw + (R - 1) * alpha + 2 * (R - 1) / R * G / bw + 2 * (R - 1) * alpha
    if overlap:
        grad = max(0.0, grad - 2 / 3 * compute)
    return compute + grad + gather


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    by_arch = {}
    for r in rows:
        by_arch.setdefault(r["arch"], []).append(r)
    for arch, rs in by_arch.items():
        many = [r for r in rs if r["ranks"] > 1 and not r.get("sync_bn")]
        # One rank's compute with the threads each rank of the multi-rank runs had.
        one = [r for r in rs if r["ranks"] == 1 and many and r["threads"] == many[0]["threads"]]
        if not one or not many:
            continue
        t_c = sorted(r["ms_per_step"] for r in one)[len(one) // 2] / 1e3  # the median run
        # Bytes per step: the gradient (4 bytes a parameter) and the gathered features (every rank's).
        P = 4 * many[0]["parameters"]
        # A rank sends its own features into the gather (G / R) and the whole batch's feature
        # gradient into the backward's allreduce (G): G (1 + 1/R) bytes.
        R0 = many[0]["ranks"]
        G = many[0]["bytes_forward_backward"] / (1 + 1 / R0)
        print(f"\n{arch}, global batch {one[0]['batch']}: one rank's step {1e3 * t_c:.1f} ms "
              f"({one[0]['threads']} thread(s)), "
              f"gradient {P / 1e6:.2f} MB, gathered features {G / 1e3:.1f} kB per step\n")
        head = "| ranks |" + "".join(f" {link} {'overlapped' if o else 'after backward'} ms (speed-up) |"
                                     for link in LINKS for o in (False, True))
        print(head)
        print("|---|" + "---|" * (2 * len(LINKS)))
        for R in RANKS:
            cells = []
            for bw, alpha in LINKS.values():
                for overlap in (False, True):
                    t = model(t_c, P, G, R, bw, alpha, overlap)
                    cells.append(f" {1e3 * t:.1f} ({t_c / t:.1f}x) |")
            print(f"| {R} |" + "".join(cells))


if __name__ == "__main__":
    main()
