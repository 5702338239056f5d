"""Training-step throughput against diffusers' UNet2DModel, and how the factorized model's cost grows with K.

  pip install diffusers                    # optional: only this benchmark uses it
  python bench/bench_train.py              # CPU rows at 32 and 64 px, appended to bench/RESULTS.md, K scaling to bench/k_scaling.csv
  python bench/bench_train.py --presets paper64 --bs 128 --device cuda --bf16 --compile   # the GPU rows (paper's 64x64 config)

Rows, each measured side by side in one run (median of --reps steps after a warm-up):
  peers:     img/s of a training step (forward + backward + Adam) for (a) the project's baseline U-Net, (b) the factorized
             U-Net and (c) diffusers.UNet2DModel configured to match (a): same channels, blocks per stage, attention
             resolutions, heads; parameter counts printed. Targets: (a) >= 1.0x (c); (b)'s step time <= FLOP ratio x (a)'s.
  K scaling: step time and activation memory (bytes of tensors saved for backward, counted with
             torch.autograd.graph.saved_tensors_hooks: exact and device-independent) for K = 1..8, relative to K=1.
  chunks:    the factorized step with the folded decoder run on all B images at once (B*K rows) against
             FactorizedUNet.decode_chunk = n images at a time, the same model and batch, steps interleaved.
  python bench/bench_train.py --sections chunks --chunks 16 8 4   # only the decode-chunk rows
"""
import argparse, csv, datetime, platform, sys, time
from pathlib import Path
import torch
from torch.utils.flop_counter import FlopCounterMode

from factorized_diffusion.unet import unet_config, UNet
from factorized_diffusion.factorized import FactorizedUNet

def diffusers_twin(cfg):
    "diffusers.UNet2DModel with the same widths, blocks, attention resolutions and heads as the project's UNet(cfg)."
    from diffusers import UNet2DModel
    res = [cfg.img_size // 2 ** i for i in range(len(cfg.ch_mult))]
    down = tuple('AttnDownBlock2D' if r in cfg.attn_res else 'DownBlock2D' for r in res)
    up = tuple('AttnUpBlock2D' if r in cfg.attn_res else 'UpBlock2D' for r in reversed(res))
    chans = tuple(cfg.ch * m for m in cfg.ch_mult)
    return UNet2DModel(sample_size=cfg.img_size, in_channels=cfg.in_ch, out_channels=cfg.in_ch, layers_per_block=cfg.num_res_blocks,
                       block_out_channels=chans, down_block_types=down, up_block_types=up, dropout=cfg.dropout,
                       attention_head_dim=chans[0] // cfg.heads if cfg.heads > 1 else None, norm_num_groups=min(32, cfg.ch),
                       resnet_time_scale_shift='default')

def _out(o):
    if hasattr(o, 'sample'): return o.sample
    return o[0] if isinstance(o, tuple) else o

def step_fn(model, x, t, opt, amp):
    def step():
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            loss = _out(model(x, t)).float().pow(2).mean()
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    return step

def timeit(fn, reps, device):
    fn(); fn()                                                           # warm-up (and compile)
    ts = []
    for _ in range(reps):
        if device.type == 'cuda': torch.cuda.synchronize()
        t0 = time.perf_counter(); fn()
        if device.type == 'cuda': torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]

def fwd_bwd_flops(model, x, t):
    with FlopCounterMode(display=False) as fc: _out(model(x, t)).float().pow(2).mean().backward()
    model.zero_grad(set_to_none=True)
    return fc.get_total_flops()

def saved_bytes(model, x, t):
    "Bytes of the tensors autograd saves for backward in one forward pass (activation memory)."
    total = [0]
    def pack(tn): total[0] += tn.numel() * tn.element_size(); return tn
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tn: tn): loss = _out(model(x, t)).float().pow(2).mean()
    loss.backward(); model.zero_grad(set_to_none=True)
    return total[0]

def make_opt(model, device):
    return torch.optim.Adam(model.parameters(), lr=1e-4, fused=device.type == 'cuda')

