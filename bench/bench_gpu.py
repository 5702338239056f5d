"""The GPU rows of issue #19 in one command; every ratio is measured side by side in this one run.

  python bench/bench_gpu.py                     # all sections, appended to bench/RESULTS.md (needs a CUDA GPU)
  python bench/bench_gpu.py --sections seg sample --no-write
  python bench/bench_gpu.py --dry_run           # every section on the CPU with tiny sizes, nothing written (make gpu's dry run)
  pip install diffusers                         # optional: the UNet2DModel peer rows need it

Sections:
  train:   a training step (forward + backward + fused Adam) of the baseline U-Net, the factorized U-Net and diffusers'
           UNet2DModel at the paper's 64x64 config (`paper64`, batch 128) in fp32 (TF32 convolutions, PyTorch's default),
           bf16 autocast, and bf16 autocast + torch.compile: images/s, peak memory, model FLOPs utilisation (FLOPs counted
           by torch.utils.flop_counter over the GPU's dense bf16 peak), the factorized step against its FLOP bound
           (FLOP ratio x the baseline's step time); then the factorized step with `decode_chunk` (bench_train.chunk_rows).
  seg:     the decoder-free mask path (Eq. 4), batched, bf16 autocast, images/s at 64 px (paper64) and 128 px (paper128),
           against a full factorized forward and against OpenCV GrabCut (one CPU thread per image) on the same images.
  profile: the device time of a bf16 step of the baseline and the factorized model by operator category (convolution,
           group norm, matmul / attention, the rest), next to bench/roofline.py's bound.
  sample:  DDIM-50 and DDPM-1000 images/s of the factorized paper64 model at batch 256 in bf16 autocast.
Throughput does not depend on the weights, so the models are freshly initialised (seeded).
"""
import argparse, datetime, platform, sys, time
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_train import peer_rows, chunk_rows, timeit, step_fn, make_opt                                  # the same step and rows as the CPU bench
from factorized_diffusion.unet import unet_config, UNet
from factorized_diffusion.factorized import FactorizedUNet
from factorized_diffusion.data import ShapesDataset
from factorized_diffusion.baselines import grabcut_masks
from factorized_diffusion.sampling import ddpm_sample, ddim_sample
from factorized_diffusion.scheduler import DDPMScheduler

