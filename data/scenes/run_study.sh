#!/bin/bash
# The photographs study of nbs/studies/06_photos.ipynb, stage by stage, from the repository root after `make env`:
#   bash data/scenes/run_study.sh data | p32 | eval32 | p64 | eval64 | p64long | eval64long | p32shapes | zs64from32 | distill32 | fgrule | reading | draws | refine | p64from32 | clutter64 | p64clutter | p64clutterlong | small64 | evalsmall64 | p64anneal | evalanneal | p64seed1 | evalseed1 | threshold | choice | clutter64to400 | clutter32 | sizechoice | pooled
# (the recorded runs also kept every checkpoint while training: a loop copied runs/<run>/checkpoint/model.safetensors
#  to runs/<run>/ckpts/step_N.safetensors whenever checkpoint/run.json showed a new step; eval32 and eval64 score them)
# Runs go to runs/ (not in git); what the notebook reads is copied to data/scenes/<name>/ by `keep` and `keep_run`.
set -euo pipefail
B=.venv/bin; D=runs/scenes_data; E=runs/scenes_eval; export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

keep() {   # keep NAME EVAL_FOLDER...: copy the scores the notebook reads into data/scenes/NAME/
  local name=$1; shift; mkdir -p data/scenes/$name
  for src in "$@"; do
    for f in scores.json comparison.json segmentation.png; do
      [ -f "$src/$f" ] && cp "$src/$f" data/scenes/$name/$(basename $f)
    done
  done; true
}
keep_run() {   # keep_run NAME RUN: a training run's curve (on its own training images), loss and configs
  mkdir -p data/scenes/$1; for f in curve.csv loss.csv checkpoint/run.json data.json; do [ -f "$2/$f" ] && cp "$2/$f" data/scenes/$1/; done; true
}
score() {  # score NAME MODEL: the model, GrabCut and K-means on the held-out test folder, in one run
  $B/fd_segment "$2" --data $D/test_images --masks $D/test_masks --baselines True --supervised_steps 0 --out $E/$1 --n_eval 1000
  keep "$1" $E/$1
}
score_read() {  # score_read NAME MODEL: as score, the masks read at t=5 with the largest-region cut (the reading of stage `reading`)
  $B/fd_segment "$2" --data $D/test_images --masks $D/test_masks --baselines True --supervised_steps 0 --out $E/$1 --n_eval 1000 --t 5 --post largest
  keep "$1" $E/$1
}
score_steps() {  # score_steps PREFIX RUN N...: checkpoints N... of a run in the chosen reading (PREFIX_read_step_N; the last keeps its picture), the last also at t=30 (PREFIX_t30)
  local prefix=$1 run=$2; shift 2; local last=${@: -1}
  for n in "$@"; do score_read ${prefix}_read_step_$n $run/ckpts/step_$n.safetensors; [ $n = $last ] || rm data/scenes/${prefix}_read_step_$n/segmentation.png; done
  score ${prefix}_t30 $run/ckpts/step_$last.safetensors
}
score_ckpts() {  # score_ckpts PREFIX RUN [score|score_read]: every checkpoint the run kept (runs/<run>/ckpts/step_N.safetensors)
  for c in $2/ckpts/step_*.safetensors; do n=$(basename $c .safetensors); ${3:-score} $1_$n $c; rm data/scenes/$1_$n/segmentation.png; done
}

case $1 in
  data)   # the family as image folders at 64x64: 2,000 unlabelled training images, 500 labelled test images (10a_scenes)
    $B/python -c "from factorized_diffusion.scenes import write_folder as w; w(2000, '$D/train_images', '$D/train_masks'); w(500, '$D/test_images', '$D/test_masks', split='test')" ;;
  p32)    # the 32 px preset from the shipped textures model (--preset photos32 = --preset textures32 --init textures32)
    $B/fd_train --out runs/scenes_p32 --data $D/train_images --masks $D/train_masks --preset photos32 --eval_every 100
    keep_run photos32 runs/scenes_p32 ;;
  eval32)
    score zeroshot_shapes32 shapes32; score zeroshot_textures32 textures32; score photos32_final runs/scenes_p32
    score_ckpts photos32 runs/scenes_p32 ;;
  p64)    # the 64 px preset: the textures model's weights in the small32 layout built for 64 px, 400 steps
    $B/python -c "
