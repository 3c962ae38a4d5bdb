#!/usr/bin/env bash
# Starts the Stripe simulator, the worker and the app together; Ctrl-C stops all three.
set -euo pipefail
port="${1:-5000}"
sim_port="${2:-12111}"
bin=.venv/bin
export FLASK_APP=wsgi
export BASE_URL="${BASE_URL:-http://127.0.0.1:${port}}"
export STRIPE_SIMULATOR_PORT="${sim_port}"

trap 'kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM

if $bin/flask --help 2>/dev/null | grep -q stripe-sim; then
  $bin/flask stripe-sim run --port "${sim_port}" --app-url "${BASE_URL}" &
fi
$bin/flask worker run &

echo
echo "  The app:   ${BASE_URL}"
echo "  Stripe simulator: http://127.0.0.1:${sim_port}  (pay with the test cards on its checkout page)"
echo "  Staff sign-ins are printed above. Ctrl-C stops everything."
echo
$bin/flask run --host 127.0.0.1 --port "${port}" --no-reload
