"""Run by tests/test_ddp.py, either under `torchrun --nproc_per_node 2` or as a single process.
Trains the tiny factorized U-Net a few steps with `train` and saves this rank's raw weights to OUT/rank{r}.pt."""
import sys
from pathlib import Path
import torch
from fastai.torch_core import rank_distrib
from factorized_diffusion.data import ShapesDataset
from factorized_diffusion.unet import unet_config
from factorized_diffusion.training import TrainConfig, train

out, steps, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0
torch.set_num_threads(1)
tr, va = ShapesDataset(64, 16, 'train'), ShapesDataset(16, 16, 'valid')
tcfg = TrainConfig(lr=1e-3, bs=16, steps=steps, seed=seed, ema_decay=0.9, save_every=1000)
learn, model, ema = train(out / 'run', unet_config('tiny'), tcfg, tr, va, device='cpu', progress=False)
torch.save(dict(raw=model.state_dict(), ema=ema.ema.module.state_dict(), step=learn.train_iter), out / f'rank{rank_distrib()}.pt')
