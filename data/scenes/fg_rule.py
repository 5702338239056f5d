"""The label-free choice of foreground channels (09b_segment_folder's `choose_fg_unlabelled`) against the strict rule's
labelled choice, on the held-out scenes test folder, for the models of studies/06_photos. From the repository root, after the
runs of run_study.sh:  .venv/bin/python data/scenes/fg_rule.py  (writes data/scenes/fg_rule.json)"""
import json
from pathlib import Path
from factorized_diffusion.checkpoints import load_model, resolve_checkpoint
from factorized_diffusion.runs import get_data
from factorized_diffusion.segment import segment, choose_fg_channels, score_strict
from factorized_diffusion.segment_folder import choose_fg_unlabelled

D = 'runs/scenes_data'
MODELS = dict(zeroshot_textures32='textures32', photos32_final='runs/scenes_p32', photos32_student='runs/scenes_p32_student/model.safetensors',
              zeroshot64_textures32='runs/zeroshot64/model.safetensors', photos64_final='runs/scenes_p64')
res = {}
for name, path in MODELS.items():
    if not Path(resolve_checkpoint(path)).exists(): continue
    model = load_model(resolve_checkpoint(path))
    (vx, vm), (tx, tm) = get_data(f'{D}/test_images', model.cfg.img_size, 8, 0, f'{D}/test_masks')[2]
    mv, mt = segment(model, vx), segment(model, tx)
    strict, free = choose_fg_channels(mv, vm), choose_fg_unlabelled(mv)
    res[name] = dict(strict_channels=list(strict), label_free_channels=list(free), n_choose=len(vx), n_test=len(tx),
                     strict_iou=score_strict(mt, tm, strict)['iou'], label_free_iou=score_strict(mt, tm, free)['iou'])
    print(name, res[name])
Path('data/scenes/fg_rule.json').write_text(json.dumps(res, indent=1) + '\n')
