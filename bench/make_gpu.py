"""`make gpu` (issue #29): the GPU checks, benchmark rows and a 64 px training run in one command, each section under its
own time cap, everything written under one folder, so that a section that hangs or fails loses only itself.

  python bench/make_gpu.py                          # on a CUDA machine: data/gpu/<date>/, rows appended to bench/RESULTS.md
  python bench/make_gpu.py --dry_run --out DIR      # the same sections on the CPU with tiny sizes (tests/test_make_gpu.py)
  python bench/make_gpu.py --sections bench train --caps train=400

Sections, in order (default caps in seconds: 8 minutes in all, the machine's start-up not counted):
  tests   (60)   pytest -m cuda tests/test_cuda.py, numbers to tests/cuda_checks.json (FD_CUDA_REPORT)
  bench   (80)   bench/bench_gpu.py: training step fp32 / bf16 with peak memory, MFU and the FLOP bound, checkpoint_decoder
                 rows, decode_chunk rows, the bf16 step's profile by operator category, the mask path, DDIM-50 and
                 DDPM-1000 -> bench/bench.md (bench/roofline.py, run on the CPU, gives the bounds to read them against)
  compile (80)   the training-step rows in bf16 + torch.compile, in a section of their own since compiling may be slow
                 -> bench/compile.md
  train   (230)  fd_train TRAIN_ARGS with --eval_every: at the cap it gets SIGTERM, finishes its step and saves
                 (07d_training), so what it reached is kept -> train/ (curve.csv, loss.csv, checkpoint/, samples)
  report  (30)   fd_segment on the textured family with GrabCut and K-means, and fd_sample (DDIM) of images with their masks
                 -> report/segment/, report/samples/
The dry run has no compile section's rows (compiling on the CPU takes minutes; tests/test_compile_graph.py checks that
each network traces as one graph instead).
Every section writes SECTION.log; summary.json holds each one's command, exit status, seconds and whether the cap
stopped it. The run never stops early: a failed section is recorded and the next one starts.
"""
import argparse, datetime, json, os, shlex, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CAPS = dict(tests=60, bench=80, compile=80, train=230, report=30)
TRAIN_ARGS = '--data textures --preset photos64 --bs 128 --eval_every 200 --sample_every 1000 --steps 100000 --report_after False'
DRY = dict(caps=dict(tests=120, bench=120, compile=120, train=60, report=120),
           train='--data textures --preset tiny --bs 4 --n_train 32 --eval_every 2 --steps 100000 --report_after False --device cpu')

def run_section(name, cmds, cap, out, env, grace=60):
    """Run `cmds` (argument lists) one after the other under one cap of `cap` seconds, output to OUT/NAME.log. At the
    cap the running command gets SIGTERM, then `grace` seconds, then SIGKILL of its process group."""
    t0, rc, capped = time.time(), 0, False
    with open(out / f'{name}.log', 'w') as log:
        for cmd in cmds:
            left = cap - (time.time() - t0)
            if left <= 0: capped = True; break
            log.write(f'$ {shlex.join(map(str, cmd))}\n'); log.flush()
            p = subprocess.Popen(list(map(str, cmd)), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True)
            try: rc = p.wait(timeout=left)
            except subprocess.TimeoutExpired:
                capped = True; p.send_signal(signal.SIGTERM)
                try: rc = p.wait(timeout=grace)
                except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); rc = p.wait()
            if rc != 0 or capped: break
    return dict(commands=[shlex.join(map(str, c)) for c in cmds], rc=rc, seconds=round(time.time() - t0, 1), capped=capped)

