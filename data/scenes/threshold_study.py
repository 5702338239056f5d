"""Where the foreground stops (nbs/studies/06_photos.ipynb, 'Where the foreground stops'): the threshold on the soft
foreground, 0.5 in every reading so far, chosen the way post_study.py chose t and the cut, then measured on the scenes.

  .venv/bin/python data/scenes/threshold_study.py     # after `bash data/scenes/run_study.sh data`; writes data/scenes/threshold_study.json

0. Diagnosis: in the chosen reading (t=5, the largest region, threshold 0.5), the share of test pixels each model marks
   foreground wrongly (false positives) and misses (false negatives), GrabCut's beside it.
1. Choice, fixed before the scenes were read for it: the shipped textures model on the textured family's own labelled
   choose split (32 px) at t=5 with the cut; the threshold in TH with the best strict IOU there is the setting.
2. Measure: each model on the held-out scenes at every threshold (channels chosen on the 100-image choose split at that
   threshold, the 400 test images scored), GrabCut and K-means on the same images in the same run. Also recorded, and not
   part of the choice: the threshold the scenes' own labelled choose split would pick (a user with 100 labelled images
   of their own could choose it there, as the strict rule chooses the channels).
Models: the shipped presets (scenes32, scenes64) and, when runs/ holds them, the annealed run's 800-step checkpoint
(stage p64anneal) and the seed-1 run's last, at 700 steps (stage p64seed1).
"""
import json
from pathlib import Path
import torch
from post_study import baselines, D
from choice_study import fg as fg_rule, score, models
from factorized_diffusion.runs import get_data
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint
from factorized_diffusion.baselines import grabcut_masks
from factorized_diffusion.segment import segment

T, TH, OUT = 5, (0.3, 0.4, 0.5, 0.6, 0.7), Path(__file__).parent / 'threshold_study.json'

def fg(masks, subset, th): return fg_rule(masks, subset, str(th), 'largest')

def rows(mv, vm, mt, tm) -> dict:
    "Strict IOU on the choose and test splits at every threshold, the channels chosen on the choose split at that threshold."
    return {str(th): score(mv, vm, mt, tm, str(th), 'largest') for th in TH}

def errors(f, gt) -> dict:
    "Mean share of pixels marked foreground wrongly (fp) and missed (fn), and the true foreground's share."
    gt = gt.reshape(f.shape).bool()
    return dict(fp=(f & ~gt).float().mean().item(), fn=(~f & gt).float().mean().item(), fg=gt.float().mean().item())

def main():
    torch.manual_seed(0)
    res = dict(t=T, post='largest', thresholds=list(TH))
    tex = load_model(resolve_checkpoint('textures32'))
    _, _, ((vx, vm), (tx, tm)) = get_data('textures', 32)
    res['choice'] = rows(segment(tex, vx, t=T), vm, segment(tex, tx, t=T), tm)
    best = max(TH, key=lambda th: res['choice'][str(th)]['choose'])
    res['chosen'] = dict(threshold=best, on='textures family, choose split (textures32 model, 32 px, t=5, largest region)')
    print('chosen on the textured family:', res['chosen'], {k: round(100 * v['choose'], 2) for k, v in res['choice'].items()}, flush=True)
    splits = {s: get_data(f'{D}/test_images', s, 8, 0, f'{D}/test_masks', n_eval=1000)[2] for s in (32, 64)}
    res['models'] = {}
    for name, ck in models((('scenes_p64anneal', 'annealed run', (800,)), ('scenes_p64seed1', 'seed-1 run', (700,)))):
        m = load_model(ck)
        (vx, vm), (tx, tm) = splits[m.cfg.img_size]
        mv, mt = segment(m, vx, t=T), segment(m, tx, t=T)
        r = dict(thresholds=rows(mv, vm, mt, tm))
        r['errors'] = errors(fg(mt, r['thresholds']['0.5']['fg_channels'], 0.5), tm)
        r['scenes_choice'] = max(TH, key=lambda th: r['thresholds'][str(th)]['choose'])
        res['models'][name] = r
        print(name, {k: round(100 * v['test'], 1) for k, v in r['thresholds'].items()}, 'scenes choose ->', r['scenes_choice'],
              {k: round(100 * v, 2) for k, v in r['errors'].items()}, flush=True)
    res['grabcut_errors'] = {f'{s} px': errors(grabcut_masks(ev[1][0])[:, 1].bool(), ev[1][1]) for s, ev in splits.items()}
    res['baselines'] = baselines(splits)
    res['n_choose'], res['n_test'] = len(splits[64][0][0]), len(splits[64][1][0])
    OUT.write_text(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
