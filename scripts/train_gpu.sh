#!/usr/bin/env bash
# Train the bundled FER-2013 CNN on one GPU machine that has JAX (or PyTorch) but no TensorFlow.
#
#   scripts/train_gpu.sh DATA RUNS [all|teacher|student] [TEACHER_S] [STUDENT_S]
#
# DATA is fer2013_dev.npz or its lossless compact copy
# (python -m buddy_emotion.training compact ../shared/data/fer2013/fer2013_dev.npz .carry/fer_webp.npz).
#
# Step "teacher": a wide network (widths 64-128-256-512, two convolutions at 48x48; 4.7 M parameters) and,
# beside it on the same GPU for comparison, one of the shipped size (64-128-256-384; 3.3 M parameters),
# each trained with SGD for TEACHER_S seconds of wall time (cosine schedule over that time).
# Step "student": a network of the shipped size trained from scratch for STUDENT_S seconds, learning the
# labels and the teacher's softened outputs (knowledge distillation, weight 0.7, temperature 2).
# RUNS/eval.json then holds each model's PublicTest accuracy with flip TTA. The epochs a run got are in
# RUNS/NAME/history.csv. Export on a machine with TensorFlow:
#   python -m buddy_emotion.training export RUNS/student/best.keras --run-dir RUNS/student --tta flip --class-bias sadness=0.1
# On the project's device tool (10 minutes a call) the two steps ran as two calls, 495 s and 370 s.
# A call carries at most 64 MiB (tracked files, .carry/ with the compact data, .whl/ with the Keras,
# namex and optree wheels): move src/buddy_emotion/models/fer_cnn.keras and dlib_expression.npz out of
# the tree for the call (and back after it), which also leaves room to carry a teacher's weights.
set -u  # TRAIN_EXTRA="--limit 256" appends options to every run (smoke tests)
DATA=${1:?usage: train_gpu.sh DATA RUNS [all|teacher|student] [TEACHER_S] [STUDENT_S]}
RUNS=${2:?usage: train_gpu.sh DATA RUNS [all|teacher|student] [TEACHER_S] [STUDENT_S]}
STEP=${3:-all}
TEACHER_S=${4:-495}
STUDENT_S=${5:-370}
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
if [ -z "${KERAS_BACKEND:-}" ]; then
  # JAX when it sees the GPU and Keras trains on it; PyTorch otherwise
  if KERAS_BACKEND=jax python3 -c "import jax, keras, numpy as np, sys
assert jax.devices()[0].platform == 'gpu'
m = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                      keras.layers.Dense(7, activation='softmax')])
m.compile('adam', 'categorical_crossentropy')
m.fit(np.zeros((8, 48, 48, 1)), np.eye(7)[np.zeros(8, int)], verbose=0)"; then
    export KERAS_BACKEND=jax
  else
    export KERAS_BACKEND=torch
  fi
fi
echo "Keras backend: $KERAS_BACKEND"
mkdir -p "$RUNS"
train() {  # NAME BUDGET_S ARGS...
  local name=$1 budget=$2
  shift 2
  timeout $((budget + 90)) python3 -m buddy_emotion.training train --data "$DATA" --out-dir "$RUNS/$name" \
    --batch-size 128 --ferplus-weight 0.25 --optimizer sgd --learning-rate 0.02 --weight-decay 1e-4 \
    --time-budget-s "$budget" "$@" ${TRAIN_EXTRA:-} > "$RUNS/$name.log" 2>&1
  echo "$name: exit $? after $SECONDS s; $(grep -c '^epoch' "$RUNS/$name.log") epochs; $(tail -n 2 "$RUNS/$name.log" | head -n 1)"
}
MID=(--widths 64 128 256 384 --stem-convs 1)

if [ "$STEP" = all ] || [ "$STEP" = teacher ]; then
  train teacher "$TEACHER_S" --widths 64 128 256 512 --stem-convs 2 --seed 42 &
  train mid "$TEACHER_S" "${MID[@]}" --seed 41 &
  wait
fi
if [ "$STEP" = all ] || [ "$STEP" = student ]; then
  train student "$STUDENT_S" "${MID[@]}" --seed 51 --teachers "$RUNS/teacher/best.keras" --kd-weight 0.7 \
    --kd-temperature 2
fi

python3 - "$DATA" "$RUNS" <<'EOF'
import json, sys
from pathlib import Path
import keras, numpy as np
from buddy_emotion.training.fer import evaluate_probs, load_split
data, runs = sys.argv[1], Path(sys.argv[2])
va = load_split(data, "PublicTest")
result = {}
for best in sorted(runs.glob("*/best.keras")):
    probs = evaluate_probs(keras.models.load_model(best, compile=False), va["images"])
    result[best.parent.name] = float(np.mean(probs.argmax(1) == va["labels"]))
print(json.dumps(result, indent=1))
(runs / "eval.json").write_text(json.dumps(result, indent=1) + "\n")
EOF