def peer_rows(preset, bs, reps, device, amp, compile_, decode_chunk=None, checkpoint_decoder=False, only=None):
    """One row per model: baseline U-Net, factorized U-Net (folded decoder on `decode_chunk` images at a time, or all),
    diffusers' twin. A model that runs out of GPU memory gets a row saying so instead of ending the run."""
    cfg = unet_config(preset)
    x, t = torch.randn(bs, 3, cfg.img_size, cfg.img_size, device=device), torch.randint(0, 1000, (bs,), device=device)
    def factorized():
        m = FactorizedUNet(cfg); m.decode_chunk, m.checkpoint_decoder = decode_chunk or -1, checkpoint_decoder; return m   # None: one call (-1)
    builders = dict(ours=lambda: UNet(cfg), factorized=factorized, diffusers=lambda: diffusers_twin(cfg))
    models = {}
    for name, build in builders.items():
        if only and name not in only: continue
        try: models[name] = build()
        except ImportError: print('diffusers is not installed: pip install diffusers (peer row skipped)')
    res, steps = {}, {}
    for name, m in models.items():
        m = m.to(device)
        if device.type == 'cuda': m = m.to(memory_format=torch.channels_last)
        try:
            fl = fwd_bwd_flops(m, x, t)
            run = torch.compile(m) if compile_ else m
            if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
            step = step_fn(run, x, t, make_opt(m, device), amp)
            # GPU: each model timed alone (then moved off, so the next one's peak memory is its own). CPU: the models'
            # steps are interleaved below, so that a busy or drifting machine slows them alike.
            sec = timeit(step, reps, device) if device.type == 'cuda' else None
            mem = torch.cuda.max_memory_allocated() / 2 ** 30 if device.type == 'cuda' else saved_bytes(m, x, t) / 2 ** 30
            res[name] = dict(params=sum(p.numel() for p in m.parameters()), sec=sec, flops=fl, mem=mem)
            if device.type != 'cuda': steps[name] = step
        except torch.OutOfMemoryError:
            res[name] = None
        if device.type == 'cuda':
            run = step = None; m.zero_grad(set_to_none=True)
            models[name] = m.cpu(); del m                                   # free the GPU for the next model's peak memory
            torch.cuda.empty_cache()
    if steps:
        for s in steps.values(): s(); s()                                   # warm-up
        ts = {n: [] for n in steps}
        for _ in range(reps):
            for n, s in steps.items():
                t0 = time.perf_counter(); s(); ts[n].append(time.perf_counter() - t0)
        for n, v in ts.items(): res[n]['sec'] = sorted(v)[len(v) // 2]
    lines = []
    name_of = lambda n: ', '.join(['factorized'] + ([f'decode_chunk {decode_chunk}'] if decode_chunk else []) +
                                  (['checkpoint_decoder'] if checkpoint_decoder else [])) if n == 'factorized' else n
    ok = {n: r for n, r in res.items() if r is not None}
    for name, r in res.items():
        if r is None:
            lines.append(f"| {preset} | {bs} | {name_of(name)} | | out of GPU memory | | | | |" + (" |" if device.type == 'cuda' else '')); continue
        rel = f"{(bs / r['sec']) / (bs / ok['diffusers']['sec']):.2f}x" if 'diffusers' in ok else '-'
        mfu = ''
        if device.type == 'cuda': mfu = f" | {100 * r['flops'] / r['sec'] / 989e12:.1f}%"          # H100/H200 SXM dense bf16 peak
        lines.append(f"| {preset} | {bs} | {name_of(name)} | {r['params'] / 1e6:.2f}M | {r['sec'] * 1000:.0f} | {bs / r['sec']:.1f} | {rel} | "
                     f"{r['flops'] / 1e9:.1f} | {r['mem']:.2f}{mfu} |")
    verdict = []
    if 'ours' in ok and 'factorized' in ok:
        a, b = ok['ours'], ok['factorized']
        bound = b['flops'] / a['flops'] * a['sec']
        verdict.append(f"\n{preset}: factorized/ours FLOP ratio {b['flops'] / a['flops']:.2f}, time ratio {b['sec'] / a['sec']:.2f}: "
                       f"{'within' if b['sec'] <= bound else 'NOT within'} the FLOP bound ({b['sec'] / bound:.2f} of it).")
    if 'ours' in ok and 'diffusers' in ok:
        a, d = ok['ours'], ok['diffusers']
        verdict.append(f"{preset}: ours/diffusers img/s {d['sec'] / a['sec']:.2f}x (target >= 1.0x: {'met' if a['sec'] <= d['sec'] else 'NOT met'}); "
                       f"parameters ours/diffusers {a['params'] / d['params']:.3f} (must be within 5%).")
    return lines, verdict

def k_rows(preset, bs, reps, device, Ks, csv_path, chunk=None):
    cfg0 = unet_config(preset)
    x, t = torch.randn(bs, 3, cfg0.img_size, cfg0.img_size, device=device), torch.randint(0, 1000, (bs,), device=device)
    out = []
    for K in Ks:
        m = FactorizedUNet(unet_config(preset, K=K)).to(device); m.decode_chunk = -1   # one call; chunked below
        sec = timeit(step_fn(m, x, t, make_opt(m, device), False), reps, device)
        r = dict(preset=preset, bs=bs, K=K, ms=sec * 1000, act_mb=saved_bytes(m, x, t) / 2 ** 20, gflops=fwd_bwd_flops(m, x, t) / 1e9)
        if chunk:   # the same model with the decoder run on `chunk` images at a time, measured right after
            m.decode_chunk = chunk
            r['ms_chunked'] = timeit(step_fn(m, x, t, make_opt(m, device), False), reps, device) * 1000
        out.append(r)
    base = out[0]
    for r in out: r.update(time_vs_K1=r['ms'] / base['ms'], act_vs_K1=r['act_mb'] / base['act_mb'], flops_vs_K1=r['gflops'] / base['gflops'])
    if chunk:
        for r in out: r['chunked_vs_K1'] = r['ms_chunked'] / base['ms_chunked']
    if csv_path:
        new = not Path(csv_path).exists()
        with open(csv_path, 'a', newline='') as f:
            cols = ['date', 'preset', 'bs', 'K', 'ms', 'act_mb', 'gflops', 'time_vs_K1', 'act_vs_K1', 'flops_vs_K1']   # the chunked times: RESULTS.md only
            w = csv.DictWriter(f, fieldnames=cols, extrasaction='ignore'); new and w.writeheader()
            for r in out: w.writerow(dict(date=f'{datetime.datetime.now():%Y-%m-%d %H:%M}', **r))
    return [f"| {preset} | {r['bs']} | {r['K']} | {r['ms']:.0f} | {r['time_vs_K1']:.2f} | {r['gflops']:.1f} | {r['flops_vs_K1']:.2f} | "
            f"{r['act_mb']:.0f} | {r['act_vs_K1']:.2f} |" + (f" {r['ms_chunked']:.0f} | {r['chunked_vs_K1']:.2f} |" if chunk else '') for r in out]

def chunk_rows(preset, bs, reps, device, chunks, amp=False):
    cfg = unet_config(preset)
    x, t = torch.randn(bs, 3, cfg.img_size, cfg.img_size, device=device), torch.randint(0, 1000, (bs,), device=device)
    m = FactorizedUNet(cfg).to(device); opt = make_opt(m, device); step = step_fn(m, x, t, opt, amp)
    def run(n):
        m.decode_chunk = -1 if n is None else n              # None: one call
        if device.type == 'cuda': torch.cuda.synchronize()
        t0 = time.perf_counter(); step()
        if device.type == 'cuda': torch.cuda.synchronize()
        return time.perf_counter() - t0
    opts = []
    for n in [None, *chunks]:                                             # warm-up; a size that runs out of memory is dropped
        try: run(n); opts.append(n)
        except torch.OutOfMemoryError: opt.zero_grad(set_to_none=True); torch.cuda.empty_cache(); print(f'decode_chunk {n}: out of GPU memory')
    ts = {n: [] for n in opts}
    for _ in range(reps):
        for n in opts: ts[n].append(run(n))                               # interleaved: the same machine state for every option
    med = {n: sorted(v)[len(v) // 2] for n, v in ts.items()}
    ref = med.get(None)
    rows = [] if ref else [f"| {preset} | {bs} | all (one call) | out of GPU memory | |"]
    return rows + [f"| {preset} | {bs} | {'all (one call)' if n is None else n} | {med[n] * 1000:.0f} | "
                   f"{f'{ref / med[n]:.2f}x' if ref else f'{med[opts[0]] / med[n]:.2f}x vs {opts[0]}'} |" for n in opts]

def ckpt_rows(preset, bs, device):
    "Activation memory stored for backward (exact bytes, device-independent) with and without checkpoint_decoder."
    cfg = unet_config(preset)
    x, t = torch.randn(bs, 3, cfg.img_size, cfg.img_size, device=device), torch.randint(0, 1000, (bs,), device=device)
    torch.manual_seed(0)
    u, f = UNet(cfg).to(device), FactorizedUNet(cfg).to(device)
    r = dict(ours=saved_bytes(u, x, t), factorized=saved_bytes(f, x, t))
    f.checkpoint_decoder = True; r['factorized, checkpoint_decoder'] = saved_bytes(f, x, t)
    return [f"| {preset} | {bs} | {n} | {v / 2 ** 30:.3f} | {v / 2 ** 30 / bs * 128:.1f} | {v / r['factorized']:.2f} |" for n, v in r.items()]

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--presets', nargs='+', default=['small32', 'small64'])
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--Ks', type=int, nargs='+', default=[1, 2, 3, 4, 6, 8])
    ap.add_argument('--k_preset', default='small32')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--bf16', action='store_true', help='bf16 autocast (GPU)')
    ap.add_argument('--compile', action='store_true', help='torch.compile the models')
    ap.add_argument('--k_decode_chunk', type=int, default=None, help='K scaling: also time each K with this decode_chunk')
    ap.add_argument('--chunks', type=int, nargs='+', default=[16, 8, 4], help='decode_chunk values for the chunks section')
    ap.add_argument('--sections', nargs='+', default=['peers', 'k', 'chunks'], choices=['peers', 'k', 'chunks', 'ckpt'])
    ap.add_argument('--no-write', action='store_true', help='print only; do not append to bench/RESULTS.md or k_scaling.csv')
    a = ap.parse_args()
    dev = torch.device(a.device)
    lines = [f"\n## {datetime.datetime.now():%Y-%m-%d %H:%M} - training steps, {platform.processor() or platform.machine()}, device {a.device}"
             f"{' (' + torch.cuda.get_device_name() + ')' if dev.type == 'cuda' else ''}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
             f"Command: `{' '.join([Path(sys.executable).name] + sys.argv)}`\n",
             ]
    if 'peers' in a.sections: lines += [
             "Training step (forward + backward + Adam), median ms; FLOPs of forward + backward; memory: "
             + ("peak CUDA GiB" if dev.type == 'cuda' else "activations saved for backward, GiB") + "\n",
             "| preset | batch | model | params | step ms | img/s | img/s vs diffusers | GFLOPs | memory |" + (" MFU |" if dev.type == 'cuda' else ''),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if dev.type == 'cuda' else '')]
    verdicts = []
    for p in a.presets if 'peers' in a.sections else []:
        l, v = peer_rows(p, a.bs, a.reps, dev, a.bf16, a.compile); lines += l; verdicts += v
    lines += verdicts
    if 'k' in a.sections:
        extra = [f'step ms, {a.k_decode_chunk} images per decoder call', 'that, vs K=1'] if a.k_decode_chunk else []
        cols = ['preset', 'batch', 'K', 'step ms', 'time vs K=1', 'GFLOPs', 'FLOPs vs K=1', 'activations MiB', 'activations vs K=1', *extra]
        lines += [f"\nScaling with K ({a.k_preset}, batch {a.bs}; no autocast, no compile):\n",
                  '| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
        lines += k_rows(a.k_preset, a.bs, a.reps, dev, a.Ks, None if a.no_write else Path(__file__).parent / 'k_scaling.csv', a.k_decode_chunk)
    if 'chunks' in a.sections:
        lines += [f"\nFolded decoder in chunks (factorized, K=3, batch {a.bs}; step ms, median of {a.reps} interleaved steps):\n",
                  "| preset | batch | images per decoder call | step ms | speed vs one call |", "|---|---|---|---|---|"]
        for p in a.presets: lines += chunk_rows(p, a.bs, a.reps, dev, a.chunks)
    if 'ckpt' in a.sections:
        lines += [f"\nActivations stored for backward, fp32 (bf16 halves them), with and without checkpoint_decoder:\n",
                  "| preset | batch | model | GiB | GiB at batch 128 | vs factorized |", "|---|---|---|---|---|---|"]
        for p in a.presets: lines += ckpt_rows(p, a.bs, dev)
    text = '\n'.join(lines)
    print(text)
    if not a.no_write:
        with open(Path(__file__).parent / 'RESULTS.md', 'a') as f: f.write(text + '\n')

if __name__ == '__main__': main()
