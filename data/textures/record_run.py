"""Copy what a research notebook needs from a finished run into data/: the learning curve, the loss log, the configs, and
the scores, comparison and picture of an `fd_segment --baselines True` run on the same folder.

    python data/textures/record_run.py runs/tex_circular runs/tex_circular_seg data/textures/circular
"""
import shutil, sys
from pathlib import Path

run, seg, dst = map(Path, sys.argv[1:4])
dst.mkdir(parents=True, exist_ok=True)
for src, name in ((run / 'curve.csv', 'curve.csv'), (run / 'loss.csv', 'loss.csv'), (run / 'checkpoint' / 'run.json', 'run.json'),
                  (seg / 'scores.json', 'scores.json'), (seg / 'comparison.json', 'comparison.json'), (seg / 'segmentation.png', 'segmentation.png')):
    if src.exists(): shutil.copy(src, dst / name)
    else: print(f'missing: {src}')
print(f'recorded {run} in {dst}: {sorted(p.name for p in dst.iterdir())}')
