"""One fixed reading of the 64 px preset's model, measured on every fresh set of scenes, pooled, with the paired
difference to GrabCut per image (nbs/studies/06_photos.ipynb, 'Every fresh set together').

  .venv/bin/python data/scenes/pooled_study.py   # after run_study.sh's stages choice and sizechoice; writes data/scenes/pooled_study.json

Why: two single-set verdicts of the same fixed reading disagree. choice_study.py's reading (t=5, threshold 0.3, the
largest-region cut; chosen on 1,024 textured images by the rule committed in 72aabed, before any fresh scene was rendered) leaves the
`scenes64` model 0.4 points below GrabCut on the seed-1 fresh scenes and, measured again by size_choice_study.py,
1.4 points above it on the seed-2 ones. Counting whichever set passes would be choosing by the test. This script,
committed before it ran and before its seed-3 scenes were rendered, fixes the reading, the model and the rule, and
takes every fresh set, the failing one included:

- Reading: t=5, threshold 0.3, the cut (choice_study.py's), for the model and for GrabCut and K-means alike (their masks
  are 0 or 1, so the threshold does not change them; they are also scored without the cut).
- Model: `scenes64` (`--preset photos64`, 400 steps, 28 minutes on the 2-core CPU).
- Sets: the fresh scenes of seed 1 (runs/scenes_fresh), seed 2 (runs/scenes_fresh2) and seed 3 (runs/scenes_fresh3,
  rendered here: `write_folder(500, ..., split='test', seed=3)`), each split as before (100 choose the channels of
  every method, 400 are scored). The old held-out scenes (seed 0) are not pooled: earlier stages looked at them.
- Verdict (issue #31's 64 px target): reached if, over the 1,200 test images of the three sets, the model's mean strict
  IOU is above GrabCut's with the cut and without it, and above K-means' both ways. Reported beside it: per set, and the
  mean per-image paired difference to GrabCut with the cut with a 95% bootstrap interval (10,000 resamples of images).
"""
import json
from pathlib import Path
import numpy as np, torch
from choice_study import fg
from factorized_diffusion.runs import get_data
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint
from factorized_diffusion.segment import segment, fg_metrics, choose_fg_channels, score_strict, FG_POST
from factorized_diffusion.baselines import grabcut_masks, kmeans_masks
from factorized_diffusion.scenes import write_folder

READING, MODEL, OUT = dict(t=5, rule='0.3', post='largest'), 'scenes64', Path(__file__).parent / 'pooled_study.json'
SETS = {'seed 1': 'runs/scenes_fresh/test', 'seed 2': 'runs/scenes_fresh2/test', 'seed 3': 'runs/scenes_fresh3/test'}

def per_image(mv, vm, mt, tm, rule, post) -> tuple:
    "The `score` row (channels chosen on the choose split) and the per-image strict IOU on the test split."
    sub = choose_fg_channels(mv, vm, post=post, threshold=rule)
    per = fg_metrics(fg(mt, sub, rule, post), tm.reshape(len(tm), *mt.shape[-2:]))['iou']
    return dict(fg_channels=list(sub), choose=score_strict(mv, vm, sub, post, rule)['iou'], test=per.mean().item()), per.numpy()

def main():
    torch.manual_seed(0)
    if not Path('runs/scenes_fresh3/test_images').exists():
        write_folder(500, 'runs/scenes_fresh3/test_images', 'runs/scenes_fresh3/test_masks', split='test', seed=3)
    m = load_model(resolve_checkpoint(MODEL))
    rd = READING
    res = dict(reading=rd, model=f'{MODEL} (photos64, 400 steps)', sets={})
    pooled = {}
    for sname, root in SETS.items():
        (vx, vm), (tx, tm) = get_data(f'{root}_images', 64, 8, 0, f'{root}_masks', n_eval=1000)[2]
        rows, per = {}, {}
        rows['model'], per['model'] = per_image(segment(m, vx, t=rd['t']), vm, segment(m, tx, t=rd['t']), tm, rd['rule'], rd['post'])
        for name, fn in (('GrabCut', grabcut_masks), ('K-means (K=2)', kmeans_masks)):
            mv, mt = fn(vx), fn(tx)
            for post in FG_POST:
                rows[f'{name}, {post}'], per[f'{name}, {post}'] = per_image(mv, vm, mt, tm, rd['rule'], post)
        res['sets'][sname] = dict(n_choose=len(vx), n_test=len(tx), rows=rows)
        for k, v in per.items(): pooled.setdefault(k, []).append(v)
        print(sname, {k: round(100 * v['test'], 1) for k, v in rows.items()}, flush=True)
    pooled = {k: np.concatenate(v) for k, v in pooled.items()}
    diff = pooled['model'] - pooled[f"GrabCut, {rd['post']}"]
    rng = np.random.default_rng(0)
    boots = np.array([diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(10_000)])
    res['pooled'] = dict(n_test=len(diff), mean={k: float(v.mean()) for k, v in pooled.items()},
                         diff_to_grabcut=dict(mean=float(diff.mean()), ci95=[float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]))
    mean = res['pooled']['mean']
    res['reached'] = bool(all(mean['model'] > mean[f'{b}, {p}'] for b in ('GrabCut', 'K-means (K=2)') for p in FG_POST))
    print('pooled', {k: round(100 * v, 2) for k, v in mean.items()}, res['pooled']['diff_to_grabcut'], 'reached:', res['reached'], flush=True)
    OUT.write_text(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
