"""Faults a run must survive and mistakes that must get a one-line answer (issue: reliability), as a user meets them:
console scripts in subprocesses, killed with SIGKILL at seeded random moments and in the middle of a checkpoint write."""
import json, os, pickle, random, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

BIN = Path(sys.executable).parent
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')
RUN = ['--preset', 'tiny', '--train_preset', 'tiny', '--n_train', 32, '--save_every', 3, '--eval_every', 6, '--report_after', 'False']
STEPS = 24

def cmd(*args): return [str(BIN / args[0]), *map(str, args[1:])]

def run(*args, ok=True):
    r = subprocess.run(cmd(*args), capture_output=True, text=True, env=ENV, timeout=600)
    if ok: assert r.returncode == 0, r.stdout + r.stderr
    return r

def one_line_error(r, command='fd_train'):
    "The process failed with status 2 and said so in one line, without a traceback."
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'Warning' not in l and 'warnings.warn' not in l]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(f'{command}: error: '), r.stderr
    return lines[0]

def steps_logged(csv): return [int(l.split(',')[0]) for l in Path(csv).read_text().splitlines()[1:]]

def same_weights(a, b):
    for name in ('raw.safetensors', 'model.safetensors'):
        x, y = load_file(str(a / 'checkpoint' / name)), load_file(str(b / 'checkpoint' / name))
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x), name

@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'run'
    run('fd_train', '--out', out, *RUN, '--steps', STEPS)
    return out

KILL_IN_SAVE = """
import os, signal, sys
real = os.replace
def replace(src, dst):
    real(src, dst)
    if str(dst).endswith('checkpoint.old'): os.kill(os.getpid(), signal.SIGKILL)   # between the two swaps of save_checkpoint
os.replace = replace
import runpy
sys.argv = sys.argv[1:]                  # [path of the fd_train console script, its options...]
runpy.run_path(sys.argv[0], run_name='__main__')
"""

