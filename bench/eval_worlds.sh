#!/usr/bin/env bash
# The acceptance measurements on both development worlds, with one command.
#
#   bench/eval_worlds.sh [WORLD_DIR ...]        (default: $SHARED/dev-eval $SHARED/dev-eval-2)
#
# 1. `pip install .` (NOT editable) of this checkout into a fresh venv under $OUT, built from a copy of
#    the package folders, so nothing of the source tree can be found at run time.
# 2. Per world (a folder with questions.jsonl and corpus/): shared/tools/schakel_eval.py indexes the
#    corpus with the installed `schakel`, serves it and asks every question through POST /api/match,
#    for the full system and, served with SCHAKEL_KNOBS, for BM25-only and dense-only; then
#    shared/tools/baselines.py (naive record-level BM25, dense, RRF), and bench/eval_worlds.py prints
#    the tables (per kind, per half, per style, off-topic) from the same answers.
# 3. Where the world has blind_spots.json: `schakel coverage` and whether its planted blind spots are
#    in the top five.
# Everything lands in $OUT: <world>-{full,bm25,dense,baselines,coverage}.json and <world>-tables.txt.
#
# Environment:
#   SHARED     the shared folder with tools/ and the worlds (default: ../shared or ../../shared)
#   OUT        work and output folder (default: /tmp/schakel-eval-worlds)
#   DEPS_FROM  a venv that already has the dependencies (e.g. the checkout's .venv): the fresh venv uses
#              its site-packages read-only and offline; without it pip fetches them from the index
#   KEEP_HOMES 1: keep each world's index home between runs (incremental, fast); default: fresh homes,
#              as acceptance does (every passage embedded again)
#   PORT       port for the served runs (default: a random one in 20000-29999)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${SHARED:-}" ]; then   # beside the checkout, or beside the folder of worktrees
    for S in "$ROOT/../shared" "$ROOT/../../shared"; do [ -d "$S/tools" ] && SHARED=$S && break; done
fi
SHARED=$(cd "${SHARED:?set SHARED to the folder with tools/ and the worlds}" && pwd)
OUT=${OUT:-/tmp/schakel-eval-worlds}
PORT=${PORT:-$((20000 + RANDOM % 10000))}
PY=${PYTHON:-python3}
TOOLS=$SHARED/tools
THESAURUS=$ROOT/indexer/data/thesaurus.yaml
BASE_KNOBS="entity_strength=0 use_general=false concept_support=0"   # = matcher.knobs.BASELINE_VALUES
WORLDS=("$@")
[ ${#WORLDS[@]} -gt 0 ] || WORLDS=("$SHARED/dev-eval" "$SHARED/dev-eval-2")

mkdir -p "$OUT"
VENV=$OUT/venv
rm -rf "$VENV" "$OUT/src"
mkdir -p "$OUT/src"
cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/indexer" "$ROOT/matcher" "$ROOT/web" "$ROOT/schakel" "$OUT/src/"
find "$OUT/src" -name __pycache__ -prune -exec rm -rf {} +
if [ -n "${DEPS_FROM:-}" ]; then
    "$DEPS_FROM/bin/python" -m venv --without-pip "$VENV"
    SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # appended to sys.path; the .pth files there (an editable install) are not run
    "$DEPS_FROM/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$SITE/zz-deps.pth"
    "$DEPS_FROM/bin/python" -m pip --python "$VENV/bin/python" install --quiet --no-deps --ignore-installed \
        --no-build-isolation --no-index "$OUT/src"
else
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "$OUT/src"
fi
rm -rf "$OUT/src"
SCHAKEL=$VENV/bin/schakel
VPY=$VENV/bin/python
WHERE=$(cd "$OUT" && "$VPY" -c 'import indexer.thesaurus as t; print(t.BUILTIN)')   # not from the checkout
case "$WHERE" in "$ROOT"/*) echo "the installed schakel resolves to the checkout: $WHERE" >&2; exit 1;; esac
echo "installed: $WHERE"

for W in "${WORLDS[@]}"; do
    W=$(cd "$W" && pwd)
    NAME=$(basename "$W")
    Q=$W/questions.jsonl
    C=$W/corpus
    H=$OUT/home-$NAME
    [ "${KEEP_HOMES:-0}" = 1 ] || rm -rf "$H"
    echo "== $NAME: full system (index + /api/match)"
    (cd "$OUT" && "$VPY" "$TOOLS/schakel_eval.py" "$Q" "$C" --schakel "$SCHAKEL" --home "$H" --port "$PORT" \
        --thesaurus "$THESAURUS" --json "$OUT/$NAME-full.json")
    for SYSTEM in bm25 dense; do
        echo "== $NAME: $SYSTEM only (/api/match with SCHAKEL_KNOBS)"
        (cd "$OUT" && SCHAKEL_KNOBS="fusion=$SYSTEM $BASE_KNOBS" "$VPY" "$TOOLS/schakel_eval.py" "$Q" "$C" \
            --schakel "$SCHAKEL" --home "$H" --port "$PORT" --skip-index --thesaurus "$THESAURUS" \
            --json "$OUT/$NAME-$SYSTEM.json")
    done
    echo "== $NAME: naive baselines"
    (cd "$OUT" && "$VPY" "$TOOLS/baselines.py" "$C" "$Q" "$OUT/$NAME-baselines.json")
    "$VPY" "$ROOT/bench/eval_worlds.py" tables --questions "$Q" --corpus "$C" --tools "$TOOLS" \
        --thesaurus "$THESAURUS" --answers "full=$OUT/$NAME-full.json" --answers "bm25=$OUT/$NAME-bm25.json" \
        --answers "dense=$OUT/$NAME-dense.json" --baselines "$OUT/$NAME-baselines.json" \
        --json "$OUT/$NAME-report.json" | tee "$OUT/$NAME-tables.txt"
    if [ -f "$W/blind_spots.json" ]; then
        echo "== $NAME: schakel coverage"
        "$SCHAKEL" coverage --home "$H" --questions "$Q" --no-intakes --json > "$OUT/$NAME-coverage.json"
        "$VPY" "$ROOT/bench/eval_worlds.py" blindspots --coverage "$OUT/$NAME-coverage.json" \
            --planted "$W/blind_spots.json" --top 5 | tee -a "$OUT/$NAME-tables.txt" || true
    fi
done
echo "tables: $OUT/*-tables.txt"
