#!/bin/bash
# Issue 46: a 64 px start trained on every procedural family but one (nbs/10c_mix.ipynb), from the repository root after `make env`:
#   bash data/mix/run_mix.sh train     # runs/mix64_noscenes; the same command resumes it exactly (fd_train resumes a run folder)
#   bash data/mix/run_mix.sh verdict   # data/mix/loo_verdict.py: its rule is in that file, committed before the run
#   bash data/mix/run_mix.sh train2 | verdict2   # the second rule (data/mix/loo_verdict2.py: why, and its recipe and steps)
#   bash data/mix/run_mix.sh scratch2  # the same run from random weights (issue 46, item 3): runs/mix64_noscenes2_scratch
# While training, every checkpoint (save_every 100) is copied to runs/mix64_noscenes/ckpts/step_N.safetensors, so that
# the learning curves can be scored later on every family and the verdict can read step 3000 and no other.
# One training at a time on the 2-core CPU; run it with `nice -n 19` beside other work.
set -euo pipefail
B=.venv/bin; RUN=runs/mix64_noscenes; [[ "${1:-}" == *2 ]] && RUN=runs/mix64_noscenes2; [ "${1:-}" = scratch2 ] && RUN=runs/mix64_noscenes2_scratch; export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

keep_ckpts() {   # copy each new checkpoint of $RUN to $RUN/ckpts/step_N.safetensors while fd_train (pid $1) runs
  mkdir -p $RUN/ckpts
  while kill -0 $1 2>/dev/null; do
    if [ -f $RUN/checkpoint/run.json ]; then
      n=$(python3 -c "import json; print(json.load(open('$RUN/checkpoint/run.json'))['step'])" 2>/dev/null || true)
      [ -n "$n" ] && [ ! -f $RUN/ckpts/step_$n.safetensors ] && cp $RUN/checkpoint/model.safetensors $RUN/ckpts/step_$n.safetensors.tmp \
        && mv $RUN/ckpts/step_$n.safetensors.tmp $RUN/ckpts/step_$n.safetensors
    fi
    sleep 20
  done
  n=$(python3 -c "import json; print(json.load(open('$RUN/checkpoint/run.json'))['step'])" 2>/dev/null || true)   # the last one, saved as it ended
  [ -n "$n" ] && [ ! -f $RUN/ckpts/step_$n.safetensors ] && cp $RUN/checkpoint/model.safetensors $RUN/ckpts/step_$n.safetensors || true
}

case "${1:-}" in
  train)
    $B/fd_train --out $RUN --data mix-no-scenes --preset photos64 --steps 3000 --n_train 6144 --save_every 100 --eval_every 500 \
      --flip True --shift 0.25 --zoom 0.5 --report_after False &
    pid=$!; keep_ckpts $pid; wait $pid ;;
  verdict)
    $B/python data/mix/loo_verdict.py ;;
  train2|scratch2)   # steps and recipe from the committed rule, the one place they are written; scratch2: no start
    read -r STEPS RECIPE < <(cd data/mix && ../../$B/python -c "import loo_verdict2 as r; print(r.STEPS, r.RECIPE)")
    INIT=(); [ "$1" = scratch2 ] && INIT=(--init "")
    $B/fd_train --out $RUN --data mix-no-scenes --preset photos64 --steps $STEPS --n_train 6144 --save_every 100 --eval_every 0 \
      --report_after False $RECIPE "${INIT[@]}" &
    pid=$!; keep_ckpts $pid; wait $pid ;;
  verdict2)
    $B/python data/mix/loo_verdict2.py ;;
  *) echo "usage: bash data/mix/run_mix.sh train | verdict | train2 | verdict2"; exit 2 ;;
esac
