"""Console scripts run as a user runs them: in a subprocess, from the installed entry points.
(Notebook cells cannot hold these: they need a fresh process and the shell.)"""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import torch
import pytest
from PIL import Image

BIN = Path(sys.executable).parent
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')
TINY = ['--preset', 'tiny', '--train_preset', 'tiny', '--n_train', 32]

def run(*args, ok=True):
    r = subprocess.run([str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, env=ENV, timeout=600)
    if ok: assert r.returncode == 0, r.stdout + r.stderr
    return r

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp('train')
    r = run('fd_train', '--out', out, *TINY, '--steps', 4, '--save_every', 2, '--eval_every', 2)
    return out, r

def test_train_writes_checkpoint_logs_and_scores(trained):
    out, r = trained
    ck = out / 'checkpoint'
    assert {p.name for p in ck.iterdir()} == {'model.safetensors', 'raw.safetensors', 'state.pt', 'run.json'}
    assert not (out / 'checkpoint.tmp').exists()
    assert len((out / 'loss.csv').read_text().splitlines()) == 5           # header + 4 steps
    assert len((out / 'curve.csv').read_text().splitlines()) == 3          # header + steps 2, 4
    scores = json.loads((out / 'scores.json').read_text())
    assert set(scores['strict']) == {'acc', 'iou', 'dice'} and 0 <= scores['strict']['iou'] <= 1
    assert 'trained to step 4' in r.stdout and 'permissive' in r.stdout
    assert (out / 'segmentation.png').stat().st_size > 1000

def test_resume_continues(trained, tmp_path):
    out, _ = trained
    import shutil; run_dir = tmp_path / 'r'; shutil.copytree(out, run_dir)
    r = run('fd_train', '--out', run_dir, *TINY, '--steps', 6, '--report_after', 'False')
    assert 'trained to step 6' in r.stdout
    assert len((run_dir / 'loss.csv').read_text().splitlines()) == 7       # 4 old rows + 2 new, one header
    r = run('fd_train', '--out', run_dir, '--preset', 'tiny', '--K', 4, '--train_preset', 'tiny', '--n_train', 32, ok=False)
    assert r.returncode != 0 and "'K': (3, 4)" in r.stderr

def test_segment_with_checkpoint(trained, tmp_path):
    out, _ = trained
    r = run('fd_segment', out, '--out', tmp_path)                          # a run folder is enough
    assert 'strict (fixed channels)' in r.stdout and (tmp_path / 'segmentation.png').exists()
    # same EMA weights, same images, same noise seed: the same scores as fd_train's report
    assert json.loads((tmp_path / 'scores.json').read_text())['strict'] == json.loads((out / 'scores.json').read_text())['strict']

def test_sample_from_run_folder(trained, tmp_path):
    out, _ = trained
    r = run('fd_sample', out, '--out', tmp_path, '--n', 3, '--bs', 2, '--sampler', 'ddim', '--steps', 4)
    assert '3 samples (ddim, 4 steps)' in r.stdout
    assert sorted(p.name for p in tmp_path.glob('0000[0-2].png')) == ['00000.png', '00001.png', '00002.png']
    assert (tmp_path / 'grid.png').exists() and (tmp_path / '00002_mask.png').exists()

def test_segment_bad_checkpoints(tmp_path):
    r = run('fd_segment', tmp_path / 'missing.safetensors', ok=False)
    assert r.returncode != 0 and 'no checkpoint at' in r.stderr
    bad = tmp_path / 'bad.safetensors'; bad.write_bytes(b'garbage')
    r = run('fd_segment', bad, ok=False)
    assert r.returncode != 0 and 'not a readable safetensors checkpoint' in r.stderr
    from safetensors.torch import save_file
    save_file({'conv_in.weight': torch.zeros(4, 3, 3, 3)}, str(tmp_path / 'other.safetensors'))     # valid, but another library's
    r = run('fd_segment', tmp_path / 'other.safetensors', ok=False)
    assert r.returncode == 2 and 'has no model metadata' in r.stderr

def test_baseline_checkpoint_has_no_masks(tmp_path):
    run('fd_train', '--out', tmp_path, *TINY, '--arch', 'unet', '--steps', 2)
    r = run('fd_segment', tmp_path, ok=False)
    assert r.returncode != 0 and 'baseline U-Net, which has no masks' in r.stderr

def test_image_folder_training_and_bad_files(tmp_path):
    imgs, msks = tmp_path / 'imgs', tmp_path / 'masks'; imgs.mkdir(); msks.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        a = np.zeros((24, 20), np.uint8); a[4:16, 5:15] = 255
        Image.fromarray(rng.integers(0, 255, (24, 20, 3), dtype=np.uint8)).save(imgs / f'{i}.png')
        Image.fromarray(a).save(msks / f'{i}.png')
    r = run('fd_train', '--out', tmp_path / 'run', '--data', imgs, '--masks', msks, '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 2, '--bs', 4)
    assert 'strict (fixed channels)' in r.stdout
    (imgs / 'zz_broken.png').write_bytes(b'not a png')
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(msks / 'zz_broken.png')
    r = run('fd_train', '--out', tmp_path / 'run2', '--data', imgs, '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 3, '--bs', 4, ok=False)
    assert r.returncode != 0 and 'zz_broken.png' in r.stderr and 'skip_bad' in r.stderr
    r = run('fd_train', '--out', tmp_path / 'run3', '--data', imgs, '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 3, '--bs', 4, '--skip_bad', 'True')
    assert 'trained to step 3' in r.stdout
    r = run('fd_train', '--out', tmp_path / 'run4', '--data', tmp_path / 'nothing_here', '--preset', 'tiny', ok=False)
    assert r.returncode != 0 and 'does not exist' in r.stderr

def test_unwritable_output(tmp_path):
    r = run('fd_train', '--out', '/proc/not_writable', *TINY, '--steps', 1, ok=False)
    assert r.returncode != 0 and 'cannot write to the run folder' in r.stderr

def test_demo_rejects_missing_checkpoint(tmp_path):
    r = run('fd_demo', '--out', tmp_path, '--steps', 1, '--checkpoint', tmp_path / 'nope.safetensors', ok=False)
    assert r.returncode != 0 and 'does not exist' in r.stderr

def test_demo_defaults_train_textures32_and_score_the_shipped_model(tmp_path):
    "make demo's path (DEMOS['textures']): the textures32 recipe from the shipped shapes model, the shipped textures32 model, the baselines."
    r = run('fd_demo', '--out', tmp_path, '--steps', 1, '--n_samples', 1)
    assert 'from_shapes32 factorized U-Net (from_shapes recipe, from shapes32)' in r.stdout
    assert 'short run (1 steps)' in r.stdout and 'shipped (1000 steps)' in r.stdout and 'GrabCut' in r.stdout
    d = json.loads((tmp_path / 'demo.json').read_text())
    assert {'short_run', 'shipped', 'baselines'} <= set(d) and set(d['baselines']) == {'GrabCut', 'K-means (K=2)'}
    assert (tmp_path / 'shipped' / 'samples.png').exists() and (tmp_path / 'short_run' / 'segmentation.png').exists()
    r = run('fd_demo', '--out', tmp_path / 'x', '--data', 'shapes', ok=False)
    assert "--data must be one of ['textures', 'builtin']" in r.stdout + r.stderr

def test_named_dataset_train_and_segment(tmp_path):
    "fd_train and fd_segment take NAME:PATH: here the Flowers fixture tree (ReDO splits), and CelebAMask-HQ's 3 classes."
    from factorized_diffusion import fixtures
    fixtures.flowers(tmp_path / 'flowers', n=16)
    r = run('fd_train', '--out', tmp_path / 'run', '--data', f'flowers:{tmp_path / "flowers"}', '--preset', 'tiny', '--train_preset', 'tiny',
            '--steps', 2, '--bs', 4)
    assert 'trained to step 2' in r.stdout and 'on 4 test images' in r.stdout      # trnid = the 4 test images
    r = run('fd_segment', tmp_path / 'run', '--data', f'flowers:{tmp_path / "flowers"}', '--out', tmp_path / 'seg')
    assert 'strict (fixed channels)' in r.stdout and (tmp_path / 'seg' / 'segmentation.png').exists()
    fixtures.celebamask(tmp_path / 'celeba')
    r = run('fd_segment', tmp_path / 'run', '--data', f'celebamask:{tmp_path / "celeba"}', '--out', tmp_path / 'seg2')
    assert 'mIOU' in r.stdout and 'multiclass' in json.loads((tmp_path / 'seg2' / 'scores.json').read_text())
    r = run('fd_segment', tmp_path / 'run', '--data', f'cub:{tmp_path / "nowhere"}', ok=False)
    assert r.returncode != 0 and 'CUB-200-2011: expected images.txt' in r.stderr and 'caltech.edu' in r.stderr

def test_variant_and_hierarchical_from_the_command_line(tmp_path):
    "--decoding and --K2 reach the model, its checkpoint, and fd_segment (which reads the leaves of the hierarchy)."
    run('fd_train', '--out', tmp_path / 'h', *TINY, '--steps', 2, '--K', 2, '--K2', 2, '--report_after', 'False')
    meta = json.loads((tmp_path / 'h' / 'checkpoint' / 'run.json').read_text())
    assert meta['model']['K2'] == 2, meta
    r = run('fd_segment', tmp_path / 'h', '--out', tmp_path / 'seg')
    assert 'strict (fixed channels)' in r.stdout
    run('fd_train', '--out', tmp_path / 'c', *TINY, '--steps', 1, '--decoding', 'concat', '--report_after', 'False')
    r = run('fd_train', '--out', tmp_path / 'x', *TINY, '--steps', 1, '--decoding', 'sum', ok=False)
    assert r.returncode != 0 and 'decoding must be one of' in r.stderr

def test_segment_with_every_baseline(trained, tmp_path):
    "One command: the factorized model next to GrabCut, K-means, DatasetDDPM-unsup and a supervised U-Net on the same images."
    out, _ = trained
    run('fd_train', '--out', tmp_path / 'unet', *TINY, '--arch', 'unet', '--steps', 2, '--report_after', 'False')
    r = run('fd_segment', out, '--out', tmp_path / 'seg', '--baselines', 'True', '--unet_checkpoint', tmp_path / 'unet',
            '--supervised_steps', 5)
    for name in ('factorized (ours)', 'GrabCut', 'K-means (K=2)', 'DatasetDDPM-unsup (K=3)', 'supervised U-Net'):
        assert name in r.stdout, r.stdout
    assert set(json.loads((tmp_path / 'seg' / 'comparison.json').read_text())) >= {'supervised U-Net', 'DatasetDDPM-unsup (K=3)'}
    r = run('fd_segment', out, '--baselines', 'True', '--unet_checkpoint', out, '--supervised_steps', 0, ok=False)
    assert r.returncode != 0 and 'needs a baseline U-Net' in r.stderr

def test_table_and_report_commands(trained, tmp_path):
    "fd_table prints a paper table beside the paper's numbers; fd_report writes report.md with its figures."
    from factorized_diffusion import fixtures
    out, _ = trained
    fixtures.flowers(tmp_path / 'flowers', n=16)
    r = run('fd_table', 1, out, tmp_path / 'flowers', '--supervised_steps', 2, '--out', tmp_path / 't1.md')
    assert '| Factorized Diffusion (paper) | 90.1 | 79.7 | 87.2 |' in r.stdout and 'Factorized Diffusion (ours), strict' in r.stdout
    assert (tmp_path / 't1.md').exists()
    r = run('fd_table', 5, out, tmp_path / 'flowers', ok=False)
    assert r.returncode != 0 and 'table must be one of' in r.stderr
    r = run('fd_report', out, '--out', tmp_path / 'rep', '--supervised_steps', 2, '--n_samples', 0)
    assert (tmp_path / 'rep' / 'report.md').exists() and (tmp_path / 'rep' / 't_sweep.png').exists()

def test_train_options_and_study(tmp_path):
    "The emergence options reach the saved configs; a bad --attn_res names the fix; fd_study is installed (run_options is tested in 12b_option_studies)."
    out = tmp_path / 'opts'
    run('fd_train', '--out', out, *TINY, '--steps', 2, '--ch', 24, '--dropout', 0.1, '--attn_res', 'none', '--warmup', 1,
        '--t_power', 2, '--ema_halflife', 100, '--decode_chunk', 2, '--report_after', 'False')
    saved = json.loads((out / 'checkpoint' / 'run.json').read_text())
    assert (saved['model']['ch'], saved['model']['dropout'], saved['model']['attn_res']) == (24, 0.1, [])
    assert {k: saved['train'][k] for k in ('warmup', 't_power', 'ema_halflife', 'decode_chunk')} == dict(warmup=1, t_power=2., ema_halflife=100., decode_chunk=2)
    r = run('fd_train', '--out', tmp_path / 'bad', *TINY, '--attn_res', 'eight', ok=False)
    assert r.returncode != 0 and "--attn_res 'eight'" in r.stdout + r.stderr
    r = run('fd_study', '--help')
    assert '--only' in r.stdout

def test_textures_data_and_the_texture_study_options(tmp_path):
    "--data textures works where builtin does; the options of studies/05_texture_study reach the saved configs; the reports print the mask-dependence check."
    out = tmp_path / 't'
    r = run('fd_train', '--out', out, '--data', 'textures', *TINY, '--steps', 2, '--eval_every', 2, '--padding', 'circular',
            '--flip', 'True', '--shift', 0.25, '--zoom', 0.5, '--equivariance', 0.1)
    assert 'mask dependence: pixel position alone explains' in r.stdout
    saved = json.loads((out / 'checkpoint' / 'run.json').read_text())
    assert saved['model']['padding'] == 'circular'
    assert {k: saved['train'][k] for k in ('flip', 'shift', 'zoom', 'equivariance')} == dict(flip=True, shift=0.25, zoom=0.5, equivariance=0.1)
    assert {'fg_position_share', 'min_position_share'} <= set((out / 'curve.csv').read_text().splitlines()[0].split(','))
    r = run('fd_segment', out, '--data', 'textures', '--out', tmp_path / 'seg', '--threshold', 0.4)
    assert json.loads((tmp_path / 'seg' / 'scores.json').read_text())['threshold'] == 0.4 and 'thresholded at 0.4' in r.stdout
    dep = json.loads((tmp_path / 'seg' / 'scores.json').read_text())['dependence']
    assert 0 <= dep['fg_position_share'] <= 1 and 0 <= dep['gt_position_share'] <= 1 and len(dep['position_share']) == 3
    r = run('fd_study', '--help')
    assert '--study' in r.stdout

def test_photo_presets_train_on_a_folder_and_masks_come_out(tmp_path):
    """--preset photos32 and photos64 start from the shipped textures model (at 64 px: the same weights in the small32
    layout built for 64 px) and train on a folder without masks; fd_segment on a folder without --masks writes one label
    map per image at the image's own size (studies/06_photos, 09b_segment_folder); --data scenes is a built-in family (10a_scenes)."""
    from factorized_diffusion.scenes import write_folder
    write_folder(8, tmp_path / 'imgs', size=48, progress=False)
    for preset, size in (('photos32', 32), ('photos64', 64)):
        r = run('fd_train', '--out', tmp_path / preset, '--data', tmp_path / 'imgs', '--preset', preset, '--steps', 1, '--bs', 4)
        assert 'trained to step 1' in r.stdout
        saved = json.loads((tmp_path / preset / 'checkpoint' / 'run.json').read_text())
        assert saved['train']['init'] == 'textures32' and saved['train']['t_power'] == 2 and saved['model']['img_size'] == size
    odd = tmp_path / 'odd'; (odd / 'sub').mkdir(parents=True)
    rng = np.random.default_rng(0)
    files = {'a.png': (37, 23, 'RGB'), 'sub/b.jpg': (20, 41, 'RGB'), 'c.png': (30, 30, 'L'), 'sub/d.png': (25, 19, 'RGBA')}
    for rel, (w, h, mode) in files.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).convert(mode).save(odd / rel)
    r = run('fd_segment', tmp_path / 'photos64', '--data', odd, '--out', tmp_path / 'masks', '--bs', 3)
    assert f'masks of {len(files)} images' in r.stdout
    for rel, (w, h, _) in files.items():
        lab = Image.open(tmp_path / 'masks' / 'labels' / Path(rel).with_suffix('.png'))
        assert lab.size == (w, h) and np.asarray(lab).max() < 3
        assert np.load(tmp_path / 'masks' / 'soft' / Path(rel).with_suffix('.npz'))['soft'].shape == (3, h, w)
    assert json.loads((tmp_path / 'masks' / 'summary.json').read_text())['n_images'] == len(files)
    r = run('fd_segment', 'textures32', '--data', odd, '--out', tmp_path / 'm2', '--fg', 7, ok=False)
    assert r.returncode == 2 and 'the model has K=3' in r.stderr
    r = run('fd_segment', 'textures32', '--data', odd, '--out', tmp_path / 'm3', '--threshold', 'otsu', '--post', 'largest')
    assert json.loads((tmp_path / 'm3' / 'summary.json').read_text())['threshold'] == 'otsu'
    r = run('fd_segment', 'textures32', '--data', odd, '--out', tmp_path / 'm4', '--threshold', 1.5, ok=False)
    assert r.returncode == 2 and 'threshold must be a number between 0 and 1' in r.stderr and not (tmp_path / 'm4').exists()
    r = run('fd_train', '--out', tmp_path / 'sc', '--data', 'scenes', *TINY, '--steps', 1)
    assert 'trained to step 1' in r.stdout

def test_a_run_remembers_its_data(tmp_path):
    "Resuming without --data goes on with the run's own data; other data stops with one line; fd_segment and fd_distill take the run's data (11_runs)."
    from factorized_diffusion.scenes import write_folder
    imgs = tmp_path / 'my photos'; write_folder(8, imgs, size=20, progress=False)
    R = tmp_path / 'R'
    run('fd_train', '--out', R, '--data', imgs, '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 2, '--bs', 4)
    assert json.loads((R / 'data.json').read_text())['data'] == str(imgs.resolve())
    r = run('fd_train', '--out', R, '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 3, '--bs', 4)   # as one types it to resume
    assert 'resuming' in r.stdout and 'trained to step 3' in r.stdout and str(imgs.resolve()) in r.stdout
    r = run('fd_train', '--out', R, '--data', 'textures', '--preset', 'tiny', '--train_preset', 'tiny', '--steps', 4, '--bs', 4, ok=False)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert f'was trained on {imgs.resolve()}, not textures' in r.stderr and '--change_data True' in r.stderr
    r = run('fd_segment', R, '--out', tmp_path / 'seg')                                                  # masks of the run's own folder
    assert 'masks of 8 images' in r.stdout and (tmp_path / 'seg' / 'labels' / '00007.png').exists()
    r = run('fd_distill', R, '--out', tmp_path / 'dist', '--n_images', 8, '--steps', 2, '--bs', 4)
    from factorized_diffusion.checkpoints import read_meta
    assert read_meta(tmp_path / 'dist' / 'model.safetensors')['data'] == str(imgs.resolve())              # distilled on the run's own images
