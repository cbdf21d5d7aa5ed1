#!/usr/bin/env python3
"""Keeps the README's examples honest.

extract README.md NAME OUT.cpp OUT.txt: writes the C++ block that follows the `<!-- example:NAME`
marker, and the ```text block after it (the output the README promises).
check PROGRAM EXPECTED.txt: runs the program and fails unless it prints exactly that text.
"""
import re
import subprocess
import sys


def extract(readme, name, cpp_out, txt_out):
    text = open(readme, encoding="utf-8").read()
    at = text.find(f"<!-- example:{name} ")
    if at < 0:
        sys.exit(f"{readme}: no '<!-- example:{name}' marker")
    blocks = re.findall(r"```(\w+)\n(.*?)```", text[at:], re.S)
    code = next((b for lang, b in blocks if lang == "cpp"), None)
    output = next((b for lang, b in blocks if lang == "text"), None)
    if code is None or output is None:
        sys.exit(f"{readme}: the {name} example needs a ```cpp block followed by a ```text block")
    open(cpp_out, "w", encoding="utf-8").write(code)
    open(txt_out, "w", encoding="utf-8").write(output)


def check(program, expected_file):
    expected = open(expected_file, encoding="utf-8").read()
    got = subprocess.run([program], capture_output=True, text=True, check=False)
    if got.returncode != 0 or got.stdout != expected:
        print(f"README example printed (exit {got.returncode}):\n{got.stdout}{got.stderr}")
        print(f"README promises:\n{expected}")
        sys.exit(1)
    print("README example output matches")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "extract":
        extract(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        sys.exit("usage: readme_example.py extract README NAME OUT.cpp OUT.txt | check PROGRAM EXPECTED.txt")
