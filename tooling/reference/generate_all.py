"""Regenerates every package's PyTorch fixtures.

Each loss package keeps its reference beside it, in
packages/<name>/fixtures/generate.py (helpers in tooling/fixtures); this runs
them all with the interpreter that runs this script (use /usr/bin/python3,
Debian's python3-torch 1.13). The JSON they write is committed; tests never
need Python.

    /usr/bin/python3 tooling/reference/generate_all.py [package ...]
"""
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]
wanted = set(sys.argv[1:])
scripts = sorted(root.glob('packages/*/fixtures/generate.py'))
failed = []
for script in scripts:
    package = script.parents[1].name
    if wanted and package not in wanted:
        continue
    print(f'== {package}', flush=True)
    if subprocess.run([sys.executable, str(script)], cwd=script.parents[1]).returncode != 0:
        failed.append(package)
if failed:
    sys.exit(f'fixture generation failed for: {", ".join(failed)}')
