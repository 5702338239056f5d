"""Prepared data (nbs/02c_prepared.ipynb, issue 28) under the faults a build meets: `fd_prepare` killed with SIGKILL at
seeded random moments (and once between the two renames that publish it), stopped by SIGTERM, and run from another
working folder; every time, what is left is either absent or complete and equal to the on-the-fly items."""
import os, random, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from factorized_diffusion.prepared import prepared_parts, source_parts, is_prepared, PREPARED

BIN = Path(sys.executable).parent
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')
HANG = 600   # seconds: a guard against a hung subprocess, not a timing test (a loaded 2-core CI machine takes minutes to start one)
SIZE = 32

@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    "600 JPEGs of several sizes (and their masks), enough that a two-process build lasts a moment."
    root = tmp_path_factory.mktemp('photos'); im, mk = root / 'images', root / 'masks'; im.mkdir(); mk.mkdir()
    rng = np.random.default_rng(0)
    for i in range(600):
        h, w = rng.integers(120, 260, 2)
        a = rng.integers(0, 255, (h, w, 3), dtype=np.uint8); m = np.zeros((h, w), np.uint8); m[h // 4:h // 2, w // 3:] = 255
        Image.fromarray(a).save(im / f'{i:03d}.jpg', quality=90); Image.fromarray(m).save(mk / f'{i:03d}.png')
    return im, mk

def prepare_cmd(im, mk, out): return [str(BIN / 'fd_prepare'), str(im), '--masks', str(mk), '--size', str(SIZE), '--out', str(out), '--workers', '2']

def complete_and_right(out, im, mk):
    "`out` is a whole prepared dataset whose items equal those read on the fly, image and mask."
    fresh, prep = source_parts(str(im), SIZE, str(mk))[0], prepared_parts(out, SIZE)[0]
    assert len(fresh) == len(prep)
    for i in range(len(fresh)): assert all(torch.equal(x, y) for x, y in zip(fresh[i], prep[i])), i

def test_sigkill_at_random_moments(folder, tmp_path):
    im, mk = folder; out, rng = tmp_path / 'prep', random.Random(0)
    t0 = time.time(); subprocess.run(prepare_cmd(im, mk, tmp_path / 'timing'), env=ENV, check=True, capture_output=True, timeout=HANG)
    took = time.time() - t0                                   # the whole command, imports included
    for k in range(4):
        p = subprocess.Popen(prepare_cmd(im, mk, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * took); p.send_signal(signal.SIGKILL); p.wait()
        if is_prepared(out): complete_and_right(out, im, mk)   # published before the kill: then it is whole
        else: assert not (out / PREPARED).exists()
    r = subprocess.run(prepare_cmd(im, mk, out), env=ENV, capture_output=True, text=True, timeout=HANG)
    assert r.returncode == 0, r.stderr
    complete_and_right(out, im, mk)
    assert not out.with_name('prep.partial').exists() and not out.with_name('prep.old').exists()

KILL_IN_PUBLISH = """
import os, signal, sys
real = os.rename
def rename(src, dst):
    real(src, dst)
    if str(dst).endswith('.old'): os.kill(os.getpid(), signal.SIGKILL)    # the old data moved aside, the new not yet in place
os.rename = rename
import runpy
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""

def test_sigkill_between_the_renames_and_sigterm(folder, tmp_path):
    im, mk = folder; out = tmp_path / 'prep'
    subprocess.run(prepare_cmd(im, mk, out), env=ENV, check=True, capture_output=True, timeout=HANG)
    (im / '000.jpg').touch(); os.utime(im / '000.jpg', (1, 1))          # the source changes: the next run rebuilds
    r = subprocess.run([sys.executable, '-c', KILL_IN_PUBLISH, *prepare_cmd(im, mk, out)], env=ENV, capture_output=True, text=True, timeout=HANG)
    assert r.returncode == -signal.SIGKILL and not out.exists() and out.with_name('prep.old').exists(), r.stderr[-2000:]
    # SIGTERM (timeout, Slurm) once the build is writing: it stops with status 143 and leaves nothing half-built
    out2 = tmp_path / 'prep2'; started = out2.with_name('prep2.partial') / 'train' / 'images.u8'
    p = subprocess.Popen(prepare_cmd(im, mk, out2), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (started.exists() and started.stat().st_size > 0) and p.poll() is None and time.time() - t0 < HANG: time.sleep(0.05)
    p.send_signal(signal.SIGTERM); p.wait(timeout=HANG)
    assert p.returncode == 143 and not out2.exists() and not out2.with_name('prep2.partial').exists(), p.returncode
    subprocess.run(prepare_cmd(im, mk, out), env=ENV, check=True, capture_output=True, timeout=HANG)
    complete_and_right(out, im, mk)

def test_relative_paths_and_one_line_errors(folder, tmp_path):
    "Prepared from a relative path in one folder, it is fresh when read from another; a bad image gives one line."
    im, mk = folder
    r = subprocess.run([str(BIN / 'fd_prepare'), os.path.relpath(im, tmp_path), '--masks', os.path.relpath(mk, tmp_path), '--size', str(SIZE),
                        '--out', 'prep'], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=HANG)
    assert r.returncode == 0 and 'use --data prep' in r.stdout, r.stderr
    complete_and_right(tmp_path / 'prep', im, mk)
    bad = tmp_path / 'bad'; bad.mkdir(); (bad / 'a.jpg').write_bytes(b'not a jpeg')
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(bad / 'b.png')
    r = subprocess.run([str(BIN / 'fd_prepare'), str(bad), '--out', str(tmp_path / 'p2')], env=ENV, capture_output=True, text=True, timeout=HANG)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('fd_prepare: error: cannot read image') and 'a.jpg' in lines[0], r.stderr
