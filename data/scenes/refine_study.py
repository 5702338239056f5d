"""A model's foreground refined by GrabCut (nbs/studies/06_photos.ipynb, 'Refining the masks with GrabCut'): GrabCut
started from the model's foreground (probably foreground inside it, probably background outside) instead of from a
rectangle, a label-free post-processing step in the way a CRF refines the masks of many segmentation methods.

  .venv/bin/python data/scenes/refine_study.py        # after `bash data/scenes/run_study.sh data`; writes data/scenes/refine_study.json

1. Choice, as in post_study.py: the shipped textures model on the textured family's own labelled choose split (32 px),
   read in the setting post_study.py chose there (t=5, the largest region); refinement is kept only if it raises the
   strict IOU on that split. The scenes are not read for it.
2. Measure: each model on the held-out scenes (channels chosen on the 100-image choose split without refinement, as
   post_study.py reads them; the 400 test images scored), without and with refinement, GrabCut and K-means on the
   same images in the same run (post_study.baselines).
"""
import json, sys
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from post_study import baselines, D
from factorized_diffusion.runs import get_data
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint
from factorized_diffusion.segment import segment, choose_fg_channels, union_fg, fg_metrics, largest_region
from factorized_diffusion.baselines import _uint8

T, POST, OUT = 5, 'largest', Path(__file__).parent / 'refine_study.json'

def refine(images:torch.Tensor, fg:torch.Tensor, iters:int=5) -> torch.Tensor:
    "GrabCut from each foreground `fg` (N,H,W bool) as its starting labels, then its largest region; an empty or full one is kept."
    import cv2
    cv2.setRNGSeed(0); out = fg.clone()
    for i in range(len(fg)):
        f = fg[i].numpy()
        if f.all() or not f.any(): continue
        mask = np.where(f, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try: cv2.grabCut(_uint8(images[i]), mask, None, bgd, fgd, iters, cv2.GC_INIT_WITH_MASK)
        except cv2.error: continue
        out[i] = torch.from_numpy((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))
    return largest_region(out)

def measure(model, valid, test) -> dict:
    "Strict IOU on the choose and test splits, without and with refinement; channels chosen on `valid` without it."
    (vx, vm), (tx, tm) = valid, test
    mv, mt = segment(model, vx, t=T), segment(model, tx, t=T)
    sub = choose_fg_channels(mv, vm, post=POST)
    iou = lambda fg, gt: fg_metrics(fg, gt.reshape(fg.shape))['iou'].mean().item()
    fv, ft = union_fg(mv, sub, POST), union_fg(mt, sub, POST)
    return dict(fg_channels=list(sub), choose=dict(plain=iou(fv, vm), refined=iou(refine(vx, fv), vm)),
                test=dict(plain=iou(ft, tm), refined=iou(refine(tx, ft), tm)))

def main():
    torch.manual_seed(0)
    res = dict(t=T, post=POST)
    _, _, (tv, tt) = get_data('textures', 32)
    res['choice'] = measure(load_model(resolve_checkpoint('textures32')), tv, tt)
    res['refine_chosen'] = res['choice']['choose']['refined'] > res['choice']['choose']['plain']
    print('textured family, choose split:', res['choice']['choose'], '-> refine' if res['refine_chosen'] else '-> no refinement', flush=True)
    splits = {s: get_data(f'{D}/test_images', s, 8, 0, f'{D}/test_masks', n_eval=1000)[2] for s in (32, 64)}
    models = {'32 px: scenes32 (photos32, 1000 steps)': 'scenes32', '64 px: scenes64 (photos64, 400 steps)': 'scenes64'}
    models.update({f'64 px: photos64 run, {p.stem[5:]} steps': str(p) for p in sorted(Path('runs/scenes_p64long/ckpts').glob('step_*00.safetensors'),
                   key=lambda p: int(p.stem[5:])) if int(p.stem[5:]) > 400})
    res['models'] = {}
    for name, ck in models.items():
        m = load_model(resolve_checkpoint(ck) if not ck.endswith('.safetensors') else ck)
        res['models'][name] = measure(m, *splits[m.cfg.img_size])
        print(name, {k: round(100 * v, 1) for k, v in res['models'][name]['test'].items()}, flush=True)
    res['baselines'] = baselines(splits)
    res['n_choose'], res['n_test'] = len(splits[64][0][0]), len(splits[64][1][0])
    OUT.write_text(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
