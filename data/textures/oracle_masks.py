"""Does the denoising loss prefer object masks on the textured data? (issue 16, `studies/05_texture_study`)

Trains the factorized U-Net with its K masks *fixed* instead of generated, one run per kind of mask, paired: the same
initial weights, the same batches, timesteps and noise in every run. Then scores each on the same held-out
(image, t, noise) triples. If masks that follow the objects do not give a lower loss than masks that split the image by
position, no optimiser setting can make the mask generator prefer objects: the objective itself does not.

    python data/textures/oracle_masks.py --out runs/oracle --preset small32 --steps 300 --n_eval 512   # then copy runs/oracle/shared.* to data/textures/oracle/

Mask kinds (K = 3):
- `object`: the exact masks, [object, background, empty];
- `position`: three horizontal bands, the split the recipe's masks settle on;
- `uniform`: 1/3 everywhere (the decoder sees every skip at a third of its size: a plain U-Net with shared weights);
- `single`: [1, 0, 0] (a plain U-Net).

`--decoding` picks the registered decoding scheme the decoder uses (`shared`, the paper's; `mask_all` also masks h_mid).
"""
import csv, importlib, json, time
from pathlib import Path
import torch
from fastcore.script import call_parse
from factorized_diffusion.unet import unet_config
from factorized_diffusion.factorized import factorized_model
from factorized_diffusion.scheduler import DDPMScheduler
from factorized_diffusion.textures import TexturesDataset
from factorized_diffusion.data import ShapesDataset
importlib.import_module("factorized_diffusion.variants")   # registers the decoding schemes of 06a_variants

def fixed_masks(kind:str, gt:torch.Tensor, K:int=3) -> torch.Tensor:
    "(B,K,H,W) masks of `kind` for ground-truth masks `gt` (B,1,H,W)."
    B, _, H, W = gt.shape
    if kind == 'object': return torch.cat([gt, 1 - gt] + [torch.zeros_like(gt)] * (K - 2), 1)
    if kind == 'position':
        band = (torch.arange(H) * K // H)[:, None].expand(H, W)
        return torch.stack([(band == k).float() for k in range(K)])[None].expand(B, K, H, W)
    if kind == 'uniform': return gt.new_full((B, K, H, W), 1 / K)
    if kind == 'single': return torch.cat([torch.ones_like(gt)] + [torch.zeros_like(gt)] * (K - 1), 1)
    raise ValueError(kind)

def eps_hat(model, x, t, m):
    "The factorized forward pass (Eq. 2-3, 6-7) with masks `m` in place of the mask generator's (Eq. 4)."
    emb = model.time_embed(t)
    hs = model.encoder(x, emb)
    return model.decode(emb, hs, model.middle(hs[-1], emb), m)

@call_parse
def main(out:str='runs/oracle', steps:int=300, bs:int=32, lr:float=5e-4, preset:str='small32', data:str='textures',
         kinds:str='object,position,uniform,single', decoding:str='shared', n_train:int=2000, n_eval:int=256, seed:int=0):
    torch.manual_seed(seed)
    ds_cls = dict(textures=TexturesDataset, builtin=ShapesDataset)[data]
    cfg = unet_config(preset, decoding=decoding)
    sched = DDPMScheduler()
    tr, ev = ds_cls(n_train, cfg.img_size, 'train', seed), ds_cls(n_eval, cfg.img_size, 'test', seed)
    g = torch.Generator().manual_seed(seed + 1)
    ev_t = torch.randint(0, sched.T, (n_eval,), generator=g)
    ev_eps = torch.randn(ev.images.shape, generator=g)
    init = factorized_model(cfg).state_dict()
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in kinds.split(','):
        model = factorized_model(cfg); model.load_state_dict(init); model.train()
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(seed + 2)       # the same batches, timesteps and noise for every kind
        t0 = time.time()
        for step in range(1, steps + 1):
            idx = torch.randint(0, len(tr), (bs,), generator=g)
            x0, gt = tr.images[idx], tr.masks[idx]
            t = torch.randint(0, sched.T, (bs,), generator=g)
            eps = torch.randn(x0.shape, generator=g)
            loss = ((eps_hat(model, sched.add_noise(x0, eps, t), t, fixed_masks(kind, gt, cfg.K)) - eps) ** 2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
            if step % 50 == 0 or step == steps:
                model.eval()
                with torch.no_grad():
                    err = torch.cat([((eps_hat(model, sched.add_noise(ev.images[i:i+64], ev_eps[i:i+64], ev_t[i:i+64]),
                                                ev_t[i:i+64], fixed_masks(kind, ev.masks[i:i+64], cfg.K))
                                        - ev_eps[i:i+64]) ** 2).mean((1, 2, 3)) for i in range(0, n_eval, 64)])
                model.train()
                row = dict(kind=kind, decoding=decoding, step=step, train_loss=round(loss.item(), 5),
                           eval_loss=round(err.mean().item(), 5), eval_loss_t_lt_250=round(err[ev_t < 250].mean().item(), 5),
                           seconds=round(time.time() - t0, 1))
                rows.append(row); print(row, flush=True)
        with open(out / f'{decoding}.csv', 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    (out / f'{decoding}.json').write_text(json.dumps(dict(preset=preset, data=data, steps=steps, bs=bs, lr=lr, seed=seed,
                                                          n_train=n_train, n_eval=n_eval, decoding=decoding), indent=1))
