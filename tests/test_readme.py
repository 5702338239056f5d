"README.md is generated from nbs/index.ipynb (settings.ini `readme_nb`): the committed file must match the notebook."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_readme_matches_index_notebook():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'build_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
