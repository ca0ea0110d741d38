#!/usr/bin/env bash
# `make test`: the whole suite as two pytest processes at once, one per core (most tests wait on
# servers they started, so two halves take little more than the longer half). Each half's output is
# shown when both are done, then one line with the totals. With PYTEST_ARGS (a selection, -k, -x …)
# it is one ordinary pytest run.
set -u
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}

if [ -n "${PYTEST_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  exec "$PYTEST" $PYTEST_ARGS
fi

mapfile -t dirs < <(ls -d tests/*/ | grep -v '/fakes/$')
half=$(( (${#dirs[@]} + 1) / 2 ))
logs=$(mktemp -d)
"$PYTEST" "${dirs[@]:0:$half}" > "$logs/first.log" 2>&1 &
first=$!
"$PYTEST" "${dirs[@]:$half}" > "$logs/second.log" 2>&1 &
second=$!
wait "$first"; first_status=$?
wait "$second"; second_status=$?
cat "$logs/first.log" "$logs/second.log"

python3 - "$logs/first.log" "$logs/second.log" <<'PY'
import re
import sys

totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
for path in sys.argv[1:]:
    lines = [line for line in open(path, errors="replace").read().splitlines() if " in " in line and "=" in line]
    summary = lines[-1] if lines else ""
    for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary):
        totals["error" if word.startswith("error") else word] += int(count)
print(f"total: {totals['passed']} passed, {totals['failed'] + totals['error']} failed, {totals['skipped']} skipped")
PY
rm -rf "$logs"
[ "$first_status" -eq 0 ] && [ "$second_status" -eq 0 ]