def test_sigkill_at_random_moments_and_during_a_checkpoint_write(reference, tmp_path):
    out, rng = tmp_path / 'run', random.Random(0)
    args = ['--out', out, *RUN, '--steps', STEPS]
    # 1. killed inside save_checkpoint, after the old checkpoint moved aside and before the new one is in place
    r = subprocess.run([sys.executable, '-c', KILL_IN_SAVE, *cmd('fd_train', *args)], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == -signal.SIGKILL and (out / 'checkpoint.old').exists() and not (out / 'checkpoint').exists(), r.stdout[-2000:] + r.stderr
    # 2. killed at seeded random moments (by the number of steps logged)
    for _ in range(3):
        p = subprocess.Popen(cmd('fd_train', *args), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target, t0 = rng.randint(1, STEPS - 2), time.time()
        while p.poll() is None and time.time() - t0 < 300:
            if (out / 'loss.csv').exists() and len(steps_logged(out / 'loss.csv')) >= target: break
            time.sleep(0.02)
        p.send_signal(signal.SIGKILL); p.wait()
    r = run('fd_train', *args)                           # the last restart finishes the run
    assert (out / 'lock').exists() is False
    same_weights(out, reference)                         # bit for bit: raw and EMA weights
    assert steps_logged(out / 'loss.csv') == list(range(1, STEPS + 1))              # each step logged once
    assert (out / 'loss.csv').read_text().splitlines()[1:] != [] and \
        [l.split(',')[1] for l in (out / 'loss.csv').read_text().splitlines()[1:]] == \
        [l.split(',')[1] for l in (reference / 'loss.csv').read_text().splitlines()[1:]]   # the same losses
    assert steps_logged(out / 'curve.csv') == list(range(6, STEPS + 1, 6))

def test_finished_run_again_and_extended(reference, tmp_path):
    import shutil; out = tmp_path / 'run'; shutil.copytree(reference, out)
    r = run('fd_train', '--out', out, *RUN, '--steps', STEPS)
    assert 'already reached step 24' in r.stdout
    r = run('fd_train', '--out', out, *RUN, '--steps', STEPS + 6)
    assert 'at step 24 of 30 (6 to go)' in r.stdout and 'trained to step 30' in r.stdout
    assert steps_logged(out / 'loss.csv') == list(range(1, 31))

def test_two_processes_on_one_folder(tmp_path):
    out = tmp_path / 'run'
    first = subprocess.Popen(cmd('fd_train', '--out', out, *RUN, '--steps', 100_000), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while not ((out / 'loss.csv').exists() and steps_logged(out / 'loss.csv')) and time.time() - t0 < 300: time.sleep(0.1)
        r = run('fd_train', '--out', out, *RUN, '--steps', 5, ok=False)
        assert f'is in use by process {first.pid}' in one_line_error(r)
    finally: first.send_signal(signal.SIGKILL); first.wait()
    r = run('fd_train', '--out', out, *RUN, '--steps', 5)           # the dead holder's lock is taken over, with a note
    assert f'left by process {first.pid}' in r.stdout and 'taking it over' in r.stdout

def make_folder(d, n, size=(24, 20)):
    imgs, msks = d / 'imgs', d / 'masks'; imgs.mkdir(parents=True); msks.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        a = np.zeros(size, np.uint8); a[4:16, 5:15] = 255
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(imgs / f'{i}.png')
        Image.fromarray(a).save(msks / f'{i}.png')
    return imgs, msks

def test_folder_smaller_than_a_batch(tmp_path):
    imgs, _ = make_folder(tmp_path, 12)
    r = run('fd_train', '--out', tmp_path / 'run', '--data', imgs, '--preset', 'tiny', '--train_preset', 'tiny', '--bs', 16, ok=False)
    line = one_line_error(r)
    assert str(imgs) in line and '11 training images' in line and 'one batch of 16' in line and '--bs 11' in line

def test_one_line_errors_in_command_line_spelling(reference, tmp_path):
    r = run('fd_train', '--out', reference, *RUN, '--K', 4, ok=False)
    line = one_line_error(r)
    assert "'K': (3, 4)" in line and '--resume False' in line and 'resume=False' not in line
    r = run('fd_segment', tmp_path / 'missing.safetensors', ok=False)
    assert 'no checkpoint at' in one_line_error(r, 'fd_segment')

class Payload:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (open, (self.marker, 'w'))      # would create the marker file if unpickled

def test_malicious_state_file_is_refused_unread(reference, tmp_path):
    import shutil; out = tmp_path / 'run'; shutil.copytree(reference, out)
    marker = tmp_path / 'pwned'
    with open(out / 'checkpoint' / 'state.pt', 'wb') as f: pickle.dump(Payload(str(marker)), f)
    r = run('fd_train', '--out', out, *RUN, '--steps', STEPS + 3, ok=False)
    assert 'state.pt holds something other than tensors' in one_line_error(r) and not marker.exists()

def test_segment_scores_as_many_folder_images_as_asked(reference, tmp_path):
    imgs, msks = make_folder(tmp_path, 30)
    for n, expect in ((20, 20), (1000, 30)):
        r = run('fd_segment', reference, '--data', imgs, '--masks', msks, '--n_eval', n, '--out', tmp_path / f'seg{n}')
        s = json.loads((tmp_path / f'seg{n}' / 'scores.json').read_text())
        assert s['n_valid'] + s['n_test'] == expect and s['n_valid'] == expect // 5, s
        assert f"on {expect - expect // 5} test images" in r.stdout and f"chosen on {expect // 5} labelled" in r.stdout

def _sigterm_after_five_steps(out, *extra, group:bool=False):
    """Start `fd_train` into `out`, send SIGTERM once it has logged 5 steps (to its process group with `group`, as
    `timeout` and schedulers do), and check it stopped after a whole step with that step's checkpoint, exit status 130."""
    p = subprocess.Popen(cmd('fd_train', '--out', out, *RUN, *extra, '--steps', 100_000, '--save_every', 1000), env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=group)
    t0 = time.time()
    while not ((out / 'loss.csv').exists() and len(steps_logged(out / 'loss.csv')) >= 5) and time.time() - t0 < 300: time.sleep(0.05)
    os.killpg(p.pid, signal.SIGTERM) if group else p.send_signal(signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 130 and 'fd_train: interrupted' in stderr and 'Traceback' not in stderr, stderr[-2000:]
    step = json.loads((out / 'checkpoint' / 'run.json').read_text())['step']
    assert step == steps_logged(out / 'loss.csv')[-1] >= 5 and not (out / 'lock').exists()

def test_sigterm_saves_the_step_it_finished(reference, tmp_path):
    "SIGTERM (what a scheduler sends before it kills) stops after the current step with a checkpoint of that step."
    _sigterm_after_five_steps(tmp_path / 'run')

@pytest.mark.parametrize('data', ['builtin', 'folder'])
def test_sigterm_to_the_process_group_saves_too(tmp_path, data):
    """`timeout`, Slurm and Ctrl-C in a terminal signal every process of the job. Seen on a GPU run (data/gpu/textures64):
    DataLoader workers died of SIGTERM, the main process stopped with 'DataLoader worker is killed' mid-step and saved
    nothing. Data now loads in the main process; the run must stop after a whole step with its checkpoint."""
    extra = []
    if data == 'folder':
        (tmp_path / 'imgs').mkdir(); rng = np.random.default_rng(0)
        for i in range(40): Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).save(tmp_path / 'imgs' / f'{i}.png')
        extra = ['--data', tmp_path / 'imgs', '--bs', 8]
    _sigterm_after_five_steps(tmp_path / 'run', *extra, group=True)

def test_unusual_but_valid_inputs(tmp_path):
    "Spaces and non-ASCII in paths, a symlinked image in a subfolder, 0/1 and palette masks, hidden files, and K=1 all work."
    root = tmp_path / 'my data é'
    ims, mks = root / 'fotos ü', root / 'masks ß'
    (ims / 'sub').mkdir(parents=True); (mks / 'sub').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray((rng.random((20, 20, 3)) * 255).astype(np.uint8)).save(ims / f'im {i}.png')
        mk = np.zeros((20, 20), np.uint8); mk[5:15, 5:15] = 1                                    # 0/1, not 0/255
        (Image.fromarray(mk).convert('P') if i % 2 else Image.fromarray(mk)).save(mks / f'im {i}.png')   # half palette
    (ims / 'sub' / 'link.png').symlink_to(ims / 'im 0.png'); (mks / 'sub' / 'link.png').symlink_to(mks / 'im 0.png')
    (ims / '._im 0.png').write_bytes(b'\x00\x05\x16\x07'); (ims / '.DS_Store').write_bytes(b'\x00')        # macOS debris
    out = root / 'run ü'
    run('fd_train', '--out', out, '--data', ims, '--masks', mks, '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 2, '--bs', 4)
    s = json.loads((out / 'scores.json').read_text())
    assert s['n_valid'] + s['n_test'] == 13 and 0 <= s['strict']['iou'] <= 1          # 12 images + the symlink
    run('fd_train', '--out', tmp_path / 'k1', '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 2, '--n_train', 16, '--K', 1)
    s = json.loads((tmp_path / 'k1' / 'scores.json').read_text())
    assert s['fg_channels'] == [0] and s['strict']['iou'] == pytest.approx(s['permissive']['iou'])   # K=1: the all-foreground prediction

def test_disk_full_during_a_checkpoint(tmp_path, monkeypatch):
    """A write that fails while a checkpoint is saved (a full disk: ENOSPC) stops the run with a clear OSError (one line
    at the command line), removes the partial folder, keeps the last complete checkpoint, and the same call resumes."""
    import errno
    from factorized_diffusion import training
    from factorized_diffusion.data import ShapesDataset
    from factorized_diffusion.unet import unet_config
    tr, va = ShapesDataset(32, 16, 'train'), ShapesDataset(8, 16, 'valid')
    tcfg = training.TrainConfig(lr=1e-3, bs=8, steps=6, ema_decay=0.9, save_every=2)
    real_save, calls = torch.save, []
    def full_disk(obj, f, *a, **k):
        calls.append(f)
        if len(calls) == 2: raise OSError(errno.ENOSPC, 'No space left on device', str(f))   # the checkpoint of step 4
        return real_save(obj, f, *a, **k)
    monkeypatch.setattr(torch, 'save', full_disk)
    with pytest.raises(OSError, match='free space there and run the same command again; it resumes from .*step 2'):
        training.train(tmp_path, unet_config('tiny'), tcfg, tr, va, device='cpu', progress=False)
    assert json.loads((tmp_path / 'checkpoint' / 'run.json').read_text())['step'] == 2
    assert not (tmp_path / 'checkpoint.tmp').exists() and not (tmp_path / 'lock').exists()
    monkeypatch.undo()
    _, learn, _ = training.train(tmp_path, unet_config('tiny'), tcfg, tr, va, device='cpu', progress=False)
    assert learn.train_iter == 6 and json.loads((tmp_path / 'checkpoint' / 'run.json').read_text())['step'] == 6
