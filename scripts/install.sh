#!/usr/bin/env bash
# Creates .venv and installs Flywheel with the [ml] extra (CPU torch from torch==2.13.0) and [dev] tools.
# Re-running is cheap: pip only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3.11}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-ml,dev}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$EXTRAS"
if [ ! -f "$stamp" ]; then
  # The CPU build of torch: the machine's wheel for this exact version (no CUDA download).
  case ",$EXTRAS," in *,ml,*) "$VENV/bin/pip" install -q "torch==2.13.0" ;; esac
  "$VENV/bin/pip" install -q -e ".[$EXTRAS]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
case ",$EXTRAS," in *,ml,*) VENV="$VENV" bash scripts/install-models.sh ;; esac
