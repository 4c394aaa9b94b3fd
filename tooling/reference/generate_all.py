"""Regenerates every package's PyTorch fixtures.

Each loss package keeps its reference beside it, in
packages/<name>/fixtures/generate.py (helpers in tooling/fixtures); this runs
them all with the interpreter that runs this script (use /usr/bin/python3,
Debian's python3-torch 1.13). The JSON they write is committed; tests never
need Python.

    /usr/bin/python3 tooling/reference/generate_all.py [--check] [package ...]

With --check nothing is written: every script recomputes its fixtures and
compares them with the committed JSON (to a few float32 ulps, see
tooling/fixtures/tfjs_fixtures.py), failing on the first difference. CI runs
it, so a fixture edited by hand or a script changed without regenerating
does not go unnoticed.
"""
import os
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]
args = sys.argv[1:]
if '--check' in args:
    args.remove('--check')
    os.environ['TFJS_LOSSES_FIXTURES_CHECK'] = '1'
wanted = set(args)
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
print('every fixture matches its script' if os.environ.get('TFJS_LOSSES_FIXTURES_CHECK') else 'fixtures written')
