"""`make gpu` (bench/make_gpu.py, issue #29) end to end in its dry-run mode on the CPU, so that a typo cannot cost GPU time:
every section runs with tiny sizes, the training section is stopped by its cap (SIGTERM) and keeps its checkpoint, and
the report section reads it. The GPU tests themselves skip here (no CUDA); CI runs this file like any other."""
import json, shlex, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'bench'))
import make_gpu

def test_gpu_training_options_parse():
    "The options the GPU run gives fd_train are ones fd_train accepts (argparse exits on an unknown or mistyped one)."
    from fastcore.script import anno_parser
    from factorized_diffusion.cli import fd_train
    args = anno_parser(getattr(fd_train, '__wrapped__', fd_train)).parse_args(shlex.split(make_gpu.TRAIN_ARGS))
    assert args.preset == 'photos64' and args.eval_every > 0 and args.bs == 128

def test_make_gpu_dry_run(tmp_path):
    out = tmp_path / 'gpu'
    r = subprocess.run([sys.executable, str(ROOT / 'bench' / 'make_gpu.py'), '--dry_run', '--out', str(out), '--caps', 'train=45'],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    s = json.loads((out / 'summary.json').read_text())
    assert s['dry_run'] and list(s['sections']) == ['tests', 'bench', 'compile', 'train', 'report']
    for name in ('tests', 'bench', 'compile', 'report'): assert s['sections'][name]['rc'] == 0 and not s['sections'][name]['capped'], (name, (out / f'{name}.log').read_text()[-2000:])
    assert s['sections']['train']['capped']                                  # stopped by its cap, not by an error
    assert 'skipped' in (out / 'tests.log').read_text()                      # no CUDA here: the GPU tests skip cleanly
    md = (out / 'bench' / 'bench.md').read_text()
    assert 'DRY RUN' in md and '| fp32 | tiny | 2 | factorized |' in md and 'DDIM-50' in md and '| factorized |' in md.split('Profile')[1]
    assert (out / 'train' / 'checkpoint' / 'model.safetensors').exists() and len((out / 'train' / 'curve.csv').read_text().splitlines()) >= 2
    comp = json.loads((out / 'report' / 'segment' / 'comparison.json').read_text())
    assert {'factorized (ours)', 'GrabCut'} <= set(comp)
    assert (out / 'report' / 'samples' / 'grid.png').exists()

def test_caps_name_known_sections(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / 'bench' / 'make_gpu.py'), '--dry_run', '--out', str(tmp_path), '--caps', 'trian=5'],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "unknown section 'trian'" in r.stderr
