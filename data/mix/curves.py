"""Issue 46: the learning curve of a run on held-out images of every family, from the checkpoints it kept.

  .venv/bin/python data/mix/curves.py runs/mix64_noscenes                     # shapes, textures, clutter
  .venv/bin/python data/mix/curves.py runs/mix64_noscenes --families scenes   # the left-out family, only after its verdict

For every `RUN/ckpts/step_N.safetensors` (EMA weights, kept by `run_mix.sh`) and for the run's start (step 0: the weights
`init` names, or random weights of seed 0), on each family's test split at the run's resolution (seed 0; the channels
chosen on 64 labelled images of its valid split), with the paper's reading (t=30, threshold 0.5, no cut):
- `iou`: the strict foreground IOU (the paper's score);
- `region`: `region_score` (08b_readings), every channel counted: the best-matching mask of the object and of the background;
- `position_share`: per channel, the share of its variance that pixel position explains (08b_readings), and the ground truth's.
GrabCut and colour K-means (K=2) are scored once per family on the same images. Steps already in the output file are
skipped, so the script can run again as the run goes on; it writes `data/mix/curves_<run name>.json`.
The scenes are the left-out family of `runs/mix64_noscenes`: their curve is scored only after the verdict
(`loo_verdict.py`), and on the test split of seed 0, not on the verdict's scenes (seed 4).
"""
import argparse, json, re
from pathlib import Path
import torch
from factorized_diffusion.checkpoints import MODEL_KINDS, load_model, init_from
from factorized_diffusion.segment import segment, choose_fg_channels, score_strict
from factorized_diffusion.readings import region_score, mask_dependence
from factorized_diffusion.baselines import grabcut_masks, kmeans_masks
from factorized_diffusion.unet import UNetConfig
from factorized_diffusion.mix import FAMILIES
from factorized_diffusion.data import ShapesDataset
from factorized_diffusion.textures import TexturesDataset
from factorized_diffusion.scenes import ScenesDataset
from factorized_diffusion.clutter import ClutterDataset
from factorized_diffusion.regions import RegionsDataset, objects_mask

T, TH, POST, N_VALID, N_TEST = 30, 0.5, 'none', 64, 256
DATASETS = dict(shapes=ShapesDataset, textures=TexturesDataset, scenes=ScenesDataset, clutter=ClutterDataset, regions=RegionsDataset)
"The families by name; `regions` (10d_regions) is no family of the mixes: its strict IOU scores the objects, its region score all three labels."

def start_model(run: Path):
    "The run's step-0 model: its `init` weights, or random weights of seed 0."
    info = json.loads((run / 'checkpoint' / 'run.json').read_text())
    build = MODEL_KINDS[info['arch']]
    torch.manual_seed(0)
    m = build(getattr(build, 'config_class', UNetConfig).from_dict(info['model']))
    if info['train'].get('init'): init_from(m, info['train']['init'], info['train'].get('init_only') or None)
    return m.eval()

def family_data(name: str, size: int):
    "(valid images, valid foreground, test images, test foreground, test labels for region_score) of family `name`."
    D = DATASETS[name]
    va, te = D(N_VALID, size, 'valid', 0), D(N_TEST, size, 'test', 0)
    fg = objects_mask if name == 'regions' else (lambda m: m)
    return va.images, fg(va.masks), te.images, fg(te.masks), te.masks

def score(masks_v, vm, masks_t, tm, labels_t) -> dict:
    sub = choose_fg_channels(masks_v, vm, post=POST, threshold=TH)
    dep = mask_dependence(masks_t, sub, tm)
    return dict(fg_channels=list(sub), iou=round(score_strict(masks_t, tm, sub, POST, TH)['iou'], 4),
                region=region_score(masks_t, labels_t)['score'], position_share=dep['position_share'],
                fg_position_share=dep['fg_position_share'], gt_position_share=dep['gt_position_share'])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run'); ap.add_argument('--families', default='shapes,textures,clutter')
    ap.add_argument('--out', default=None, help='output file (default: data/mix/curves_<run name>.json)')
    a = ap.parse_args()
    run, fams = Path(a.run), a.families.split(',')
    assert set(FAMILIES) <= set(DATASETS)
    if bad := [f for f in fams if f not in DATASETS]: raise SystemExit(f'no family {bad}: choose from {list(DATASETS)}')
    out = Path(a.out or Path(__file__).parent / f'curves_{run.name}.json')
    res = json.loads(out.read_text()) if out.exists() else dict(run=str(run), reading=dict(t=T, threshold=TH, post=POST),
                                                                 n_valid=N_VALID, n_test=N_TEST, baselines={}, steps={})
    save = lambda: out.write_text(json.dumps(res, indent=1) + '\n')
    kept = {int(re.search(r'step_(\d+)', p.name)[1]): p for p in (run / 'ckpts').glob('step_*.safetensors')}
    info = json.loads((run / 'checkpoint' / 'run.json').read_text())
    kept.setdefault(info['step'], run / 'checkpoint' / 'model.safetensors')    # a run without kept copies: its last checkpoint
    steps = sorted(kept)
    size = info['model']['img_size']
    data = {f: family_data(f, size) for f in fams}
    for f, (vx, vm, tx, tm, tl) in data.items():
        if f in res['baselines']: continue
        res['baselines'][f] = {name: score(fn(vx), vm, fn(tx), tm, tl) for name, fn in (('GrabCut', grabcut_masks), ('K-means', kmeans_masks))}
        print(f, {k: v['iou'] for k, v in res['baselines'][f].items()}, flush=True); save()
    for s in [0] + [s for s in steps if s % 100 == 0 or s == info['step']]:
        have = res['steps'].get(str(s), {})
        if all(f in have for f in fams): continue
        m = start_model(run) if s == 0 else load_model(kept[s])
        for f, (vx, vm, tx, tm, tl) in data.items():
            if f in have: continue
            have[f] = score(segment(m, vx, t=T), vm, segment(m, tx, t=T), tm, tl)
        res['steps'][str(s)] = have; save()
        print(s, {f: (v['iou'], v['region'], v['position_share']) for f, v in have.items()}, flush=True)

if __name__ == '__main__': main()
