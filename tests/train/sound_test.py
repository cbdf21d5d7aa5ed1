"""Sound end to end as a user runs it: torus-synthetic-calls writes a small corpus (WAV, FLAC and
Ogg), torus-train trains the audio CNN on it with five species held out of training, torus-embed
writes the held-out species as the fewshot split, and torus-eval's bioacoustic test on them must be
well above chance (5-way: 0.2), in floats and on uint8 torus codes. A bad file stops the run naming
it, and data.skip_bad leaves it out. TAP output.

usage: sound_test.py TORUS_SYNTHETIC_CALLS TORUS_TRAIN TORUS_EMBED TORUS_EVAL
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

CALLS, TRAIN, EMBED, EVAL = (os.path.abspath(a) for a in sys.argv[1:5])
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), str(detail)))


def run(*args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="torus_sound_")
try:
    code, out, err = run(CALLS, "--out", f"{tmp}/calls", "--species", "12", "--clips", "30", "--seconds", "1.5", "--seed", "3")
    check("torus-synthetic-calls writes the corpus", code == 0, err)
    settings = ["--data.dataset", "audio-folder", "--data.path", f"{tmp}/calls", "--data.cache", f"{tmp}/cache",
                "--data.fewshot_classes", "5", "--data.holdout", "20", "--data.holdout_fraction", "0",
                "--data.references", "0", "--audio.n_mels", "32", "--audio.n_fft", "512", "--audio.hop", "256",
                "--audio.crop_frames", "48", "--augment.time_shift", "2", "--augment.gain_db", "2",
                "--model.arch", "audio_cnn", "--model.width", "8", "--model.head", "torusN", "--model.dim", "16",
                "--loss.views", "2", "--loss.base_temperature", "0.1", "--train.batch", "32", "--train.epochs", "60",
                "--train.threads", "2"]
    code, out, err = run(TRAIN, *settings, "--out", f"{tmp}/run")
    check("torus-train trains on the audio folder", code == 0, err[-2000:])
    record = json.load(open(f"{tmp}/run/input.json")) if os.path.exists(f"{tmp}/run/input.json") else {}
    check("input.json records log-mel inputs, 32 bands, per-band statistics",
          record.get("kind") == "log-mel" and record.get("shape") == [1, 32, 48] and len(record.get("mean", [])) == 32
          and record.get("log_mel", {}).get("hop") == 256, record)
    code, out, err = run(EMBED, "--run", f"{tmp}/run")
    check("torus-embed writes train and fewshot (no test folder)", code == 0, err)
    meta = json.load(open(f"{tmp}/run/embeddings/meta.json")) if code == 0 else {}
    check("meta.json: splits train and fewshot, 5 x 30 fewshot clips",
          set(meta.get("splits", {})) == {"train", "fewshot"} and meta["splits"]["fewshot"]["count"] == 150, meta.get("splits"))
    sources = json.load(open(f"{tmp}/run/embeddings/fewshot_sources.json")) if code == 0 else {}
    check("fewshot_sources.json names each clip's file", sources.get("sources", [""])[0].count("/") == 1, sources.get("sources", [])[:2])
    code, out, err = run(EVAL, "--embeddings", f"{tmp}/run/embeddings", "--protocol", "bioacoustic", "--episodes", "200",
                         "--json", f"{tmp}/eval.json")
    check("torus-eval runs the bioacoustic test on the held-out species", code == 0, err)
    if code == 0:
        e = json.load(open(f"{tmp}/eval.json"))
        check("precision@1 is not measured without a test split", e["precision_at_1"] is None, e)
        check("few-shot episodes come from the held-out species", e["few_shot_set"] == "few-shot split" and e["few_shot_rows"] == 150, e)
        five = e["few_shot"]["5-way 5-shot"]["mean"]
        codes = e["few_shot_u8_codes"]["5-way 5-shot"]["mean"]
        print(f"# 5-way 5-shot on unseen species: float {five:.3f}, u8 codes {codes:.3f}; "
              f"1-shot float {e['few_shot']['5-way 1-shot']['mean']:.3f}")
        check(f"5-way 5-shot on unseen species {five:.3f} well above chance (0.2)", five > 0.6, out)
        check(f"the same on uint8 codes {codes:.3f} well above chance", codes > 0.5, out)
    # A clip that cannot be decoded stops the run before training, naming it; skip_bad leaves it out.
    with open(f"{tmp}/calls/s00_chirp/zz_broken.wav", "w") as f:
        f.write("RIFF but not a sound file")
    short = [("1" if i > 0 and settings[i - 1] == "--train.epochs" else a) for i, a in enumerate(settings)]
    code, out, err = run(TRAIN, *short, "--out", f"{tmp}/bad")
    check("a bad clip stops the run: exit 1, named, with the way out", code == 1 and "zz_broken.wav" in err and "skip_bad" in err, err)
    check("... and no run folder is left", not os.path.exists(f"{tmp}/bad/last.ckpt"))
    code, out, err = run(TRAIN, *short, "--data.skip_bad", "true", "--out", f"{tmp}/lenient")
    check("data.skip_bad: the run trains, the clip reported", code == 0 and "zz_broken.wav" in err, err[-2000:])
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        print("  # " + detail.replace("\n", "\n  # ")[:3000])
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
