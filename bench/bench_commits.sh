#!/bin/bash
# Training speed of two commits side by side, in one run, on this machine: the demo's recipe (textures32 on the
# built-in textured data), STEPS optimiser steps, alternating OLD and the working tree ROUNDS times, each in a fresh
# process. Prints seconds per run and the mean ratio working tree / OLD. Usage (from the repository root, after make env):
#   bash bench/bench_commits.sh OLD_COMMIT [STEPS=30] [ROUNDS=2]
set -euo pipefail
old=$1; steps=${2:-30}; rounds=${3:-2}; here=$(pwd); wt=$(mktemp -d)/old; out=$(mktemp -d)
git worktree add -q "$wt" "$old"; trap 'git worktree remove --force "$wt"; rm -rf "$out"' EXIT
for i in $(seq $rounds); do for R in "$wt" "$here"; do
  rm -rf "$out/run"
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} .venv/bin/python -c "
import sys, time; sys.path.insert(0, '$R'); import factorized_diffusion as f; assert f.__file__.startswith('$R'), f.__file__
from factorized_diffusion.cli import fd_train
t = time.time(); fd_train(out='$out/run', data='textures', preset='textures32', steps=$steps, report_after=False, save_every=1000)
print('$([ $R = $here ] && echo new || echo old)', round(time.time() - t, 1))" > "$out/log" 2>&1 || { tail -3 "$out/log" >&2; exit 1; }
  tr '\r' '\n' < "$out/log" | grep -aE '^(old|new) '
done; done | tee "$out/times"
awk '{s[$1]+=$2; n[$1]++} END {printf "new/old time ratio %.2f (old %.1f s, new %.1f s a run on average)\n", (s["new"]/n["new"])/(s["old"]/n["old"]), s["old"]/n["old"], s["new"]/n["new"]}' "$out/times"
