"""Run every benchmark in bench/ (each prints its own ratio against a same-run baseline)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run.py", "harness.py"}

failed = []
for script in sorted(HERE.glob("*.py")):
    if script.name in SKIP:
        continue
    print(f"\n=== {script.name}", flush=True)
    if subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode:
        failed.append(script.name)
if failed:
    print(f"\nfailed: {', '.join(failed)}")
    sys.exit(1)
