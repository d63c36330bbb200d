#!/bin/sh
# A --command test program in plain shell: objective.sh RESULT
# The loss comes from the environment: (BANDSTER_HP_X - 0.3)^2 + 1/BANDSTER_BUDGET, written as a bare number.
# Fails (status 4, message on stderr) when BANDSTER_BUDGET equals $FAIL_ON_BUDGET.
set -eu
result="$1"
echo "config file: $BANDSTER_CONFIG, previous budget: '${BANDSTER_PREVIOUS_BUDGET}'"
if [ "${FAIL_ON_BUDGET:-}" = "$BANDSTER_BUDGET" ]; then
    echo "objective.sh: refusing budget $BANDSTER_BUDGET" >&2
    exit 4
fi
awk -v x="$BANDSTER_HP_X" -v b="$BANDSTER_BUDGET" 'BEGIN { printf "%.12f\n", (x - 0.3) ^ 2 + 1 / b }' > "$result"
