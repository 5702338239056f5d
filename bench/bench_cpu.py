"""Side-by-side CPU benchmarks; every comparison is a ratio measured in the same run (absolute times only as context).

  python bench/bench_cpu.py                 # segmentation + training-step rows, appended to bench/RESULTS.md
  python bench/bench_cpu.py --sizes 32 64 --reps 5 --no-write
  python bench/bench_cpu.py --sizes 32 64 128 --train_sizes   # segmentation rows only, up to 128 px

Rows:
  segmentation: images/s of the decoder-free mask path vs a full factorized forward (target >= 2x at K=3) vs OpenCV
                GrabCut (one thread, per image), on the same images;
  training:     step time (forward + backward + Adam) of the baseline U-Net and the factorized U-Net, with their FLOPs
                (torch.utils.flop_counter); target: factorized step time <= FLOP ratio x baseline step time.
"""
import argparse, datetime, platform, sys, time
from pathlib import Path
import torch
from torch.utils.flop_counter import FlopCounterMode

from factorized_diffusion.unet import unet_config, UNet
from factorized_diffusion.factorized import FactorizedUNet
from factorized_diffusion.data import ShapesDataset
from factorized_diffusion.baselines import grabcut_masks

PRESET = {32: 'small32', 64: 'small64'}

def timeit(fn, reps):
    fn()                                              # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]                   # median

def seg_rows(size, bs, reps, n_grabcut):
    cfg = unet_config(PRESET.get(size, 'small64'), img_size=size)
    m = FactorizedUNet(cfg).eval()
    x = ShapesDataset(bs, size, 'test').images
    t = torch.full((bs,), 30)
    with torch.no_grad():
        t_mask = timeit(lambda: m.masks(x, t), reps)
        t_full = timeit(lambda: m(x, t), reps)
    import cv2; cv2.setNumThreads(1)
    t_gc = timeit(lambda: grabcut_masks(x[:n_grabcut]), max(1, reps // 2)) / n_grabcut
    ips = dict(mask=bs / t_mask, full=bs / t_full, grabcut=1 / t_gc)
    return (f"| {size} | {cfg.K} | {ips['mask']:.0f} | {ips['full']:.0f} | {ips['grabcut']:.0f} | "
            f"{ips['mask'] / ips['full']:.2f}x | {ips['mask'] / ips['grabcut']:.2f}x |")

def flops(model, x, t):
    with FlopCounterMode(display=False) as fc:
        out = model(x, t); out = out[0] if isinstance(out, tuple) else out
        out.pow(2).mean().backward()
    model.zero_grad()
    return fc.get_total_flops()

def train_rows(size, bs, reps, decode_chunk=None):
    cfg = unet_config(PRESET.get(size, 'small64'), img_size=size)
    x, t = torch.randn(bs, 3, size, size), torch.randint(0, 1000, (bs,))
    res = {}
    for name, cls in (('unet', UNet), ('factorized', FactorizedUNet)):
        m = cls(cfg); opt = torch.optim.Adam(m.parameters())
        if name == 'factorized': m.decode_chunk = decode_chunk or -1   # None: one call
        def step():
            out = m(x, t); out = out[0] if isinstance(out, tuple) else out
            out.pow(2).mean().backward(); opt.step(); opt.zero_grad()
        res[name] = (timeit(step, reps), flops(m, x, t))
    (ta, fa), (tb, fb) = res['unet'], res['factorized']
    bound = fb / fa * ta
    return (f"| {size} | {bs} | {decode_chunk or 'all'} | {ta * 1000:.0f} | {tb * 1000:.0f} | {fb / fa:.2f} | {tb / ta:.2f} | "
            f"{'yes' if tb <= bound else 'no'} ({tb / bound:.2f} of bound) |")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[32, 64])
    ap.add_argument('--train_sizes', type=int, nargs='*', default=None, help='sizes of the training rows (default: --sizes; none: skip)')
    ap.add_argument('--decode_chunk', type=int, default=None, help='FactorizedUNet.decode_chunk for the training rows (default: one decoder call)')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--n_grabcut', type=int, default=16)
    ap.add_argument('--no-write', action='store_true', help='print only; do not append to bench/RESULTS.md')
    a = ap.parse_args()
    lines = [f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} - {platform.processor() or platform.machine()}, "
             f"{torch.get_num_threads()} torch threads, torch {torch.__version__}",
             f"Command: `{' '.join([Path(sys.executable).name] + sys.argv)}`\n",
             "Segmentation throughput (images/s; median of reps; same images):\n",
             "| size | K | mask path | full forward | GrabCut (1 thread) | mask / full | mask / GrabCut |", "|---|---|---|---|---|---|---|"]
    lines += [seg_rows(s, a.bs, a.reps, a.n_grabcut) for s in a.sizes]
    train_sizes = a.sizes if a.train_sizes is None else a.train_sizes
    if train_sizes: lines += ["\nTraining step (forward + backward + Adam), ms; FLOPs from torch.utils.flop_counter:\n",
              "| size | batch | factorized: images per decoder call | baseline U-Net | factorized | FLOP ratio | time ratio | within FLOP bound |", "|---|---|---|---|---|---|---|---|"]
    lines += [train_rows(s, a.bs, a.reps, a.decode_chunk) for s in train_sizes]
    text = '\n'.join(lines)
    print(text)
    if not a.no_write:
        with open(Path(__file__).parent / 'RESULTS.md', 'a') as f: f.write(text + '\n')

if __name__ == '__main__': main()
