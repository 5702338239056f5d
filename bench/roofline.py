"""Where a training step's time must go on a GPU, computed on the CPU (issue #29): every operator of one forward +
backward pass, its FLOPs and the bytes it reads and writes, and a roofline bound on its time on a given GPU.

  python bench/roofline.py                          # paper64, batch 128, baseline U-Net and factorized model, H200 numbers
  python bench/roofline.py --presets paper64 --bs 128 --peak_tflops 989 --hbm_tbs 3.35   # H100 SXM

No arithmetic runs: the models run on PyTorch's `meta` device, which computes shapes only, so the paper's batch costs
nothing here. Every floating tensor is counted at 2 bytes, as bf16 (what autocast gives the convolutions and matmuls;
the norms and softmax that autocast keeps in fp32 move more, so the bytes are a lower bound). An operator's time is at least
max(FLOPs / peak FLOP/s, bytes / memory bandwidth). Two bounds on MFU follow:
  eager:   every operator reads its inputs from memory and writes its outputs (PyTorch without compile);
  fused:   only convolutions and matmuls move memory; every norm, activation, addition and copy is fused into them for
           free (more than torch.compile can do): the best MFU any fusion could reach.
If `fused` is below a target, no amount of compile, CUDA graphs or fused kernels reaches it at this batch.
"""
import argparse, datetime, sys
from collections import defaultdict
from pathlib import Path
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry
from torch.utils._pytree import tree_flatten

from factorized_diffusion.unet import unet_config, UNet
from factorized_diffusion.factorized import FactorizedUNet
sys.path.insert(0, str(Path(__file__).parent))
from bench_train import _out                                                    # the model output's noise prediction

NO_MEMORY = {'view', '_unsafe_view', 'reshape', 'expand', 't', 'transpose', 'permute', 'unsqueeze', 'squeeze', 'slice', 'select',
             'as_strided', 'detach', 'alias', 'split', 'split_with_sizes', 'unbind', 'chunk', '_reshape_alias', 'lift_fresh',
             'empty', 'empty_like', 'empty_strided', 'new_empty', 'new_empty_strided', 'ones_like', 'zeros_like', 'zero_', 'fill_'}

def category(name:str) -> str:
    if 'convolution' in name: return 'convolution'
    if name in ('mm', 'bmm', 'addmm', 'baddbmm') or 'scaled_dot_product' in name: return 'matmul / attention'
    if 'norm' in name: return 'group norm'
    return 'elementwise, copies, other'

def nbytes(xs) -> int:
    "Bytes of the tensors in `xs`, floating ones counted as bf16 (2 bytes)."
    return sum(x.numel() * (2 if x.is_floating_point() else x.element_size()) for x in tree_flatten(xs)[0] if isinstance(x, torch.Tensor))

class OpCounter(TorchDispatchMode):
    "FLOPs (torch.utils.flop_counter's formulas) and bytes read + written per operator category."
    def __init__(self):
        super().__init__(); self.flops, self.bytes, self.calls = defaultdict(float), defaultdict(float), defaultdict(int)
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func._overloadpacket.__name__
        if name in NO_MEMORY: return out
        cat = category(name)
        if func._overloadpacket in flop_registry: self.flops[cat] += flop_registry[func._overloadpacket](*args, **kwargs, out_val=out)
        self.bytes[cat] += nbytes((args, kwargs)) + nbytes(out); self.calls[cat] += 1
        return out

def count(model, bs):
    cfg = model.cfg
    x = torch.randn(bs, cfg.in_ch, cfg.img_size, cfg.img_size, device='meta')
    t = torch.zeros(bs, dtype=torch.long, device='meta')
    with OpCounter() as c: _out(model(x, t)).float().pow(2).mean().backward()
    return c

def rows(preset, bs, peak, bw):
    out, res = [], {}
    for name, build in (('ours (baseline U-Net)', UNet), ('factorized', FactorizedUNet)):
        with torch.device('meta'): m = build(unet_config(preset))
        m.decode_chunk = -1                                                     # the folded decoder in one call
        c = count(m, bs)
        cats = sorted(c.bytes, key=lambda k: -c.bytes[k])
        tot_f = sum(c.flops.values())
        t_eager = {k: max(c.flops[k] / peak, c.bytes[k] / bw) for k in cats}
        heavy = ('convolution', 'matmul / attention')
        t_fused = sum(max(c.flops[k] / peak, c.bytes[k] / bw) for k in heavy) + sum(c.flops[k] / peak for k in cats if k not in heavy)
        te = sum(t_eager.values())
        res[name] = dict(flops=tot_f, eager=te, fused=t_fused)
        for k in cats:
            out.append(f"| {preset} | {bs} | {name} | {k} | {c.calls[k]} | {c.flops[k] / 1e12:.2f} | {c.bytes[k] / 1e9:.1f} | "
                       f"{1e3 * t_eager[k]:.1f} | {100 * t_eager[k] / te:.0f}% |")
        out.append(f"| {preset} | {bs} | {name} | **all** | {sum(c.calls.values())} | {tot_f / 1e12:.2f} | {sum(c.bytes.values()) / 1e9:.1f} | "
                   f"{1e3 * te:.1f} | eager MFU at most **{100 * tot_f / peak / te:.0f}%**, fused at most **{100 * tot_f / peak / t_fused:.0f}%** |")
    return out, res

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--presets', nargs='+', default=['paper64'])
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--peak_tflops', type=float, default=989, help='dense bf16 peak (H100 and H200 SXM: 989)')
    ap.add_argument('--hbm_tbs', type=float, default=4.8, help='memory bandwidth, TB/s (H200: 4.8, H100 SXM: 3.35)')
    ap.add_argument('--no-write', action='store_true')
    a = ap.parse_args()
    peak, bw = a.peak_tflops * 1e12, a.hbm_tbs * 1e12
    lines = [f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} - roofline of a training step, computed on the CPU (meta tensors), torch {torch.__version__}",
             f"Command: `{' '.join(['python'] + sys.argv)}`; bound per operator: max(FLOPs / {a.peak_tflops:g} TFLOP/s, bytes / {a.hbm_tbs:g} TB/s); "
             "bf16 activations; forward + backward, optimizer not counted\n",
             "| preset | batch | model | operators | calls | TFLOPs | GB moved | eager bound ms | share of eager time |", "|---|---|---|---|---|---|---|---|---|"]
    for p in a.presets: lines += rows(p, a.bs, peak, bw)[0]
    text = '\n'.join(lines); print(text)
    if not a.no_write:
        with open(Path(__file__).parent / 'RESULTS.md', 'a') as f: f.write(text + '\n')

if __name__ == '__main__': main()