from factorized_diffusion.unet import unet_config; from factorized_diffusion.factorized import FactorizedUNet
from factorized_diffusion.checkpoints import init_from, save_model
save_model(init_from(FactorizedUNet(unet_config('photos64')), 'textures32'), 'runs/zeroshot64/model.safetensors')"
    score zeroshot64_textures32 runs/zeroshot64/model.safetensors
    $B/fd_train --out runs/scenes_p64 --data $D/train_images --masks $D/train_masks --preset photos64 --eval_every 100
    keep_run photos64 runs/scenes_p64 ;;
  p64long)   # the 64 px preset trained longer (up to 1200 steps), a checkpoint kept every 100 steps (the loop described above)
    $B/fd_train --out runs/scenes_p64long --data $D/train_images --masks $D/train_masks --preset photos64 --steps 1200 --eval_every 200
    keep_run photos64long runs/scenes_p64long ;;
  eval64long)   # the kept checkpoints of p64long, each next to GrabCut and K-means, at t=30 and in the chosen reading (t=5, largest)
    score_ckpts photos64long runs/scenes_p64long; score_ckpts photos64long_read runs/scenes_p64long score_read ;;
  p32shapes)   # leave-one-out control: the same recipe and budget from the shipped shapes model (--preset from_shapes32, then named textures32)
    $B/fd_train --out runs/scenes_p32_shapes --data $D/train_images --preset textures32 --report_after False
    keep_run photos32_from_shapes runs/scenes_p32_shapes; score photos32_from_shapes runs/scenes_p32_shapes ;;
  zs64from32)   # the fine-tuned 32 px model moved to 64 px as it is (a two-stage route: photos32, then 64 px)
    $B/python -c "
