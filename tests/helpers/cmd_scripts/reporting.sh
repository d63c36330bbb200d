#!/bin/sh
# A --command test program in plain shell that reports every step: reporting.sh REPORTS RESULT
# Configuration 0_0_N reports loss N + 1/step for steps 1..BANDSTER_BUDGET. Configuration 0_0_0 runs to the end
# and writes its result; the others report step 1 and then wait to be stopped (they exit only on a signal):
#   N = 1: on SIGTERM it writes a result of its own and exits 0;
#   N = 2: on SIGTERM it exits 143 without a result (the worker takes its last report);
#   N = 3: ignores SIGTERM (so does its sleep) and is SIGKILLed after --stop-grace.
set -eu
reports="$1"
result="$2"
n="${BANDSTER_CONFIG_ID##*_}"
[ "$BANDSTER_REPORTS" = "$reports" ]
case "$n" in
    1) trap 'echo "{\"loss\": 2.5, \"info\": {\"sigterm\": true}}" > "$result"; exit 0' TERM ;;
    2) trap 'exit 143' TERM ;;
    3) trap '' TERM ;;
esac
step=1
last=$(printf '%.0f' "$BANDSTER_BUDGET")
while [ "$step" -le "$last" ]; do
    awk -v n="$n" -v s="$step" 'BEGIN { printf "{\"step\": %d, \"loss\": %.12f, \"info\": {\"n\": %d}}\n", s, n + 1 / s, n }' >> "$reports"
    if [ "$n" != 0 ]; then
        sleep 60 &
        wait $! || true
        sleep 60  # N = 3: the first sleep ignored SIGTERM too and ran out; SIGKILL comes long before this ends
    fi
    step=$((step + 1))
done
awk -v n="$n" -v b="$BANDSTER_BUDGET" 'BEGIN { printf "%.12f\n", n + 1 / b }' > "$result"
