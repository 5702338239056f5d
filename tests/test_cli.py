"""Console scripts run as a user runs them: in a subprocess, from the installed entry points.
(Notebook cells cannot hold these: they need a fresh process and the shell.)"""
import json, os, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')

def run(*args, ok=True):
    r = subprocess.run([str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, env=ENV, timeout=600)
    if ok: assert r.returncode == 0, r.stdout + r.stderr
    return r

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp('train')
    r = run('fd_train', '--out', out, '--preset', 'tiny', '--steps', 4, '--bs', 8, '--n_train', 32, '--save_every', 2)
    return out, r

def test_train_writes_checkpoint_log_and_scores(trained):
    out, r = trained
    assert (out / 'model.safetensors').exists() and not list(out.glob('*.tmp'))
    assert len((out / 'loss.csv').read_text().splitlines()) == 5           # header + 4 steps
    scores = json.loads((out / 'scores.json').read_text())
    assert set(scores['strict']) == {'acc', 'iou', 'dice'} and 0 <= scores['strict']['iou'] <= 1
    assert 'trained 4 steps' in r.stdout and 'permissive' in r.stdout
    assert (out / 'segmentation.png').stat().st_size > 1000

def test_segment_with_checkpoint(trained, tmp_path):
    out, _ = trained
    r = run('fd_segment', out / 'model.safetensors', '--out', tmp_path)
    assert 'strict (fixed channels)' in r.stdout and (tmp_path / 'segmentation.png').exists()
    # same checkpoint, same images, same noise seed: the same scores as fd_train's report
    assert json.loads((tmp_path / 'scores.json').read_text())['strict'] == json.loads((out / 'scores.json').read_text())['strict']

def test_segment_bad_checkpoints(tmp_path):
    r = run('fd_segment', tmp_path / 'missing.safetensors', ok=False)
    assert r.returncode != 0 and 'no checkpoint at' in r.stderr
    bad = tmp_path / 'bad.safetensors'; bad.write_bytes(b'garbage')
    r = run('fd_segment', bad, ok=False)
    assert r.returncode != 0 and 'not a readable safetensors checkpoint' in r.stderr

def test_baseline_checkpoint_has_no_masks(tmp_path):
    run('fd_train', '--out', tmp_path, '--preset', 'tiny', '--arch', 'unet', '--steps', 2, '--bs', 8, '--n_train', 16)
    r = run('fd_segment', tmp_path / 'model.safetensors', ok=False)
    assert r.returncode != 0 and 'baseline U-Net, which has no masks' in r.stderr

def test_demo_rejects_missing_checkpoint(tmp_path):
    r = run('fd_demo', '--out', tmp_path, '--steps', 1, '--checkpoint', tmp_path / 'nope.safetensors', ok=False)
    assert r.returncode != 0 and 'does not exist' in r.stderr
