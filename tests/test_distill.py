"""fd_distill as a user runs it (issue: the distilled segmenter): it trains, survives SIGKILL and resumes to the same
weights, its student segments through fd_segment, it never reads a ground-truth mask, and mistakes get one line."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

BIN = Path(sys.executable).parent
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')
FAST = ['--n_images', 48, '--bs', 8, '--ts', '30', '--n_draws', 1, '--save_every', 4, '--compare', 'False']

def cmd(*args): return [str(BIN / args[0]), *map(str, args[1:])]

def run(*args, ok=True):
    r = subprocess.run(cmd(*args), capture_output=True, text=True, env=ENV, timeout=600)
    if ok: assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r

def one_line_error(r, command='fd_distill'):
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'Warning' not in l and 'warnings.warn' not in l]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(f'{command}: error: '), r.stderr
    return lines[0]

def weights(out): return load_file(str(Path(out) / 'model.safetensors'))

def same(a, b): return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    "A tiny factorized model with random weights: what it teaches does not matter here, only the mechanics."
    from factorized_diffusion.unet import unet_config
    from factorized_diffusion.factorized import factorized_model
    from factorized_diffusion.checkpoints import save_model
    torch.manual_seed(0)
    p = tmp_path_factory.mktemp('teacher') / 'teacher.safetensors'
    save_model(factorized_model(unet_config('tiny')), p)
    return p

@pytest.fixture(scope='module')
def reference(teacher, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'student'
    run('fd_distill', teacher, '--out', out, *FAST, '--steps', 24, '--rounds', 2)
    return out

def test_distill_then_segment_with_the_student(teacher, tmp_path):
    out = tmp_path / 'student'
    r = run('fd_distill', teacher, '--out', out, '--n_images', 32, '--bs', 8, '--ts', '30', '--n_draws', 1, '--steps', 6)
    assert 'student is' in r.stdout and 'teacher (t=30, one pass)' in r.stdout              # the side-by-side comparison
    res = json.loads((out / 'comparison.json').read_text())
    assert {'student', 'GrabCut', 'K-means (K=2)'} <= set(res['methods']) and res['images_per_second']['student'] > 0
    assert (out / 'distill.png').stat().st_size > 1000
    seg = tmp_path / 'seg'
    r = run('fd_segment', out, '--out', seg, '--baselines', 'True', '--supervised_steps', 0)
    scores = json.loads((seg / 'scores.json').read_text())
    assert 0 <= scores['strict']['iou'] <= 1 and 'distilled student' in r.stdout
    assert json.loads((seg / 'comparison.json').read_text())['distilled student']['strict'] == scores['strict']

KILL_IN_SAVE = """
import os, signal, sys, runpy
n, when, real, seen = int(os.environ['KILL_AT']), os.environ['KILL_WHEN'], os.replace, []
def replace(src, dst):
    if str(dst).endswith('state.pt'): seen.append(1)
    if len(seen) == n and when == 'before': os.kill(os.getpid(), signal.SIGKILL)   # state.pt.tmp written, not yet in place
    real(src, dst)
    if len(seen) == n and when == 'after': os.kill(os.getpid(), signal.SIGKILL)    # new state.pt, old model.safetensors
os.replace = replace
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""

