"""Issue 46, item 4: are the background bands a prior of the network or a reading of the images?

  .venv/bin/python data/mix/bands.py                      # the shipped models and the start; writes data/mix/bands.json
  .venv/bin/python data/mix/bands.py runs/X/ckpts/step_N.safetensors:regions ...   # more models (on a family), added

For each model, on 256 held-out images of a family at the model's size (test split, seed 0) and on 16 blank images (all
zeros, mid-grey, each noised with its own draw), at t=30: per channel, the mean mask over the real images (a map), the
mean mask over the blank images, and the correlation of the two maps. A channel whose map on real images is the map it
draws on a blank image (correlation near 1, position share high) is a fixed split of the image plane that the network
brings with it; a channel that follows the images has a flat mean map on real images and nothing to correlate.
"""
import json, sys
from pathlib import Path
import torch
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint, init_from
from factorized_diffusion.factorized import FactorizedUNet
from factorized_diffusion.unet import unet_config
from factorized_diffusion.segment import segment
from factorized_diffusion.readings import position_share
sys.path.insert(0, str(Path(__file__).parent))
from curves import family_data

OUT = Path(__file__).parent / 'bands.json'
SHIPPED = dict(shapes32='shapes', textures32='textures', scenes32='scenes', scenes64='scenes')

def bands(model, family: str) -> dict:
    S = model.cfg.img_size
    _, _, tx, _, _ = family_data(family, S)
    real, blank = segment(model, tx, t=30), segment(model, torch.zeros(16, 3, S, S), t=30)
    mr, mb = real.mean(0).flatten(1), blank.mean(0).flatten(1)
    corr = [torch.corrcoef(torch.stack([a, b]))[0, 1].item() for a, b in zip(mr, mb)]
    return dict(family=family, size=S, area=[round(v, 4) for v in mr.mean(1).tolist()], blank_area=[round(v, 4) for v in mb.mean(1).tolist()],
                blank_corr=[round(v, 4) for v in corr], position_share=[round(v, 4) for v in position_share(real).tolist()])

def main():
    res = json.loads(OUT.read_text()) if OUT.exists() else {}
    todo = sys.argv[1:] or list(SHIPPED) + ['textures32 at 64 px']
    for name in todo:
        if name in res: continue
        if name == 'textures32 at 64 px':
            torch.manual_seed(0)
            m, fam = init_from(FactorizedUNet(unet_config('small32at64')), 'textures32').eval(), 'textures'
        else:                                  # a shipped name, or PATH[:FAMILY] (default family: textures)
            path, _, fam = name.partition(':')
            m, fam = load_model(resolve_checkpoint(path)), fam or SHIPPED.get(path, 'textures')
        res[name] = bands(m, fam)
        print(name, res[name]['blank_corr'], res[name]['position_share'], flush=True)
        OUT.write_text(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
