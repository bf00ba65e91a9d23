#!/usr/bin/env bash
# Runs schemathesis against the OpenAPI document each numbind HTTP service serves at /openapi.json:
# the platform (terminal, OSS, operator APIs), the OSS admin API and the SMS centre's phone API, all started by
# `numbind up` on loopback ports chosen by the kernel, in a temporary data directory.
#
# Checks: no 5xx (not_a_server_error), every response matches the document (response_schema_conformance,
# status_code_conformance, content_type_conformance, response_headers_conformance), and invalid data is refused
# with a 4xx (negative_data_rejection). The hooks (scripts/schemathesis_hooks.py) sign the positive cases of the
# terminal API as a registered test terminal and authenticate those of the OSS API with the shared secret, so the
# happy paths are generated as well as the refusals; the operator API is exercised with a real admin token and the
# payments API as the demo merchant `numbind up` creates.
# Each run draws new examples (the seed is printed; SCHEMATHESIS_SEED=<n> replays one).
# Every request uses its own connection (`Connection: close`): the console answers some forms (303 to sign-in)
# without reading their body, after which hyper closes the kept-alive connection; a client reusing it races that
# close and loses the request, which schemathesis would report as a network error rather than a finding.
#
# Needs: target/debug/numbind (`cargo build -p numbind`) and `schemathesis` on PATH
# with PyNaCl beside it for the hooks (`pip install schemathesis==3.39.16 PyNaCl==1.5.0`), or
# SCHEMATHESIS=/path/to/schemathesis from such a venv.
# Tunables: MAX_EXAMPLES (default 50), TIME_LIMIT_SECONDS per service (default 420), NUMBIND (binary path).
# The limit only catches a hang: the platform's run takes 50-60 s on an idle 2-core machine, and a limit of 60 s
# failed CI whenever the machine was busy (a time limit is not a test).
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPTS_DIR="$PWD/scripts"
NUMBIND="${NUMBIND:-$PWD/target/debug/numbind}"
SCHEMATHESIS="${SCHEMATHESIS:-schemathesis}"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
TIME_LIMIT_SECONDS="${TIME_LIMIT_SECONDS:-420}"

[[ -x "$NUMBIND" ]] || { echo "error: $NUMBIND not found; run cargo build -p numbind" >&2; exit 2; }
command -v "$SCHEMATHESIS" >/dev/null || { echo "error: schemathesis not found (pip install schemathesis==3.39.16)" >&2; exit 2; }

DATA_DIR="$(mktemp -d)"
UP_PID=""
cleanup() {
    if [[ -n "$UP_PID" ]] && kill -0 "$UP_PID" 2>/dev/null; then
        kill -TERM "$UP_PID" 2>/dev/null || true
        wait "$UP_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA_DIR"
}
trap cleanup EXIT

# The operator token needs the platform's database; creating it first also creates the database.
OPERATOR_TOKEN="$("$NUMBIND" operator token create --data-dir "$DATA_DIR" --name schemathesis --role admin 2>/dev/null \
    | grep -o 'nbo_[A-Za-z0-9_-]*' | head -n 1)"
[[ -n "$OPERATOR_TOKEN" ]] || { echo "error: could not create an operator token" >&2; exit 1; }

RUST_LOG="${RUST_LOG:-warn}" "$NUMBIND" up --data-dir "$DATA_DIR" \
    --platform-http 127.0.0.1:0 --smsc-http 127.0.0.1:0 --smsc-smpp 127.0.0.1:0 --smsc-smpp-tls 127.0.0.1:0 \
    --smsc-cmpp 127.0.0.1:0 --oss-http 127.0.0.1:0 >"$DATA_DIR/up.stdout" 2>"$DATA_DIR/up.stderr" &
UP_PID=$!

listener() {
    sed -n "s/^listening $1=//p" "$DATA_DIR/up.stdout" | head -n 1
}

deadline=$((SECONDS + 30))
# `merchant-credentials=` is the last line `up` prints once everything listens.
until grep -q "^merchant-credentials=" "$DATA_DIR/up.stdout"; do
    if ! kill -0 "$UP_PID" 2>/dev/null || ((SECONDS > deadline)); then
        echo "error: numbind up did not start" >&2
        cat "$DATA_DIR/up.stderr" >&2
        exit 1
    fi
    sleep 0.2
