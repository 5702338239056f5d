"""Averaging the masks of several noise draws and timesteps (nbs/studies/06_photos.ipynb, 'Averaging readings'): the reading
(timesteps, noise draws per timestep, cut) chosen on the family the start was trained on, then measured on the held-out scenes.

  .venv/bin/python data/scenes/draws_study.py         # after `bash data/scenes/run_study.sh data`; writes data/scenes/draws_study.json

`segment(model, x, t=[...], n_draws=n)` averages the soft masks of every (timestep, draw) before the channels are read
(09_segment). 1. Choice: the shipped textures model on the textured family's labelled choose split (32 px): every
reading in READINGS, with and without the largest-region cut; the best is the setting. The scenes are not read for it.
2. Measure: the 32 and 64 px presets' shipped models (scenes32, scenes64) at every reading on the held-out scenes' choose
split (100 images, the strict rule's channels) and test split (400), with GrabCut and colour K-means on the same images
in the same run.
"""
import json, time
from pathlib import Path
import torch
from factorized_diffusion.runs import get_data
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint
from factorized_diffusion.segment import segment
from post_study import rows, baselines, D

READINGS = [dict(t=list(ts), n_draws=n) for ts in ((5,), (10,), (5, 10, 20)) for n in (1, 8)]
OUT = Path(__file__).parent / 'draws_study.json'

def name(r): return f"t={'+'.join(map(str, r['t']))}, draws={r['n_draws']}"

def main():
    res = dict(readings=[name(r) for r in READINGS])
    tex = load_model(resolve_checkpoint('textures32'))
    _, _, (tv, tt) = get_data('textures', 32)
    res['choice'] = {name(r): rows(lambda x: segment(tex, x, **r), tv, tt) for r in READINGS}
    best = max(((name(r), p) for r in READINGS for p in ('none', 'largest')), key=lambda rp: res['choice'][rp[0]][rp[1]]['choose'])
    res['chosen'] = dict(reading=best[0], post=best[1], on='textures family, choose split (textures32 model, 32 px)')
    print('chosen on the textured family:', res['chosen'], flush=True)
    splits = {s: get_data(f'{D}/test_images', s, 8, 0, f'{D}/test_masks', n_eval=1000)[2] for s in (32, 64)}
    res['models'], res['seconds'] = {}, {}
    for label, ck in (('32 px: scenes32 (photos32, 1000 steps)', 'scenes32'), ('64 px: scenes64 (photos64, 400 steps)', 'scenes64')):
        m = load_model(resolve_checkpoint(ck)); ev = splits[m.cfg.img_size]; res['models'][label] = {}
        for r in READINGS:
            t0 = time.time(); res['models'][label][name(r)] = rows(lambda x: segment(m, x, **r), *ev)
            res['seconds'][f'{label}, {name(r)}'] = round(time.time() - t0, 1)
            print(label, name(r), {p: round(100 * v['test'], 1) for p, v in res['models'][label][name(r)].items()}, flush=True)
    res['baselines'] = baselines(splits)
    res['n_choose'], res['n_test'] = len(splits[64][0][0]), len(splits[64][1][0])
    OUT.write_text(json.dumps(res, indent=1))

if __name__ == '__main__':
    torch.manual_seed(0); main()
