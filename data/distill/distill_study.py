"""The distillation study of nbs/13_distill.ipynb, recorded in data/distill/shapes32/ (commands in data/distill/README.md).

    python data/distill/distill_study.py sweep  RUNS_DIR      # student IOU against pseudo-labelled images and rounds -> sweep.csv
    python data/distill/distill_study.py variants RUNS_DIR    # the settings tried (RUNS_DIR/dv_*/comparison.json) -> variants.csv
    python data/distill/distill_study.py fresh RUNS_DIR       # teacher and RUNS_DIR/distill_final's student on unseen images -> fresh.json

`sweep` runs `fd_distill --compare False` for each number of images (two rounds for the largest), then `fd_segment` on each round's
student (the same held-out images as everywhere); finished runs are skipped, so it can be started again.
`fresh` scores teacher and student on images that played no part in choosing the settings: the built-in evaluation
splits drawn with seed 1 (64 to choose channels, 1024 to score) instead of seed 0."""
import csv, json, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent   # data/distill/ -> the repository
BIN = Path(sys.executable).parent
TEACHER = ROOT / 'data' / 'shapes32_factorized.safetensors'
DEST = ROOT / 'data' / 'distill' / 'shapes32'
SIZES = (512, 2048, 8192)   # one round each; the last (the recorded run, copied) is extended to a second round

def sh(*args):
    print('$', ' '.join(map(str, args)), flush=True)
    subprocess.run([str(BIN / args[0]), *map(str, args[1:])], check=True, stdout=subprocess.DEVNULL)

def sweep(runs:Path):
    rows = []
    for n in SIZES:
        out = runs / f'sweep_{n}'
        if n == SIZES[-1] and not out.exists(): shutil.copytree(runs / 'distill_final', out)   # the recorded run, extended below
        rounds = 2 if n == SIZES[-1] else 1
        if not (out / f'student_r{rounds}.safetensors').exists():
            sh('fd_distill', TEACHER, '--out', out, '--n_images', n, '--rounds', rounds, '--compare', 'False')
        for r in range(1, rounds + 1):
            seg = out / f'segment_r{r}'
            if not (seg / 'scores.json').exists(): sh('fd_segment', out / f'student_r{r}.safetensors', '--out', seg)
            s = json.loads((seg / 'scores.json').read_text())['strict']
            rows.append(dict(n_images=n, round=r, iou=s['iou'], acc=s['acc'], dice=s['dice']))
    write(DEST / 'sweep.csv', rows)

def variants(runs:Path):
    from factorized_diffusion.checkpoints import read_meta
    rows = []
    for d in [runs / 'distill_tiny'] + sorted(p for p in runs.glob('dv_*') if p.is_dir()):
        c = json.loads((d / 'comparison.json').read_text())
        md = read_meta(d / 'model.safetensors')['distill']
        rows.append(dict(run=d.name[3:] if d.name.startswith('dv_') else 'first', **{k: md[k] for k in ('student', 'n_images', 'labels', 'min_conf', 'rounds', 'steps')},
                         student_iou=c['methods']['student']['strict']['iou'],
                         teacher_iou=next(v for k, v in c['methods'].items() if k.startswith('teacher (t='))['strict']['iou']))
    write(DEST / 'variants.csv', rows)

def fresh(runs:Path):
    from factorized_diffusion.checkpoints import load_model
    from factorized_diffusion.data import ShapesDataset
    from factorized_diffusion.textures import eval_splits
    from factorized_diffusion.distill import compare_distilled, format_distilled
    teacher, student = load_model(TEACHER, device='cpu'), load_model(runs / 'distill_final' / 'model.safetensors', device='cpu')
    res = compare_distilled(teacher, student, *eval_splits(ShapesDataset, 32, seed=1, n_test=1024), n_time=0)
    res['splits'] = 'eval_splits(ShapesDataset, 32, seed=1, n_test=1024)'
    print(format_distilled(res))
    (DEST / 'fresh.json').write_text(json.dumps(res, indent=1))

def write(path:Path, rows:list):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    print(f'wrote {path} ({len(rows)} rows)')

if __name__ == '__main__':
    dict(sweep=sweep, variants=variants, fresh=fresh)[sys.argv[1]](Path(sys.argv[2]))