def test_sigkill_in_checkpoint_writes_then_resume_gives_the_same_student(teacher, reference, tmp_path):
    out = tmp_path / 'student'
    args = cmd('fd_distill', teacher, '--out', out, *FAST, '--steps', 24, '--rounds', 2)
    for n, when in ((3, 'before'), (5, 'after')):   # round 1 at step 12 (before the rename); then, resumed from step 8, round 2 at step 4 (after it)
        r = subprocess.run([sys.executable, '-c', KILL_IN_SAVE, *args], env=dict(ENV, KILL_AT=str(n), KILL_WHEN=when),
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == -signal.SIGKILL, r.stdout[-2000:] + r.stderr[-2000:]
    assert torch.load(out / 'state.pt', weights_only=True)['round'] == 2
    r = run('fd_distill', teacher, '--out', out, *FAST, '--steps', 24, '--rounds', 2)
    assert 'resuming' in r.stdout and 'round 2' in r.stdout
    assert same(weights(out), weights(reference))
    assert (out / 'loss.csv').read_text() == (reference / 'loss.csv').read_text()    # no step logged twice

def test_sigterm_saves_and_exits_130(teacher, tmp_path):
    out = tmp_path / 'student'
    p = subprocess.Popen(cmd('fd_distill', teacher, '--out', out, *FAST, '--steps', 5000), env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not (out / 'loss.csv').exists() or len((out / 'loss.csv').read_text().splitlines()) < 3:
        assert p.poll() is None and time.time() - t0 < 300, 'fd_distill ended or stalled before its first checkpoint'
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM); so, se = p.communicate(timeout=120)
    assert p.returncode == 130 and 'fd_distill: interrupted' in se
    st = torch.load(out / 'state.pt', weights_only=True)
    assert st['step'] == len((out / 'loss.csv').read_text().splitlines()) - 1              # saved the last step it logged

def test_no_ground_truth_mask_is_read(teacher, tmp_path, monkeypatch):
    "Distilling with the built-in data's masks replaced by noise gives bit-identical students: the masks play no part."
    from factorized_diffusion.data import ShapesDataset
    from factorized_diffusion.distill import fd_distill
    args = dict(n_images=16, bs=8, ts=(30,), n_draws=1, steps=4, compare=False, device='cpu')
    fd_distill(str(teacher), out=str(tmp_path / 'a'), **args)
    real, before = ShapesDataset.make_image, ShapesDataset(16, 16)
    def noisy(seed, size, **kw):
        img, mask, c = real(seed, size, **kw)
        return img, torch.rand_like(mask).round(), c
    monkeypatch.setattr(ShapesDataset, 'make_image', staticmethod(noisy))
    assert torch.equal(ShapesDataset(16, 16).images, before.images) and not torch.equal(ShapesDataset(16, 16).masks, before.masks)
    fd_distill(str(teacher), out=str(tmp_path / 'b'), **args)
    assert same(weights(tmp_path / 'a'), weights(tmp_path / 'b'))

def test_mistakes_get_one_line(teacher, tmp_path):
    assert 'no checkpoint at' in one_line_error(run('fd_distill', tmp_path / 'missing.safetensors', '--out', tmp_path / 'o', ok=False))
    assert "labels must be 'soft' or 'hard'" in one_line_error(run('fd_distill', teacher, '--out', tmp_path / 'o', '--labels', 'fuzzy', ok=False))
    from factorized_diffusion.unet import UNet, unet_config
    from factorized_diffusion.checkpoints import save_model
    save_model(UNet(unet_config('tiny')), tmp_path / 'unet.safetensors')
    assert 'not a factorized model' in one_line_error(run('fd_distill', tmp_path / 'unet.safetensors', '--out', tmp_path / 'o', ok=False))
    run('fd_distill', teacher, '--out', tmp_path / 's', *FAST, '--steps', 2)
    line = one_line_error(run('fd_distill', teacher, '--out', tmp_path / 's', *FAST, '--steps', 2, '--lr', 0.1, ok=False))
    assert 'other settings' in line and '--out' in line
    assert 'not a factorized model' in one_line_error(run('fd_distill', tmp_path / 's', '--out', tmp_path / 'o2', ok=False))   # a student cannot teach
    assert 'cannot generate' in one_line_error(run('fd_sample', tmp_path / 's', '--out', tmp_path / 'o3', ok=False), 'fd_sample')
    other = tmp_path / 'other.safetensors'
    from factorized_diffusion.factorized import factorized_model
    torch.manual_seed(1); save_model(factorized_model(unet_config('tiny')), other)
    assert 'another teacher or other images' in one_line_error(run('fd_distill', other, '--out', tmp_path / 's', *FAST, '--steps', 2, ok=False))
    from factorized_diffusion.distill import fd_distill
    with pytest.raises(TypeError, match='unexpected options'): fd_distill(str(teacher), out=str(tmp_path / 'o4'), step=3)   # misspelt: not ignored
