"""Run by tests/test_ddp.py (and tests/test_cuda.py), either under `torchrun --nproc_per_node N` or as a single process.
Trains the tiny factorized U-Net a few steps with `train` and saves this rank's raw weights to OUT/rank{r}.pt.
  python tests/ddp_train.py OUT STEPS [SEED] [DEVICE]     # DEVICE: cpu (gloo, the default) or cuda (NCCL)"""
import sys
from pathlib import Path
import torch
import torch.distributed as dist
from fastai.callback.core import Callback
from fastai.torch_core import rank_distrib
from factorized_diffusion.data import ShapesDataset
from factorized_diffusion.unet import unet_config
from factorized_diffusion.training import TrainConfig, train

out, steps = Path(sys.argv[1]), int(sys.argv[2])
seed, device = int(sys.argv[3]) if len(sys.argv) > 3 else 0, sys.argv[4] if len(sys.argv) > 4 else 'cpu'
torch.set_num_threads(1)

class Backend(Callback):
    "Notes the process group's backend while training runs (the group is torn down after `fit`)."
    backend = None
    def before_fit(self): Backend.backend = dist.get_backend() if dist.is_available() and dist.is_initialized() else None

tr, va = ShapesDataset(64, 16, 'train'), ShapesDataset(16, 16, 'valid')
tcfg = TrainConfig(lr=1e-3, bs=16, steps=steps, seed=seed, ema_decay=0.9, save_every=1000, precision='fp32')
model, learn, ema = train(out / 'run', unet_config('tiny'), tcfg, tr, va, device=device, progress=False, extra_cbs=[Backend()])
torch.save(dict(raw={k: v.cpu() for k, v in model.state_dict().items()}, ema={k: v.cpu() for k, v in ema.ema.module.state_dict().items()},
                step=learn.train_iter, backend=Backend.backend), out / f'rank{rank_distrib()}.pt')
