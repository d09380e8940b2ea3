#!/usr/bin/env sh
# `ticket open` without --id, `ticket list --status open` and `ticket show` on a
# 100,000-ticket database (50,000 open), the build of BASELINE (a git commit,
# default 306575a: before ids came from a sequence and lists from a streamed SQL
# query) against this checkout, in one run, on copies of the same database.
#
#   benches/cli_100k.sh [BASELINE]      (needs hyperfine: apt-get install hyperfine)
#
# The database comes from BASELINE's examples/make_db.rs (schema 2, which both
# builds read); this build's copy is upgraded by its first write, timed below.
# Results: target/cli-100k-*.md (hyperfine tables) and the summary printed here.
set -eu
cd "$(dirname "$0")/.."
BASELINE=${1:-306575a}
OUT=target/bench-baseline
NOW=2026-07-06T12:00:00+08:00

cargo build --release --quiet --bin steward
NEW=target/release/steward
if [ "$(cat "$OUT/commit" 2>/dev/null)" != "$BASELINE" ]; then
    rm -rf "$OUT/src" && mkdir -p "$OUT/src"
    git archive "$BASELINE" | tar -x -C "$OUT/src"
    # Same target directory: the dependencies are built once for both.
    (cd "$OUT/src" && CARGO_TARGET_DIR="$PWD/../.." cargo build --release --quiet --bin steward --example make_db)
    cp target/release/examples/make_db "$OUT/make_db"
    cp target/release/steward "$OUT/steward"
    echo "$BASELINE" > "$OUT/commit"
    cargo build --release --quiet --bin steward # put this build's binary back
fi
OLD=$OUT/steward
DB=target/cli-100k-base.db
[ -f "$DB" ] || "$OUT/make_db" "$DB" 50000 50000
cp "$DB" target/cli-100k-old.db
cp "$DB" target/cli-100k-new.db
echo "schema upgrade of the 100,000-ticket database by this build's first write (once):"
/usr/bin/time -f "  %e s wall, %M KB peak" \
    "$NEW" --db target/cli-100k-new.db --now "$NOW" ticket open --id UPGRADE \
    --estate riverside --kind repair --text 升级 >/dev/null

OPEN="ticket open --estate riverside --kind repair --text 水管漏水"
hyperfine -N --warmup 1 --runs 5 --export-markdown target/cli-100k-open.md \
    -n "open, no --id: $BASELINE" "$OLD --db target/cli-100k-old.db --now $NOW $OPEN" \
    -n "open, no --id: this build" "$NEW --db target/cli-100k-new.db --now $NOW $OPEN"
hyperfine -N --warmup 1 --runs 5 --export-markdown target/cli-100k-list.md \
    -n "list --status open: $BASELINE (all 50,000 rows)" "$OLD --db target/cli-100k-old.db ticket list --status open" \
    -n "list --status open: this build (newest 50 + count)" "$NEW --db target/cli-100k-new.db ticket list --status open" \
    -n "list --status open --limit 0: this build (all rows)" "$NEW --db target/cli-100k-new.db ticket list --status open --limit 0" \
    -n "list --status open --sort deadline: this build" "$NEW --db target/cli-100k-new.db ticket list --status open --sort deadline"
hyperfine -N --warmup 3 --runs 30 --export-markdown target/cli-100k-show.md \
    -n "show: $BASELINE" "$OLD --db target/cli-100k-old.db ticket show T075000" \
    -n "show: this build" "$NEW --db target/cli-100k-new.db ticket show T075000"

# The report folds the period before it in the same pass, for the comparison.
hyperfine -N --warmup 1 --runs 3 --export-markdown target/cli-100k-report.md \
    -n "report quarterly 2026Q3: $BASELINE" "$OLD --db target/cli-100k-old.db --now $NOW report quarterly 2026Q3" \
    -n "report quarterly 2026Q3: this build" "$NEW --db target/cli-100k-new.db --now $NOW report quarterly 2026Q3"

echo "peak memory of ticket list --status open:"
/usr/bin/time -f "  $BASELINE, all rows: %M KB" "$OLD" --db target/cli-100k-old.db ticket list --status open >/dev/null
/usr/bin/time -f "  this build, newest 50: %M KB" "$NEW" --db target/cli-100k-new.db ticket list --status open >/dev/null
/usr/bin/time -f "  this build, --limit 0: %M KB" "$NEW" --db target/cli-100k-new.db ticket list --status open --limit 0 >/dev/null