def train_section(a):
    out = ["Training step (forward + backward + fused Adam), median ms; FLOPs of forward + backward; memory: peak CUDA GiB; "
           "MFU: achieved FLOP/s over the dense bf16 peak (989 TFLOP/s, H100/H200 SXM)\n",
           "| precision | preset | batch | model | params | step ms | img/s | img/s vs diffusers | GFLOPs | memory | MFU |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    dev = torch.device(a.device)
    for label, amp, comp in (('fp32', False, False), ('bf16', True, False), ('bf16 + compile', True, True)):
        if label not in a.precisions: continue
        torch._dynamo.reset()
        lines, v = peer_rows(a.preset, a.bs, a.reps, dev, amp, comp)
        out += [f"| {label} {l}" for l in lines]; verdicts += [f"{label}: {x.strip()}" for x in v]
        print('\n'.join(out[-len(lines):]), flush=True)
    for label, amp in (('fp32', False), ('bf16', True)):               # what makes the factorized model fit at batch 128
        if label not in a.precisions: continue
        lines, v = peer_rows(a.preset, a.bs, a.reps, dev, amp, False, decode_chunk=a.ckpt_chunk,
                             checkpoint_decoder=True, only=('factorized',))
        out += [f"| {label} {l}" for l in lines]; print(out[-1], flush=True)
    out += [''] + verdicts
    for label, amp in (('bf16', True), ('fp32', False)):
        if label not in a.chunk_precisions: continue
        out += [f"\nFolded decoder in chunks ({a.preset}, K=3, batch {a.bs}, {label}; step ms, median of {a.reps} interleaved steps):\n",
                "| preset | batch | images per decoder call | step ms | speed vs one call |", "|---|---|---|---|---|"]
        out += chunk_rows(a.preset, a.bs, a.reps, dev, a.chunks, amp=amp)
        print('\n'.join(out[-len(a.chunks) - 1:]), flush=True)
        if dev.type == 'cuda': torch.cuda.empty_cache()
    return out

def seg_section(a):
    out = [f"\nSegmentation: the mask path in bf16 autocast, images/s (GrabCut: {a.n_grabcut} images, one CPU "
           "thread each, 5 iterations)\n",
           "| size | model | mask path img/s | full forward img/s | GrabCut img/s | mask path vs full | mask path vs GrabCut |",
           "|---|---|---|---|---|---|---|"]
    import cv2; cv2.setNumThreads(1)
    for preset, bs in zip(a.seg_presets, (a.seg_bs, max(1, a.seg_bs // 4))):
        torch.manual_seed(0)
        size = unet_config(preset).img_size
        m = FactorizedUNet(unet_config(preset)).to(a.device).eval().to(memory_format=torch.channels_last)
        x = ShapesDataset(bs, size, 'test').images
        xc, t = x.to(a.device).contiguous(memory_format=torch.channels_last), torch.full((bs,), 30, device=a.device)
        with torch.no_grad(), torch.autocast(xc.device.type, dtype=torch.bfloat16):
            t_mask = timeit(lambda: m.masks(xc, t), a.reps, xc.device)
            t_full = timeit(lambda: m(xc, t), a.reps, xc.device)
        n = a.n_grabcut
        t0 = time.perf_counter(); grabcut_masks(x[:n]); t_gc = (time.perf_counter() - t0) / n
        ips = dict(mask=bs / t_mask, full=bs / t_full, gc=1 / t_gc)
        out.append(f"| {size} | {preset}, batch {bs} | {ips['mask']:.0f} | {ips['full']:.0f} | {ips['gc']:.0f} | {ips['mask'] / ips['full']:.2f}x | "
                   f"{ips['mask'] / ips['gc']:.0f}x |")
        print(out[-1], flush=True)
        del m
    return out

def sample_section(a):
    out = [f"\nSampling ({a.sample_preset}, factorized, batch {a.sample_bs}, bf16 autocast; one timed run each after a 2-step warm-up)\n",
           "| sampler | network calls | seconds | img/s | speed vs DDPM-1000 |", "|---|---|---|---|---|"]
    torch.manual_seed(0)
    m = FactorizedUNet(unet_config(a.sample_preset)).to(a.device).eval().to(memory_format=torch.channels_last)
    res, sync = {}, (torch.cuda.synchronize if a.device.startswith('cuda') else lambda: None)
    with torch.autocast(torch.device(a.device).type, dtype=torch.bfloat16):
        ddim_sample(m, n=a.sample_bs, steps=2, progress=False)                    # warm-up (cuDNN algorithm choice)
        for name, fn in (('DDIM-50', lambda: ddim_sample(m, n=a.sample_bs, steps=50, progress=False)),
                         ('DDPM-1000', lambda: ddpm_sample(m, n=a.sample_bs, progress=False, sched=DDPMScheduler(T=a.ddpm_timed)))):
            sync(); t0 = time.perf_counter(); fn(); sync(); res[name] = time.perf_counter() - t0
            if name == 'DDPM-1000': res[name] *= 1000 / a.ddpm_timed      # the same network call and update per step
            print(name, f'{res[name]:.1f}s', flush=True)
    for name, calls in (('DDIM-50', 50), ('DDPM-1000', 1000)):
        label = name + (f' (timed over {a.ddpm_timed} steps, scaled)' if name == 'DDPM-1000' and a.ddpm_timed != 1000 else '')
        out.append(f"| {label} | {calls} | {res[name]:.1f} | {a.sample_bs / res[name]:.1f} | {res['DDPM-1000'] / res[name]:.1f}x |")
    return out

def profile_section(a):
    """Where a bf16 training step's time goes (eager, channels_last, batch --bs): the profiler's device time (CPU time in a
    dry run) per operator category, for the baseline U-Net and the factorized model; bench/roofline.py gives the bound."""
    from torch.profiler import profile, ProfilerActivity
    sys.path.insert(0, str(Path(__file__).parent)); from roofline import category
    dev = torch.device(a.device)
    out = [f"\nProfile of a bf16 training step ({a.preset}, batch {a.bs}, eager, channels_last; {a.reps} profiled steps after 2): "
           "share of the operators' self time\n", "| model | step ms | convolution | group norm | matmul / attention | elementwise, copies, other |",
           "|---|---|---|---|---|---|"]
    cfg = unet_config(a.preset)
    for name, build in (('ours', UNet), ('factorized', FactorizedUNet)):
        torch.manual_seed(0)
        m = build(cfg).to(dev).to(memory_format=torch.channels_last)
        x = torch.randn(a.bs, 3, cfg.img_size, cfg.img_size, device=dev).contiguous(memory_format=torch.channels_last)
        t = torch.randint(0, 1000, (a.bs,), device=dev)
        step = step_fn(m, x, t, make_opt(m, dev), True)
        try:
            step(); step()
            acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
            with profile(activities=acts) as prof:
                for _ in range(a.reps): step()
                if dev.type == 'cuda': torch.cuda.synchronize()
        except torch.OutOfMemoryError:
            out.append(f"| {name} | out of GPU memory | | | | |"); continue
        finally:
            del m; dev.type == 'cuda' and torch.cuda.empty_cache()
        attr = 'self_device_time_total' if dev.type == 'cuda' else 'self_cpu_time_total'
        share = {}
        for e in prof.key_averages():
            if e.key.startswith('aten::'): share[category(e.key[6:])] = share.get(category(e.key[6:]), 0) + getattr(e, attr)
        tot = sum(share.values()) or 1
        step_ms = tot / 1e3 / a.reps
        out.append(f"| {name} | {step_ms:.0f} | " + ' | '.join(f"{100 * share.get(c, 0) / tot:.0f}%" for c in
                   ('convolution', 'group norm', 'matmul / attention', 'elementwise, copies, other')) + ' |')
        print(out[-1], flush=True)
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sections', nargs='+', default=['train', 'profile', 'seg', 'sample'], choices=['train', 'profile', 'seg', 'sample'])
    ap.add_argument('--preset', default='paper64')
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--reps', type=int, default=10)
    ap.add_argument('--precisions', nargs='+', default=['fp32', 'bf16', 'bf16 + compile'])
    ap.add_argument('--chunks', type=int, nargs='+', default=[64, 32, 16])
    ap.add_argument('--ckpt_chunk', type=int, default=32, help='decode_chunk of the checkpoint_decoder rows')
    ap.add_argument('--chunk_precisions', nargs='*', default=['bf16', 'fp32'])
    ap.add_argument('--seg_bs', type=int, default=256, help='batch of the first --seg_presets (a quarter of it for the second)')
    ap.add_argument('--seg_presets', nargs='+', default=['paper64', 'paper128'])
    ap.add_argument('--n_grabcut', type=int, default=64)
    ap.add_argument('--sample_preset', default='paper64')
    ap.add_argument('--sample_bs', type=int, default=256)
    ap.add_argument('--ddpm_timed', type=int, default=1000, help='time DDPM over this many steps (a T=N schedule) and scale to 1000')
    ap.add_argument('--out_md', default=None, help='also write this run\'s rows to this file')
    ap.add_argument('--no-write', action='store_true', help='print only; do not append to bench/RESULTS.md')
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--dry_run', action='store_true', help='every section on the CPU with tiny sizes, nothing appended (a typo costs no GPU time)')
    a = ap.parse_args()
    if a.dry_run:
        a.__dict__.update(device='cpu', preset='tiny', bs=2, reps=1, chunks=[1], ckpt_chunk=1, chunk_precisions=[p for p in a.chunk_precisions if p == 'fp32'], seg_bs=4,
                          seg_presets=['tiny', 'tiny'], n_grabcut=2, sample_preset='tiny', sample_bs=2, ddpm_timed=2, no_write=True,
                          precisions=[p for p in a.precisions if 'compile' not in p])
    elif not torch.cuda.is_available(): sys.exit('bench_gpu.py needs a CUDA GPU (use bench_cpu.py / bench_train.py on a CPU, or --dry_run)')
    try: import diffusers; dv = f', diffusers {diffusers.__version__}'
    except ImportError: dv = ', diffusers not installed'
    where = f"GPU: {torch.cuda.get_device_name()}" if a.device.startswith('cuda') else 'DRY RUN on the CPU (tiny sizes; no number here means anything)'
    lines = [f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} - {where}, torch {torch.__version__}, "
             f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, Python {platform.python_version()}{dv}",
             f"Command: `{' '.join(['python'] + sys.argv)}`\n"]
    for s, fn in (('train', train_section), ('profile', profile_section), ('seg', seg_section), ('sample', sample_section)):
        if s in a.sections: lines += fn(a)
    text = '\n'.join(lines)
    print(text)
    if a.out_md: Path(a.out_md).write_text(text + '\n')
    if not a.no_write:
        with open(Path(__file__).parent / 'RESULTS.md', 'a') as f: f.write(text + '\n')

if __name__ == '__main__': main()