from factorized_diffusion.unet import unet_config; from factorized_diffusion.factorized import FactorizedUNet
from factorized_diffusion.checkpoints import init_from, save_model
save_model(init_from(FactorizedUNet(unet_config('photos64')), 'runs/scenes_p32'), 'runs/zeroshot64_p32/model.safetensors')"
    score zeroshot64_photos32 runs/zeroshot64_p32/model.safetensors ;;
  eval64)
    score photos64_final runs/scenes_p64; score_ckpts photos64 runs/scenes_p64 ;;
  fgrule) $B/python data/scenes/fg_rule.py ;;
  reading)   # t and the largest-region cut chosen on the textured family, then every model read that way on the scenes (post_study.json)
    $B/python data/scenes/post_study.py ;;
  refine)   # GrabCut started from the models' foregrounds, chosen (or not) on the textured family (refine_study.json)
    $B/python data/scenes/refine_study.py ;;
  draws)   # averaging the masks over noise draws and timesteps, chosen on the textured family (draws_study.json)
    $B/python data/scenes/draws_study.py ;;
  p64from32)   # the two-stage route: the 64 px preset started from the 32 px preset's model of the same images (scenes32 = p32's weights)
    $B/fd_train --out runs/scenes_p64from32 --data $D/train_images --masks $D/train_masks --preset photos64 --init scenes32 --eval_every 100
    keep_run photos64from32 runs/scenes_p64from32
    score photos64from32_t30 runs/scenes_p64from32; score_read photos64from32 runs/scenes_p64from32 ;;
  distill32)  # the student of the fine-tuned 32 px model, on the same unlabelled training images
    $B/fd_distill runs/scenes_p32 --out runs/scenes_p32_student --data $D/train_images --compare False
    score photos32_student runs/scenes_p32_student/model.safetensors; cp runs/scenes_p32_student/loss.csv data/scenes/photos32_student/ ;;
  clutter64)   # a start that has seen clutter: the photos64 preset trained 301 steps on the clutter family (10b_clutter), from the
               # textures model like the preset; never on scenes. Then scored on the held-out scenes as it is (zero-shot)
    $B/fd_train --out runs/clutter64 --data clutter --preset photos64 --steps 301 --eval_every 100   # recorded: --steps 400, stopped by Ctrl-C after step 300's row (checkpoint at 301); constant LR, so the same run
    keep_run clutter64_start runs/clutter64
    score zeroshot64_clutter64_t30 runs/clutter64; score_read zeroshot64_clutter64 runs/clutter64 ;;
  p64clutter)   # the 64 px preset's recipe and budget (400 steps) on the scenes' unlabelled training images, started from clutter64
    $B/fd_train --out runs/scenes_p64clutter --data $D/train_images --masks $D/train_masks --preset photos64 --init runs/clutter64 --eval_every 100
    keep_run photos64clutter runs/scenes_p64clutter
    score photos64clutter_t30 runs/scenes_p64clutter; score_read photos64clutter runs/scenes_p64clutter ;;
  p64clutterlong)   # p64clutter resumed to 800 steps (the 90-minute budget at ~6.5 s a step), every kept checkpoint in the chosen reading
    $B/fd_train --out runs/scenes_p64clutter --preset photos64 --init runs/clutter64 --steps 800 --eval_every 100
    keep_run photos64clutterlong runs/scenes_p64clutter; score_ckpts photos64clutter_read runs/scenes_p64clutter score_read ;;
  small64)   # the control the issue asks for: a 64 px layout with an extra level (small64: 64-32-16-8, attention at 8), from random
             # weights (no 32 px weights fit it), the presets' recipe otherwise (lr 5e-4, batch 32, EMA 0.999, t_power 2), on the
             # scenes' unlabelled training images, 400 steps like the preset (recorded: --steps 3000, stopped by hand with SIGTERM at
             # step 423, after the curve's row at step 400; constant LR, so the kept step-400 checkpoint is this stage's model)
    $B/fd_train --out runs/scenes_small64 --data $D/train_images --masks $D/train_masks --preset small64 --t_power 2 --steps 400 --save_every 100 --eval_every 100
    keep_run small64_scratch runs/scenes_small64 ;;
  evalsmall64)   # its step-400 model next to GrabCut and K-means, at t=30 and in the chosen reading
    m=runs/scenes_small64/ckpts/step_400.safetensors; [ -f $m ] || m=runs/scenes_small64
    score small64_scratch_t30 $m; score_read small64_scratch $m ;;
  p64anneal)   # the preset's recipe for 800 steps with the learning rate annealed (cosine towards 0) over the last 400: the same
               # seed, so its first 400 steps are the preset's run step for step; a checkpoint every 100 steps (kept by the loop above)
    $B/fd_train --out runs/scenes_p64anneal --data $D/train_images --masks $D/train_masks --preset photos64 --steps 800 --anneal 400 --save_every 100 --eval_every 100
    keep_run photos64anneal runs/scenes_p64anneal ;;
  evalanneal)   # its checkpoints from step 400 (the preset's model) to 800 next to GrabCut and K-means in the chosen reading; the last also at t=30
    score_steps photos64anneal runs/scenes_p64anneal 400 500 600 700 800 ;;
  p64seed1)   # the preset's recipe with seed 1 (every other run is seed 0), a checkpoint every 100 steps (kept by the loop above); the recorded
               # run asked for 800 steps and was stopped with SIGTERM after its step-700 checkpoint (session time): a constant rate, so --steps 700 is the same model
    $B/fd_train --out runs/scenes_p64seed1 --data $D/train_images --masks $D/train_masks --preset photos64 --steps 700 --seed 1 --save_every 100 --eval_every 100
    keep_run photos64seed1 runs/scenes_p64seed1 ;;
  evalseed1)   # its checkpoints from step 400 (the preset's budget) to 700 in the chosen reading, next to GrabCut and K-means; the last also at t=30
    score_steps photos64seed1 runs/scenes_p64seed1 400 500 600 700 ;;
  threshold)   # the threshold on the soft foreground, chosen on the textured family; every model at every threshold on the scenes (threshold_study.json)
    $B/python data/scenes/threshold_study.py ;;
  choice)   # the reading chosen on 1,024 textured images, measured on 500 fresh scenes (seed 1, rendered to runs/scenes_fresh) and the old ones (choice_study.json)
    $B/python data/scenes/choice_study.py ;;
  clutter64to400)   # the 64 px preset on the clutter family with its own budget: the clutter64 run (stopped at 301) copied and resumed to 400 steps
    [ -d runs/clutter64_400 ] || cp -r runs/clutter64 runs/clutter64_400
    $B/fd_train --out runs/clutter64_400 --data clutter --preset photos64 --steps 400 --eval_every 100
    keep_run clutter64_400 runs/clutter64_400 ;;
  clutter32)   # the 32 px preset on the clutter family, its own recipe and budget (1000 steps)
    $B/fd_train --out runs/clutter32 --data clutter --preset photos32 --eval_every 100
    keep_run clutter32 runs/clutter32 ;;
  sizechoice)   # each size's reading chosen with the preset fine-tuned on clutter, measured on 500 fresh scenes (seed 2, runs/scenes_fresh2) (size_choice_study.json)
    $B/python data/scenes/size_choice_study.py ;;
  pooled)   # choice_study's fixed reading of scenes64 on every fresh set (seeds 1, 2 and 3, rendered to runs/scenes_fresh3), pooled, paired to GrabCut (pooled_study.json)
    $B/python data/scenes/pooled_study.py ;;
  *) echo "usage: $0 data|p32|eval32|p64|eval64|p64long|eval64long|p32shapes|zs64from32|distill32|fgrule|reading|draws|refine|p64from32|clutter64|p64clutter|p64clutterlong|small64|evalsmall64|p64anneal|evalanneal|p64seed1|evalseed1|threshold|choice|clutter64to400|clutter32|sizechoice|pooled" >&2; exit 2 ;;
esac
