"""DDPM-1000 vs DDIM: seconds per image and FID, side by side in one run, for a model trained on the built-in data.

  python bench/bench_sampling.py                       # the shipped checkpoint (data/), 128 samples per sampler
  python bench/bench_sampling.py --checkpoint runs/x --n 256 --ddim 25 50 100 --no-write

Every sampler starts from the same seeds. FID is measured against `--n_real` built-in training images with the
offline extractor (`factorized_diffusion.fid.RandomFeatures`): comparable across the rows of one run, not with papers.
The first row, held-out real images against the same training images, is the floor that `n` samples can reach.
Target (generation issue): DDIM-50 >= 20x faster than DDPM-1000 with FID within 10% of DDPM-1000's.
The last column is the mean share of each mask channel over the samples: how the generated masks divide the images.
"""
import argparse, datetime, platform, sys, time
from pathlib import Path
import torch

from factorized_diffusion.checkpoints import load_model
from factorized_diffusion.runs import resolve_checkpoint, SHIPPED_CHECKPOINT
from factorized_diffusion.sampling import ddpm_sample, ddim_sample
from factorized_diffusion.data import ShapesDataset
from factorized_diffusion.fid import fid

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', default=str(SHIPPED_CHECKPOINT), help='run folder, checkpoint folder or .safetensors')
    ap.add_argument('--n', type=int, default=128, help='samples per sampler')
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--n_real', type=int, default=2048, help='built-in training images for the FID reference')
    ap.add_argument('--ddim', type=int, nargs='+', default=[50, 100], help='DDIM step counts')
    ap.add_argument('--skip_ddpm', action='store_true', help='only DDIM rows (no ratio to DDPM-1000)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--no-write', action='store_true', help='print only; do not append to bench/RESULTS.md')
    a = ap.parse_args()
    model = load_model(resolve_checkpoint(a.checkpoint), device=a.device)
    size = model.cfg.img_size
    real = ShapesDataset(a.n_real, size, 'train').images
    held = ShapesDataset(a.n, size, 'test').images

    def run(name, fn):
        imgs, masks, t0 = [], [], time.perf_counter()
        for i in range(0, a.n, a.bs):
            s = fn(min(a.bs, a.n - i), i)
            imgs.append(s['images'].cpu()); masks.append(s['masks'].cpu())
        secs = (time.perf_counter() - t0) / a.n
        imgs = torch.cat(imgs)
        print(f"{name}: {secs:.3f} s/image", flush=True)
        return dict(name=name, s_per_img=secs, fid=fid(real, imgs), imgs=imgs, masks=torch.cat(masks))

    rows = [dict(name='held-out real images (floor)', s_per_img=float('nan'), fid=fid(real, held), masks=None)]
    if not a.skip_ddpm: rows.append(run('DDPM-1000', lambda k, i: ddpm_sample(model, n=k, seed=i, progress=False)))
    for st in a.ddim: rows.append(run(f'DDIM-{st}', lambda k, i, st=st: ddim_sample(model, n=k, steps=st, seed=i, progress=False)))
    ddpm = next((r for r in rows if r['name'] == 'DDPM-1000'), None)
    lines = [f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} - sampling, {platform.processor() or platform.machine()}, device {a.device}, "
             f"{torch.get_num_threads()} torch threads, torch {torch.__version__}",
             f"Command: `{' '.join([Path(sys.executable).name] + sys.argv)}`",
             f"Model: {a.checkpoint} ({size}x{size}, K={model.cfg.K}); {a.n} samples per sampler, same seeds; FID (offline RandomFeatures) "
             f"against {a.n_real} built-in training images.\n",
             "| sampler | s / image | speed-up vs DDPM-1000 | FID | FID / DDPM-1000's | mask-channel shares |", "|---|---|---|---|---|---|"]
    for r in rows:
        sp = f"{ddpm['s_per_img'] / r['s_per_img']:.1f}x" if ddpm and r['s_per_img'] == r['s_per_img'] else '-'
        fr = f"{r['fid'] / ddpm['fid']:.2f}" if ddpm else '-'
        share = '-' if r['masks'] is None else ' / '.join(f"{v:.2f}" for v in r['masks'].mean((0, 2, 3)).tolist())
        lines.append(f"| {r['name']} | {r['s_per_img']:.3f} | {sp} | {r['fid']:.4f} | {fr} | {share} |")
    d50 = next((r for r in rows if r['name'] == 'DDIM-50'), None)
    if ddpm and d50:
        fast, close = ddpm['s_per_img'] / d50['s_per_img'], d50['fid'] / ddpm['fid']
        lines.append(f"\nTarget DDIM-50 >= 20x faster: {'met' if fast >= 20 else 'NOT met'} ({fast:.1f}x); "
                     f"FID within 10% of DDPM-1000: {'met' if close <= 1.10 else 'NOT met'} (ratio {close:.2f}).")
    text = '\n'.join(lines)
    print(text)
    if not a.no_write:
        with open(Path(__file__).parent / 'RESULTS.md', 'a') as f: f.write(text + '\n')

if __name__ == '__main__': main()
