#!/usr/bin/env sh
# One CLI command on a warm 100,000-ticket database (target: under 20 ms wall).
#
#   benches/cli_warm.sh [DB]   (default: target/cli-warm.db, rebuilt when missing)
#
# The database (examples/make_db.rs): 50,000 open elevator repairs and 50,000
# closed ones, each closed one with its whole lifecycle (18 events) in the log.
# Needs hyperfine (apt-get install hyperfine).
set -eu
cd "$(dirname "$0")/.."
DB=${1:-target/cli-warm.db}

cargo build --release --quiet --bin steward --example make_db
if [ ! -f "$DB" ]; then
    target/release/examples/make_db "$DB" 50000 50000
fi
BIN=target/release/steward
NOW=2026-07-06T12:00:00+08:00

# Warm: the first runs read the file into the page cache (--warmup), the timed
# ones find it there, as on a server that keeps its database in use.
#  - show: a closed ticket with its 18-event history (read-only open).
#  - respond: a write transaction on an open ticket; repeated on the same one,
#    each run appends one more `action_recorded` event.
hyperfine --warmup 5 --runs 50 -N --export-markdown target/cli-warm.md \
    "$BIN --db $DB ticket show T075000" \
    "$BIN --db $DB ticket show T025000" \
    "$BIN --db $DB --now $NOW ticket respond T025001 --by bench"

# First responses, one per ticket (what an operator does): distinct tickets,
# one run each, so every run pays the catch-up timers and the first response.
hyperfine --runs 1 -N --style none --export-json target/cli-warm-first.json \
    -L id "$(seq -s, -f 'T%06.0f' 30000 30019)" \
    "$BIN --db $DB --now $NOW ticket respond {id} --by bench" >/dev/null
python3 - <<'PY'
import json, statistics
runs = [r["mean"] * 1000 for r in json.load(open("target/cli-warm-first.json"))["results"]]
print(f"first respond on 20 distinct open tickets: mean {statistics.mean(runs):.1f} ms, "
      f"median {statistics.median(runs):.1f} ms, max {max(runs):.1f} ms")
PY
