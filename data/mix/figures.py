"""Issue 46: the pictures of the leave-one-family-out study (nbs/studies/08_mix_start.ipynb), from the runs' checkpoints.

  .venv/bin/python data/mix/figures.py outlines     # data/mix/outlines.png: what the zooms did to the masks

Each row pair: 8 held-out textured images (test split, seed 0, 64 px) and the K=3 soft masks of one model at t=30 as
RGB, one colour per channel. The models: the start (`textures32` in the 64 px layout), the first rule's run at step 800
(flips, shifts, zooms), and the 100-step probes with flips and zooms and with flips and shifts (`probe.sh`).
"""
import sys
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from factorized_diffusion.checkpoints import load_model
from factorized_diffusion.segment import segment
sys.path.insert(0, str(Path(__file__).parent))
import curves

HERE = Path(__file__).parent

def small_png(fname, colours:int=128):
    "Rewrite the PNG `fname` with a palette of `colours`: a few times smaller, the masks' colours unchanged to the eye."
    from PIL import Image
    Image.open(fname).convert('RGB').quantize(colours).save(fname, optimize=True)

def outlines(fname=HERE / 'outlines.png', n:int=8):
    _, _, tx, _, _ = curves.family_data('textures', 64)
    x = tx[:n]
    models = {'start (textures32 at 64 px)': curves.start_model(Path('runs/mix64_noscenes')),
              'flips+shifts+zooms, step 800': load_model(Path('runs/mix64_noscenes/ckpts/step_800.safetensors')),
              'flips+zooms, step 100': load_model(Path('runs/probe_zoom_100/checkpoint/model.safetensors')),
              'flips+shifts, step 100': load_model(Path('runs/probe_shift_100/checkpoint/model.safetensors'))}
    fig, ax = plt.subplots(len(models) + 1, n, figsize=(1.3 * n, 1.35 * (len(models) + 1)))
    for j in range(n): ax[0, j].imshow(((x[j].permute(1, 2, 0) + 1) / 2).clamp(0, 1))
    ax[0, 0].set_ylabel('image', fontsize=7)
    for i, (name, m) in enumerate(models.items(), 1):
        masks = segment(m, x, t=30)
        for j in range(n): ax[i, j].imshow(masks[j].permute(1, 2, 0).clamp(0, 1))
        ax[i, 0].set_ylabel(name, fontsize=6)
    for a in ax.flat: a.set_xticks([]); a.set_yticks([])
    fig.tight_layout(); fig.savefig(fname, dpi=72); small_png(fname); print('wrote', fname)

if __name__ == '__main__': {'outlines': outlines}[sys.argv[1]]()
