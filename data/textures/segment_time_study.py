"""Segmentation-time settings on the textured data (#16): the noise level t and averaging the masks over several t and
noise draws (`segment(t=[...], n_draws=...)`, `09_segment`), for trained models, with the setting *chosen on tuning
images* that no score below is reported on.

    OMP_NUM_THREADS=2 python data/textures/segment_time_study.py --out data/textures/segment_time seed0=runs/tex_init_shapes seed1=runs/tex_init_shapes_s1

For each model and setting it scores, under the strict rule (foreground channels chosen on 64 labelled images):
- `tune`: held-out textured images of seed `--tune_seed` (64 to choose the channels, 256 to score), never the test images;
- `test`: the held-out images every run in `data/textures/` is scored on (seed 0: 64 + 256), the ones GrabCut and
  K-means are compared on.
Writes `sweep.csv` (one row per model, setting and split) and `chosen.json` (per model: the setting with the best
tuning score and its test score, next to t=30, the paper's setting).
"""
import argparse, json, time, csv
from pathlib import Path
import torch
from factorized_diffusion.checkpoints import load_model
from factorized_diffusion.runs import resolve_checkpoint
from factorized_diffusion.segment import evaluate_segmentation
from factorized_diffusion.textures import eval_splits, TexturesDataset

SETTINGS = {f't={t}': dict(t=t) for t in (10, 20, 30, 50, 75, 100, 150, 200, 300)}
SETTINGS.update({'t=30, 4 draws': dict(t=30, n_draws=4),
                 't=20,30,50': dict(t=[20, 30, 50]),
                 't=30,50,75,100': dict(t=[30, 50, 75, 100]),
                 't=50,100,150,200': dict(t=[50, 100, 150, 200]),
                 't=30..200, 2 draws': dict(t=[30, 50, 75, 100, 150, 200], n_draws=2)})

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('models', nargs='+', help='NAME=CHECKPOINT (a run folder, model.safetensors or shipped name)')
    ap.add_argument('--out', default='runs/segment_time'); ap.add_argument('--tune_seed', type=int, default=7)
    ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--settings', default='', help='only these settings, separated by ; (default: all of SETTINGS)')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    splits = dict(tune=eval_splits(TexturesDataset, a.size, a.tune_seed), test=eval_splits(TexturesDataset, a.size, 0))
    rows, chosen = [], {}
    for spec in a.models:
        name, ck = spec.split('=', 1)
        path = resolve_checkpoint(ck); model = load_model(path, device='cpu')
        for setting, kw in SETTINGS.items():
            if a.settings and setting not in a.settings.split(';'): continue
            for split, (valid, test) in splits.items():
                t0 = time.time()
                r = evaluate_segmentation(model, *valid, *test, **kw)
                row = dict(model=name, checkpoint=str(path), setting=setting, split=split, strict_iou=round(100 * r['strict']['iou'], 2),
                           strict_acc=round(100 * r['strict']['acc'], 2), permissive_iou=round(100 * r['permissive']['iou'], 2),
                           fg_channels=' '.join(map(str, r['fg_channels'])), fg_position_share=round(r['dependence'].get('fg_position_share', float('nan')), 4),
                           seconds=round(time.time() - t0, 1))
                rows.append(row); print(row, flush=True)
        mine = [r for r in rows if r['model'] == name]
        tune = {r['setting']: r for r in mine if r['split'] == 'tune'}; test = {r['setting']: r for r in mine if r['split'] == 'test'}
        best = max(tune, key=lambda s: tune[s]['strict_iou'])
        chosen[name] = dict(checkpoint=str(path), chosen=best, chosen_tune_iou=tune[best]['strict_iou'], chosen_test_iou=test[best]['strict_iou'],
                            paper_t30_tune_iou=tune['t=30']['strict_iou'], paper_t30_test_iou=test['t=30']['strict_iou'],
                            best_test_setting=max(test, key=lambda s: test[s]['strict_iou']))
        print(name, chosen[name], flush=True)
        with open(out / 'sweep.csv', 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
        (out / 'chosen.json').write_text(json.dumps(dict(tune_seed=a.tune_seed, size=a.size, settings=SETTINGS,
                                                         models=chosen, torch=torch.__version__, threads=torch.get_num_threads()), indent=1))

if __name__ == '__main__': main()
