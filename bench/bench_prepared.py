"""Issue 28: images per second from an image folder (decoded and resized at every step, as before) and from the same
folder prepared once (`fd_prepare`, nbs/02c_prepared.ipynb), through the training loader (`seeded_dls`, batch 128, main
process), at 32, 64 and 128 px, side by side in one run; and the time to prepare the folder, with one and with two
worker processes, against the time the on-the-fly loader spends on as many images.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_prepared.py              # 10,000 JPEGs of 500x375; appends to bench/RESULTS.md
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_prepared.py --n 600 --no-record     # a quick look

The folder is made here: smooth random pictures (blurred noise plus gradients, so the JPEGs weigh what photographs of
that size weigh, about 30-60 kB) of 500x375, a Flowers/CUB-like size.
"""
import argparse, platform, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image, ImageFilter
from factorized_diffusion.prepared import prepare, prepared_parts, source_parts
from factorized_diffusion.resume import seeded_dls
from factorized_diffusion.runs import _holdout

ROOT = Path(__file__).resolve().parent.parent
p = argparse.ArgumentParser()
p.add_argument('--n', type=int, default=10_000); p.add_argument('--sizes', type=int, nargs='+', default=[32, 64, 128])
p.add_argument('--raw_images', type=int, default=512, help='images read on the fly per size (it is slow)')
p.add_argument('--dir', default=None); p.add_argument('--no-record', action='store_true')

def make_folder(d:Path, n:int):
    d.mkdir(parents=True, exist_ok=True)
    have = len(list(d.glob('*.jpg')))
    yy, xx = np.mgrid[0:375, 0:500] / 500
    for i in range(have, n):
        r = np.random.default_rng(i)
        base = Image.fromarray(r.integers(0, 255, (47, 63, 3), dtype=np.uint8)).resize((500, 375), Image.BICUBIC)
        g = (np.asarray(base, np.float32) * 0.7 + 70 * np.stack([yy, xx, yy * xx], -1)).clip(0, 255).astype(np.uint8)
        Image.fromarray(g).filter(ImageFilter.GaussianBlur(1)).save(d / f'{i:05d}.jpg', quality=90)

def loader_rate(ds, n_images:int, bs:int=128) -> float:
    "Images/s of the training loader over `ds`, reading about `n_images` (after one warm-up batch)."
    tr, va = _holdout(ds, 0)
    dl = seeded_dls(tr, va, bs, device='cpu').train
    it = iter(dl); next(it)
    t, n = time.perf_counter(), 0
    while n < n_images:
        try: n += len(next(it)[0])
        except StopIteration: it = iter(dl)
    return n / (time.perf_counter() - t)

def main():
    a = p.parse_args(); torch.set_num_threads(1)
    work = Path(a.dir) if a.dir else Path(tempfile.mkdtemp())
    folder = work / 'images'
    t0 = time.perf_counter(); make_folder(folder, a.n); print(f"folder of {a.n} JPEGs ready in {time.perf_counter() - t0:.0f}s ({sum(f.stat().st_size for f in folder.glob('*.jpg')) / a.n / 1e3:.0f} kB each)")
    rows, prep_rows = [], []
    for S in a.sizes:
        raw = loader_rate(source_parts(str(folder), S)[0], a.raw_images)
        times = {}
        for w in (1, 2):
            out = work / f'prep{S}_w{w}'; shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter(); prepare(str(folder), S, out, workers=w, progress=False); times[w] = time.perf_counter() - t
        prep = loader_rate(prepared_parts(work / f'prep{S}_w2', S)[0], max(20_000, a.n))
        rows.append((S, raw, prep)); prep_rows.append((S, times))
        print(f"{S} px: on the fly {raw:.0f} img/s, prepared {prep:.0f} img/s ({prep / raw:.0f}x); prepare {a.n} images: {times[1]:.1f}s with 1 worker, {times[2]:.1f}s with 2")
        for w in (1, 2): shutil.rmtree(work / f'prep{S}_w{w}', ignore_errors=True)

    lines = [f"\n## {time.strftime('%Y-%m-%d %H:%M')} - prepared data (issue 28), {platform.processor() or platform.machine()}, torch {torch.__version__}",
             f"Command: `OMP_NUM_THREADS=1 python bench/bench_prepared.py {' '.join(sys.argv[1:])}`\n",
             f"{a.n} JPEGs of 500x375 made by the script; the training loader (`seeded_dls`, batch 128, main process, 1 torch thread) "
             f"reading {a.raw_images} images on the fly (decode, resize, crop every time) and {max(20_000, a.n)} from the prepared folder; "
             "preparing with 1 and 2 worker processes (this machine has 2 cores). All rows from one run.\n",
             "| size | on the fly img/s | prepared img/s | ratio | prepare, 1 worker: img/s | prepare, 2 workers: img/s | 2 workers vs on the fly |",
             "|---|---|---|---|---|---|---|"]
    for (S, raw, prep), (_, times) in zip(rows, prep_rows):
        lines.append(f"| {S} | {raw:.0f} | {prep:.0f} | {prep / raw:.0f}x | {a.n / times[1]:.0f} | {a.n / times[2]:.0f} | {a.n / times[2] / raw:.2f}x |")
    r64 = dict((S, (raw, prep)) for S, raw, prep in rows).get(64)
    if r64: lines.append(f"\nAt 64 px the prepared folder delivers {r64[1]:.0f} images/s on one core (target >= 20,000: {'met' if r64[1] >= 20_000 else 'NOT met'}); "
                         f"preparing {a.n} images took {dict(prep_rows)[64][2]:.1f}s on both cores.")
    text = '\n'.join(lines) + '\n'
    print(text)
    if not a.no_record:
        with open(ROOT / 'bench' / 'RESULTS.md', 'a') as f: f.write(text)
    if not a.dir: shutil.rmtree(work, ignore_errors=True)

if __name__ == '__main__': main()   # worker processes import this file: the run happens only in the main one
