"""torchaudio's twin of `torus-bench --workload logmel`: the log-mel features of every clip of an
audio folder (load, mix down, resample to 16 kHz, MelSpectrogram, AmplitudeToDB) with method.md
13's settings, as a PyTorch user computes them: in one process with torch's intra-op threads, and
with a pool of worker processes (one torch thread each). Prints one JSON line per variant.

usage: /usr/bin/python3 train/tools/python/bench_logmel.py DIR [--threads 2]
"""
import argparse
import json
import multiprocessing
import pathlib
import time

import torch
import torchaudio

RATE = 16000
_mel = None


def features(path):
    global _mel
    if _mel is None:
        _mel = torch.nn.Sequential(
            torchaudio.transforms.MelSpectrogram(sample_rate=RATE, n_fft=1024, hop_length=320, f_min=50, f_max=8000,
                                                 n_mels=128, power=2.0),
            torchaudio.transforms.AmplitudeToDB(stype="power"))
    x, rate = torchaudio.load(str(path))
    x = x.mean(dim=0)
    if rate != RATE:
        x = torchaudio.functional.resample(x, rate, RATE)
    with torch.no_grad():
        return _mel(x).shape[-1]


def one_thread_worker():
    torch.set_num_threads(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    files = sorted(p for p in pathlib.Path(a.dir).glob("*/*") if p.suffix.lower() in (".wav", ".flac", ".ogg", ".mp3"))
    torch.set_num_threads(a.threads)
    features(files[0])  # warm-up: build the transforms
    t0 = time.perf_counter()
    for f in files:
        features(f)
    loop = time.perf_counter() - t0
    # spawn, not fork: a child forked after torch started its OpenMP threads can hang in them.
    with multiprocessing.get_context("spawn").Pool(a.threads, initializer=one_thread_worker) as pool:
        pool.map(features, files[: a.threads])  # warm-up
        t0 = time.perf_counter()
        pool.map(features, files, chunksize=8)
        pooled = time.perf_counter() - t0
    print(json.dumps({"workload": "logmel", "impl": "torchaudio " + torchaudio.__version__, "threads": a.threads,
                      "clips": len(files), "loop_clips_per_s": len(files) / loop,
                      "pool_clips_per_s": len(files) / pooled}))


if __name__ == "__main__":
    main()