done

# `run_schemathesis NAME URL [schemathesis options]`: the platform and the OSS serve HTTPS with certificates from the
# local authority `numbind up` made, which schemathesis is told to trust; the phones' API is plain HTTP.
run_schemathesis() {
    local name="$1" base_url="$2"
    shift 2
    echo "== schemathesis: $name ($base_url/openapi.json)"
    local started=$SECONDS
    # Run from the data directory so hypothesis leaves nothing in the repository.
    (cd "$DATA_DIR" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$SCRIPTS_DIR${PYTHONPATH:+:$PYTHONPATH}" \
        timeout --signal=INT "$TIME_LIMIT_SECONDS" "$SCHEMATHESIS" run "$base_url/openapi.json" \
        --checks "$CHECKS" \
        --data-generation-method all \
        --hypothesis-max-examples "$MAX_EXAMPLES" \
        ${SCHEMATHESIS_SEED:+--hypothesis-seed "$SCHEMATHESIS_SEED"} \
        --hypothesis-suppress-health-check "$SUPPRESSED_HEALTH_CHECKS" \
        --request-timeout 5000 \
        --no-color \
        -H "Connection: close" \
        "$@")
    local outcome=$?
    echo "== $name: exit $outcome in $((SECONDS - started)) s"
    return "$outcome"
}

CHECKS="not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
CHECKS="$CHECKS,response_headers_conformance,negative_data_rejection"
# too_slow: a signed request costs an Ed25519 signature in Python and a TLS round trip, which hypothesis's budget for
# generating data counts against us; filter_too_much: the header filter above drops most negative header cases.
SUPPRESSED_HEALTH_CHECKS="${SUPPRESSED_HEALTH_CHECKS:-too_slow,filter_too_much}"
export NUMBIND_SCHEMATHESIS_CA="$DATA_DIR/tls/ca.pem"
export NUMBIND_SCHEMATHESIS_OSS_SECRET_FILE="$DATA_DIR/secrets/oss-platform.secret"
export NUMBIND_SCHEMATHESIS_OPERATOR_TOKEN="$OPERATOR_TOKEN"
MERCHANT_CREDENTIALS="$(sed -n 's/^merchant-credentials=//p' "$DATA_DIR/up.stdout" | head -n 1)"
[[ -n "$MERCHANT_CREDENTIALS" ]] || { echo "error: numbind up printed no merchant-credentials= line" >&2; exit 1; }
NUMBIND_SCHEMATHESIS_MERCHANT_TOKEN="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$MERCHANT_CREDENTIALS")"
export NUMBIND_SCHEMATHESIS_MERCHANT_TOKEN
status=0
TRUST=(--request-tls-verify "$DATA_DIR/tls/ca.pem")
run_schemathesis platform "https://$(listener platform-http)" "${TRUST[@]}" --exclude-path-regex '^/console' || status=1
# The console answers a form it cannot use (no session, a malformed field) with a page a browser can show (the
# sign-in page, or a 303 to it), not a 4xx: negative_data_rejection does not apply to it.
CHECKS="${CHECKS%,negative_data_rejection}" \
    run_schemathesis console "https://$(listener platform-http)" "${TRUST[@]}" --include-path-regex '^/console' \
    || status=1
NUMBIND_SCHEMATHESIS_OSS_ADMIN_TOKEN="$(cat "$DATA_DIR/secrets/oss-admin.token")" \
    run_schemathesis oss-sim "https://$(listener oss-http)" "${TRUST[@]}" || status=1
run_schemathesis sms-sim "http://$(listener smsc-http)" || status=1

if ! kill -0 "$UP_PID" 2>/dev/null; then
    echo "error: numbind up died during the run" >&2
    status=1
fi
if ((status != 0)); then
    echo "--- numbind up stderr (last 50 lines)" >&2
    tail -n 50 "$DATA_DIR/up.stderr" >&2
fi
exit "$status"
