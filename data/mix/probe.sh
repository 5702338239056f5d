#!/bin/bash
# Issue 46: which option of runs/mix64_noscenes turns the object channel into contours? Short probes of the same recipe
# (--preset photos64 --data mix-no-scenes, 6,144 images at 64 px, seed 0) with one option changed each, scored on the
# held-out shapes, textures and clutter by curves.py (data/mix/probes/<arm>.json). One training at a time.
#   bash data/mix/probe.sh ARM [STEPS]      ARM: augment (the run's options), plain (no flips/shifts/zooms), flip, zoom
#                                           (flips and zooms), shift (flips and shifts), tpow1, lr1e-4 (the run's
#                                           options but one), at32, plain32 (--preset photos32: 32 px), regions32
#                                           (--preset photos32 on --data regions, 10d_regions: issue 46 item 4)
set -euo pipefail
B=.venv/bin; ARM=$1; STEPS=${2:-100}; export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
AUG="--flip True --shift 0.25 --zoom 0.5"; PRESET=photos64; DATA=mix-no-scenes; FAMS=shapes,textures,clutter
case "$ARM" in
  augment) X="$AUG" ;;
  plain) X="" ;;
  flip) X="--flip True" ;;
  zoom) X="--flip True --zoom 0.5" ;;
  shift) X="--flip True --shift 0.25" ;;
  tpow1) X="$AUG --t_power 1" ;;
  lr1e-4) X="$AUG --lr 1e-4" ;;
  at32) X="$AUG"; PRESET=photos32 ;;
  plain32) X=""; PRESET=photos32 ;;
  regions32) X=""; PRESET=photos32; DATA=regions; FAMS=regions,textures,shapes ;;   # item 4: does a background with regions undo the bands?
  *) echo "unknown arm $ARM"; exit 2 ;;
esac
RUN=runs/probe_${ARM}_$STEPS; mkdir -p data/mix/probes
$B/fd_train --out $RUN --data $DATA --preset $PRESET --steps $STEPS --n_train 6144 --save_every 100 --report_after False $X
$B/python data/mix/curves.py $RUN --families $FAMS --out data/mix/probes/${ARM}_$STEPS.json
