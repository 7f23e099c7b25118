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
# Bytecode for the project's own modules (PYTHONDONTWRITEBYTECODE, set on some machines, keeps
# Python from caching it on import): otherwise every process compiles ~275 modules as it starts,
# 0.3 s of CPU an API node (a rolling restart starts one beside a node carrying every client).
# Only what changed since the last run is compiled again.
.venv/bin/python -m compileall -q -j 0 api commands domain infra projections scripts tests >/dev/null
