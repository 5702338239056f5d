"""Issue 46: how sure is the second rule's verdict? Its comparison again, image by image, with a paired bootstrap.

  .venv/bin/python data/mix/verdict2_paired.py     # after loo_verdict2.py; writes data/mix/verdict2_paired.json

Not a second verdict: the same model, reading, channels, images and baselines as `loo_verdict2.json` (the script checks
that its means equal the verdict's), scored per image, so that the margin can be given with its uncertainty: the mean
difference (model minus each baseline) over the 400 scored scenes and its 95% interval from 10,000 paired resamples.
"""
import json, sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
import loo_verdict2 as V
from factorized_diffusion.runs import get_data
from factorized_diffusion.checkpoints import load_model
from factorized_diffusion.segment import segment, union_fg, fg_metrics
from factorized_diffusion.baselines import grabcut_masks, kmeans_masks

def main():
    res = json.loads(V.OUT.read_text())
    r, rows = res['reading'], res['rows']
    (vx, vm), (tx, tm) = get_data(str(V.FRESH / 'test_images'), 64, 8, 0, str(V.FRESH / 'test_masks'), n_eval=1000)[2]
    gt = tm.reshape(len(tm), *tm.shape[-2:])
    torch.manual_seed(0)
    m = load_model(V.RUN / 'ckpts' / f'step_{V.STEPS}.safetensors')
    per = {'model, chosen reading': fg_metrics(union_fg(segment(m, tx, t=r['t']), rows['model, chosen reading']['fg_channels'], r['post'], r['threshold']), gt)['iou']}
    for name, fn in (('GrabCut', grabcut_masks), ('K-means (K=2)', kmeans_masks)):
        b = fn(tx)
        for post in V.POSTS:
            k = f'{name}, {post}'; per[k] = fg_metrics(union_fg(b, rows[k]['fg_channels'], post, r['threshold']), gt)['iou']
    for k, v in per.items(): assert abs(v.mean().item() - rows[k]['test']) < 1e-6, (k, v.mean().item(), rows[k]['test'])
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(len(tx), (10_000, len(tx)), generator=g)
    out = {}
    for k, v in per.items():
        if k.startswith('model'): continue
        d = per['model, chosen reading'] - v
        boot = d[idx].mean(1)
        out[k] = dict(diff=round(100 * d.mean().item(), 2), lo=round(100 * boot.quantile(0.025).item(), 2), hi=round(100 * boot.quantile(0.975).item(), 2),
                      model_better=int((d > 0).sum()), baseline_better=int((d < 0).sum()))
        print(k, out[k], flush=True)
    (Path(__file__).parent / 'verdict2_paired.json').write_text(json.dumps(dict(n=len(tx), resamples=10_000, seed=0, vs=out), indent=1) + '\n')

if __name__ == '__main__': main()
