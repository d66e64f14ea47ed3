#!/usr/bin/env bash
# The whole test suite: starts every server (scripts/services.sh), then runs
# `cargo test --workspace` against them. Extra arguments go to cargo test,
# e.g. `bash scripts/test.sh -p adapter-postgres`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/services.sh >/dev/null
# shellcheck source=/dev/null
source .services/env
if [ $# -eq 0 ]; then
  set -- --workspace
fi
cargo test "$@"