def sections(a, out):
    "The commands of each section."
    py, run = str(sys.executable), out / 'train'
    dry = ['--dry_run'] if a.dry_run else []
    dev = ['--device', 'cpu'] if a.dry_run else []
    tests = [[py, '-m', 'pytest', '-m', 'cuda', 'tests/test_cuda.py', '-q', '-p', 'no:cacheprovider', '--durations', '10']]
    nw = ['--no-write'] if a.no_write else []
    bench = [[py, 'bench/bench_gpu.py', '--precisions', 'fp32', 'bf16', '--out_md', out / 'bench' / 'bench.md', *dry, *nw]]
    comp = [[py, 'bench/bench_gpu.py', '--sections', 'train', '--precisions', 'bf16 + compile', '--chunk_precisions',
             '--out_md', out / 'bench' / 'compile.md', *dry, *nw]]
    train = [[BIN / 'fd_train', '--out', run, *shlex.split(a.train_args)]]
    n_eval = ['--n_eval', '32'] if a.dry_run else ['--n_eval', '256']
    report = [[BIN / 'fd_segment', run, '--data', 'textures', '--baselines', 'True', '--supervised_steps', '0', '--out',
               out / 'report' / 'segment', *n_eval, *dev],
              [BIN / 'fd_sample', run, '--sampler', 'ddim', '--steps', '5' if a.dry_run else '50', '--n', '4' if a.dry_run else '16',
               '--out', out / 'report' / 'samples', *dev]]
    return dict(tests=tests, bench=bench, compile=comp, train=train, report=report)

def device_line():
    import torch
    if not torch.cuda.is_available(): return f'no CUDA device (CPU), torch {torch.__version__}'
    return f'{torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA {torch.version.cuda}'

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=None, help='output folder (default: data/gpu/<date>)')
    ap.add_argument('--sections', nargs='+', default=list(CAPS), choices=list(CAPS))
    ap.add_argument('--caps', default='', help='e.g. train=400,bench=200: seconds per section')
    ap.add_argument('--train_args', default=None, help=f'fd_train options of the train section (default: {TRAIN_ARGS})')
    ap.add_argument('--dry_run', action='store_true', help='on the CPU, tiny sizes, nothing appended to bench/RESULTS.md')
    ap.add_argument('--no_write', action='store_true', help='do not append to bench/RESULTS.md')
    a = ap.parse_args(argv)
    if not a.dry_run:
        import torch
        if not torch.cuda.is_available(): sys.exit('make_gpu: no CUDA GPU here; on a CPU run the dry run: python bench/make_gpu.py --dry_run --out DIR')
    caps = dict(DRY['caps'] if a.dry_run else CAPS)
    for kv in filter(None, a.caps.split(',')):
        k, v = kv.split('=')
        if k not in CAPS: sys.exit(f'make_gpu: --caps names an unknown section {k!r}; sections: {", ".join(CAPS)}')
        caps[k] = float(v)
    a.train_args = a.train_args or (DRY['train'] if a.dry_run else TRAIN_ARGS)
    a.no_write = a.no_write or a.dry_run
    out = Path(a.out or ROOT / 'data' / 'gpu' / f'{datetime.date.today():%Y-%m-%d}').resolve()
    (out / 'bench').mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, FD_CUDA_REPORT=str(out / 'tests'), PYTHONUNBUFFERED='1')
    if a.dry_run: env['CUDA_VISIBLE_DEVICES'] = ''                        # the dry run never touches a GPU
    summary = dict(command=shlex.join(['python', 'bench/make_gpu.py', *(argv if argv is not None else sys.argv[1:])]),
                   device=device_line(), dry_run=a.dry_run, started=f'{datetime.datetime.now():%Y-%m-%d %H:%M:%S}', caps=caps, sections={})
    cmds = sections(a, out)
    for name in a.sections:
        print(f'make gpu: {name} (cap {caps[name]:.0f} s)', flush=True)
        r = summary['sections'][name] = run_section(name, cmds[name], caps[name], out, env)
        print(f'make gpu: {name}: exit {r["rc"]}, {r["seconds"]} s' + (' (stopped at its cap)' if r['capped'] else ''), flush=True)
        (out / 'summary.json').write_text(json.dumps(summary, indent=1))
    if not a.no_write:
        lines = [f"\n## {summary['started']} - make gpu: {summary['device']}", f"Command: `{summary['command']}`; files: `{out.relative_to(ROOT)}/`\n",
                 '| section | exit | seconds | stopped at cap |', '|---|---|---|---|']
        lines += [f"| {n} | {r['rc']} | {r['seconds']} | {'yes' if r['capped'] else 'no'} |" for n, r in summary['sections'].items()]
        with open(ROOT / 'bench' / 'RESULTS.md', 'a') as f: f.write('\n'.join(lines) + '\n')
    return summary

if __name__ == '__main__': main()
