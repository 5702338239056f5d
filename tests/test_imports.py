"""Every module imports on its own, first, in a fresh interpreter, without fastai's `torch.jit.script` FutureWarning
(00_core silences that one import; a module that imports fastai before `core` would let it through)."""
import subprocess, sys
from pathlib import Path

MODULES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / 'factorized_diffusion').glob('*.py') if not p.stem.startswith('_'))

def test_every_module_imports_first_without_warnings():
    procs = {m: subprocess.Popen([sys.executable, '-W', 'error::FutureWarning', '-c', f'import factorized_diffusion.{m}'],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for m in MODULES}
    failed = {m: p.communicate(timeout=300)[1].strip().splitlines()[-1:] for m, p in procs.items()}
    assert len(MODULES) > 20 and not {m: e for m, e in failed.items() if procs[m].returncode}, failed
