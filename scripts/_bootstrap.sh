# Sourced by scripts/serve and scripts/test: from the repository root, make sure .venv holds the
# project with its dev extras, installing again whenever pyproject.toml is newer than the last install.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x .venv/bin/python ]]; then
  "${PYTHON:-python3}" -m venv .venv
fi
if [[ ! -f .venv/.installed || pyproject.toml -nt .venv/.installed ]]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch .venv/.installed
fi
