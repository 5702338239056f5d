"""Segmentation settings for photographs (nbs/studies/06_photos.ipynb, 'Reading the masks'): the noise level t and the largest-region
cut (`post`, 09_segment), chosen on the family the start was trained on, then measured on the held-out scenes.

  .venv/bin/python data/scenes/post_study.py          # after `bash data/scenes/run_study.sh data`; writes data/scenes/post_study.json

1. Choice: the shipped textures model on the textured family's own labelled choose split (32 px): every t in TS with
   and without the cut; the best pair is the setting. The scenes are not read for it.
2. Measure: for each model, every (t, post) on the held-out scenes' choose split (100 images) and test split (400),
   the strict rule's channels chosen on the choose split with the same cut; GrabCut and colour K-means on the same
   images with and without the cut.
Models: the shipped starts and presets (textures32, scenes32, scenes64), the 32 px ones also moved into the 64 px
layout (init_from), and the longer 64 px run's checkpoints when runs/scenes_p64long/ckpts/ is there (stage p64long).
"""
import json
from pathlib import Path
import torch
from factorized_diffusion.runs import get_data
from factorized_diffusion.unet import unet_config
from factorized_diffusion.factorized import FactorizedUNet
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint, init_from
from factorized_diffusion.segment import segment, choose_fg_channels, score_strict, FG_POST
from factorized_diffusion.baselines import grabcut_masks, kmeans_masks

TS, D, OUT = (5, 10, 20, 30), 'runs/scenes_data', Path(__file__).parent / 'post_study.json'

def rows(masks_of, valid, test):
    "Strict IOU on the choose and test splits for each post, the channels chosen on `valid` with that post."
    (vx, vm), (tx, tm) = valid, test
    mv, mt = masks_of(vx), masks_of(tx)
    out = {}
    for post in FG_POST:
        sub = choose_fg_channels(mv, vm, post=post)
        out[post] = dict(fg_channels=list(sub), choose=score_strict(mv, vm, sub, post)['iou'], test=score_strict(mt, tm, sub, post)['iou'])
    return out

def baselines(splits) -> dict:
    "GrabCut and colour K-means on each size's (choose, test) split, with and without the cut (`rows`), printed as they finish."
    out = {}
    for s, ev in splits.items():
        for name, fn in (('GrabCut', grabcut_masks), ('K-means (K=2)', kmeans_masks)):
            out[f'{s} px: {name}'] = rows(fn, *ev)
            print(s, name, {p: round(100 * v['test'], 1) for p, v in out[f'{s} px: {name}'].items()}, flush=True)
    return out

def models():
    yield '32 px: textures32, zero-shot', load_model(resolve_checkpoint('textures32'))
    yield '32 px: scenes32 (photos32, 1000 steps)', load_model(resolve_checkpoint('scenes32'))
    for name in ('textures32', 'scenes32'):
        yield f'64 px: {name} moved to 64 px, zero-shot', init_from(FactorizedUNet(unet_config('photos64')), name)
    yield '64 px: scenes64 (photos64, 400 steps)', load_model(resolve_checkpoint('scenes64'))
    for step in (600,):
        if (p := Path(f'runs/scenes_p64long/ckpts/step_{step}.safetensors')).exists(): yield f'64 px: photos64 run, {step} steps', load_model(p)

def main():
    torch.manual_seed(0)
    res = dict(ts=list(TS), posts=list(FG_POST))
    tex = load_model(resolve_checkpoint('textures32'))
    _, _, (tv, tt) = get_data('textures', 32)
    res['choice'] = {f't={t}': rows(lambda x: segment(tex, x, t=t), tv, tt) for t in TS}
    best = max(((t, p) for t in TS for p in FG_POST), key=lambda tp: res['choice'][f't={tp[0]}'][tp[1]]['choose'])
    res['chosen'] = dict(t=best[0], post=best[1], on='textures family, choose split (textures32 model, 32 px)')
    print('chosen on the textured family:', res['chosen'], flush=True)
    splits = {s: get_data(f'{D}/test_images', s, 8, 0, f'{D}/test_masks', n_eval=1000)[2] for s in (32, 64)}
    res['models'] = {}
    for name, m in models():
        ev = splits[m.cfg.img_size]
        res['models'][name] = {f't={t}': rows(lambda x: segment(m, x, t=t), *ev) for t in TS}
        print(name, {k: {p: round(100 * v[p]['test'], 1) for p in v} for k, v in res['models'][name].items()}, flush=True)
    res['baselines'] = baselines(splits)
    res['n_choose'], res['n_test'] = len(splits[64][0][0]), len(splits[64][1][0])
    OUT.write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()
