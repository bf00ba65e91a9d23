#!/usr/bin/env bash
# CMPP interoperability with software nobody here wrote, against a real `numbind sms-sim`:
# 1. the PyPI client pycmpp (CMPP 2.0) connects, authenticates and submits a Chinese message that arrives intact
#    on the phone (PYCMPP_PYTHON: a python with pycmpp installed);
# 2. when tshark is installed, a CMPP 3.0 exchange is captured on loopback and Wireshark's CMPP dissector must
#    find the PDUs and no malformed packet.
set -euo pipefail
cd "$(dirname "$0")/.."
PYCMPP_PYTHON=${PYCMPP_PYTHON:-python3}
target=${CARGO_TARGET_DIR:-target}
if [ -z "${NUMBIND_SKIP_BUILD:-}" ]; then cargo build -q --bin numbind; fi
work=$(mktemp -d)
server_pid=""
capture_pid=""
cleanup() {
    [ -n "$capture_pid" ] && kill "$capture_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

SP_CODE=901234 SERVICE_CODE=1065801 PHONE=13800138000
export NUMBIND_INTEROP_CMPP_SECRET=interop-shared-secret
cat > "$work/accounts.toml" <<TOML
[[accounts]]
protocol = "cmpp"
system_id = "$SP_CODE"
password_env = "NUMBIND_INTEROP_CMPP_SECRET"
routes = ["$SERVICE_CODE"]
TOML
"$target/debug/numbind" sms-sim --http 127.0.0.1:0 --smpp 127.0.0.1:0 --cmpp 127.0.0.1:0 \
    --data-dir "$work/smsc" --config "$work/accounts.toml" > "$work/out" 2> "$work/err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening cmpp=' "$work/out" 2>/dev/null && break; sleep 0.1; done
cmpp=$(sed -n 's/^listening cmpp=//p' "$work/out")
http=http://$(sed -n 's/^listening http=//p' "$work/out")
[ -n "$cmpp" ] || { cat "$work/err"; echo "sms-sim did not start" >&2; exit 1; }

"$PYCMPP_PYTHON" scripts/cmpp_interop_pycmpp.py "$cmpp" "$http" "$SP_CODE" "$NUMBIND_INTEROP_CMPP_SECRET" "$PHONE"

if ! command -v tshark > /dev/null; then
    echo "tshark is not installed: the capture check did not run" >&2
    [ -z "${NUMBIND_REQUIRE_TSHARK:-}" ] || exit 1
    exit 0
fi
port=${cmpp##*:}
tshark -q -i lo -f "tcp port $port" -w "$work/cmpp.pcapng" 2> "$work/tshark.err" &
capture_pid=$!
for _ in $(seq 100); do grep -q 'Capturing on' "$work/tshark.err" 2>/dev/null && break; sleep 0.1; done
python3 scripts/cmpp_v3_exchange.py "$cmpp" "$SP_CODE" "$NUMBIND_INTEROP_CMPP_SECRET" "$PHONE" "$SERVICE_CODE"
sleep 1
kill -INT "$capture_pid"
wait "$capture_pid" || true
capture_pid=""
tshark -r "$work/cmpp.pcapng" -d "tcp.port==$port,cmpp" -Y cmpp
malformed=$(tshark -r "$work/cmpp.pcapng" -d "tcp.port==$port,cmpp" -Y "_ws.malformed" | wc -l)
pdus=$(tshark -r "$work/cmpp.pcapng" -d "tcp.port==$port,cmpp" -Y cmpp -T fields -e cmpp.Command_Id | wc -l)
echo "tshark: $pdus frames with CMPP, $malformed malformed"
[ "$malformed" -eq 0 ] || { tshark -r "$work/cmpp.pcapng" -d "tcp.port==$port,cmpp" -Y "_ws.malformed" -V | head -80; exit 1; }
[ "$pdus" -ge 10 ] || { echo "expected at least 10 cmpp frames (5 requests, 5 responses)" >&2; exit 1; }
