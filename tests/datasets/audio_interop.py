"""Sound decoding and log-mel against independent tools: files written by sox (from Debian) in every
format and layout torus reads decode to the signal numpy made; bad files are refused with the
named error; log-mel spectrograms equal torchaudio's MelSpectrogram + AmplitudeToDB (when
torchaudio is installed) to 1e-3 dB.

usage: audio_interop.py AUDIO_TOOL        (TAP output)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

TOOL = os.path.abspath(sys.argv[1])
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), str(detail)))


def tool(*args):
    p = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def sox(*args):
    p = subprocess.run(["sox"] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("sox " + " ".join(map(str, args)) + ": " + p.stderr)


def signal(rate, seconds, channels, seed=0):
    """Two tones and a chirp per channel, below full scale, plus a little noise so every band has energy."""
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(seed)
    chans = []
    for c in range(channels):
        f0 = 440.0 * (c + 1)
        x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.2 * np.sin(2 * np.pi * 2500 * t + c)
        x += 0.2 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.01 * rng.standard_normal(t.size)
        chans.append(x)
    return np.stack(chans, axis=1).astype(np.float32)


def write_raw(path, x):
    x.astype("<f4").tofile(path)


def decode(path, rate=0):
    out = path + ".npy"
    code, stdout, stderr = tool("decode", path, rate, out)
    return (np.load(out)[:, 0] if code == 0 else None), stdout, stderr


def snr_db(ref, x):
    n = min(len(ref), len(x))
    return 10 * np.log10(np.sum(ref[:n] ** 2) / max(np.sum((ref[:n] - x[:n]) ** 2), 1e-30))


tmp = tempfile.mkdtemp(prefix="torus_audio_")
try:
    # --- lossless formats: exact up to the format's quantisation ---
    cases = [("wav", ["-e", "unsigned-integer", "-b", "8"], 22050, 1, 2.0 ** -7),
             ("wav", ["-e", "signed-integer", "-b", "16"], 16000, 1, 2.0 ** -15),
             ("wav", ["-e", "signed-integer", "-b", "24"], 44100, 2, 2.0 ** -23),
             ("wav", ["-e", "signed-integer", "-b", "32"], 48000, 1, 2.0 ** -30),
             ("wav", ["-e", "floating-point", "-b", "32"], 48000, 2, 1e-7),
             ("wav", ["-e", "floating-point", "-b", "64"], 22050, 1, 1e-7),
             ("flac", ["-b", "16"], 44100, 2, 2.0 ** -15),
             ("flac", ["-b", "24"], 48000, 1, 2.0 ** -23)]
    for i, (ext, enc, rate, channels, step) in enumerate(cases):
        x = signal(rate, 0.5, channels, seed=i)
        raw = f"{tmp}/in{i}.f32"
        write_raw(raw, x)
        path = f"{tmp}/case{i}.{ext}"
        sox("-D", "-t", "f32", "-r", rate, "-c", channels, raw, *enc, path)
        y, stdout, stderr = decode(path)
        name = f"{ext} {' '.join(enc)} {rate} Hz {channels} ch"
        ok = y is not None and len(y) == len(x)
        check(f"{name}: decodes every frame", ok, stderr or (len(y), len(x)))
        if ok:
            err = np.abs(y - x.mean(axis=1)).max()
            check(f"{name}: equals the signal mixed to mono within one quantisation step ({err:.2e})", err <= step * 1.01, err)
            check(f"{name}: reports rate and channels", stdout.split() == [str(rate), str(rate), str(channels)], stdout)

    # --- resampling (libsoxr): a 44.1 kHz file at 16 kHz is the same sound ---
    rate = 44100
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    write_raw(f"{tmp}/tone.f32", tone[:, None])
    sox("-D", "-t", "f32", "-r", rate, "-c", 1, f"{tmp}/tone.f32", "-e", "floating-point", "-b", 32, f"{tmp}/tone.wav")
    y, stdout, stderr = decode(f"{tmp}/tone.wav", 16000)
    expected = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)
    ok = y is not None and len(y) == 16000
    check("resampled 44.1 -> 16 kHz: 16000 samples", ok, stderr or len(y))
    if ok:
        err = np.abs(y[500:-500] - expected[500:-500]).max()
        check(f"resampled 44.1 -> 16 kHz: the same 1 kHz tone ({err:.1e} away from the edges)", err < 1e-3, err)

    # --- lossy formats: the same sound, not the same samples ---
    x = signal(16000, 1.0, 1, seed=9)
    write_raw(f"{tmp}/lossy.f32", x)
    for ext, enc in (("ogg", ["-C", "8"]), ("mp3", ["-C", "320"])):
        path = f"{tmp}/lossy.{ext}"
        sox("-D", "-t", "f32", "-r", 16000, "-c", 1, f"{tmp}/lossy.f32", *enc, path)
        y, stdout, stderr = decode(path)
        check(f"{ext}: decodes", y is not None, stderr)
        if y is not None:
            # Encoders may add a delay: align by cross-correlation before comparing.
            ref = x[:, 0]
            lags = range(0, 3000)
            best = max(lags, key=lambda k: float(np.dot(ref[: len(ref) - 3000], y[k: k + len(ref) - 3000])))
            s = snr_db(ref[: len(ref) - 3000], y[best: best + len(ref) - 3000])
            check(f"{ext}: the same sound ({s:.1f} dB SNR after a lag of {best} samples)", s > 15, s)

    # --- bad files: named errors ---
    good = open(f"{tmp}/case1.wav", "rb").read()
    bad = {"truncated.wav": (good[: len(good) // 2], "truncated"),
           "empty.wav": (b"", "empty file"),
           "garbage.wav": (b"RIFX this is not a sound file at all" * 10, "not a readable sound file"),
           "header_only.wav": (good[:60], "truncated")}
    # A float WAV holding a NaN, written by hand (sox turns NaN into -1).
    nan = signal(16000, 0.1, 1)[:, 0]
    nan[100] = np.nan
    data = nan.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 16000 * 4, 4, 32)  # IEEE float, mono, 16 kHz, 32 bits
    open(f"{tmp}/nan.wav", "wb").write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE" +
                                      b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)
    open(f"{tmp}/zero_frames.wav", "wb").write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8) + b"WAVE" + b"fmt " +
                                              struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 0))
    for name, (content, fragment) in bad.items():
        open(f"{tmp}/{name}", "wb").write(content)
    bad["zero_frames.wav"] = (None, "no samples")
    bad["nan.wav"] = (None, "sample 100 is NaN")
    for name, (_, fragment) in bad.items():
        y, stdout, stderr = decode(f"{tmp}/{name}")
        check(f"{name}: refused naming the file and '{fragment}'", y is None and name in stderr and fragment in stderr, stderr)
    os.mkfifo(f"{tmp}/fifo.wav")
    y, stdout, stderr = decode(f"{tmp}/fifo.wav")
    check("a FIFO named .wav is refused at once", y is None and "not a regular file" in stderr, stderr)

    # --- log-mel against torchaudio ---
    try:
        import torch
        import torchaudio
    except ImportError:
        torchaudio = None
    if torchaudio is None:
        check("# SKIP torchaudio not installed (Debian python3-torchaudio): log-mel comparison", True)
    else:
        for label, slaney in (("htk", False), ("slaney scale and norm", True)):
            path = f"{tmp}/case1.wav"  # 16 kHz, 0.5 s
            samples, _, _ = decode(path)
            out = f"{tmp}/logmel.npy"
            code, stdout, stderr = tool("logmel", path, out, *(["slaney"] if slaney else []))
            check(f"log-mel {label}: computed", code == 0, stderr)
            if code != 0:
                continue
            ours = np.load(out)
            mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=1024, hop_length=320, n_mels=128,
                                                       f_min=50.0, f_max=8000.0, power=2.0,
                                                       norm="slaney" if slaney else None,
                                                       mel_scale="slaney" if slaney else "htk")
            ref = torchaudio.transforms.AmplitudeToDB(stype="power")(mel(torch.from_numpy(samples))).numpy()
            check(f"log-mel {label}: shape {ours.shape} equals torchaudio's {ref.shape}", ours.shape == ref.shape)
            if ours.shape == ref.shape:
                diff = np.abs(ours - ref).max()
                check(f"log-mel {label}: max |ours - torchaudio| = {diff:.2e} dB (< 1e-3)", diff < 1e-3, diff)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        print("  # " + detail.replace("\n", "\n  # ")[:1500])
