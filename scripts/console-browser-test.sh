#!/usr/bin/env bash
# The operator console in a real headless Chromium: starts `numbind up` on port 0 in a temporary directory, binds
# one box through the real flow (agent + phone SMS), creates an admin token, then drives the browser (sign in,
# search the number, open its binding, unbind with a reason, see the audit event, switch to Chinese) and saves
# screenshots to target/console-screenshot.png (and -overview.png, -zh.png beside it). Exits non-zero on any
# failed step.
#
# Installs chromium, chromium-driver and nodejs with apt-get when missing (CI is a fresh machine).
# NUMBIND_SKIP_BUILD=1 uses an existing target/debug/numbind.
set -euo pipefail

repository="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repository"
numbind="$repository/target/debug/numbind"
screenshot="${CONSOLE_SCREENSHOT:-$repository/target/console-screenshot.png}"
number="13800138000"
started_at=$(date +%s)

say() { printf 'console-browser-test: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

install_missing() {
    local missing=()
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    [[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
    command -v node >/dev/null || missing+=(nodejs)
    [[ -d /usr/share/fonts/opentype/noto ]] || missing+=(fonts-noto-cjk) # the Chinese console's screenshot
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        local sudo=""
        [[ $(id -u) -eq 0 ]] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    local node_major
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    ((node_major >= 18)) || fail "node $node_major is too old: the driver needs fetch (node 18 or newer)"
}

work="$(mktemp -d -t numbind-console-XXXXXX)"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if ((status != 0)); then
        for log in "$work"/*.err; do
            [[ -s $log ]] && { say "--- $(basename "$log") (last lines)"; tail -n 20 "$log" >&2; }
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# Waits (bounded) until file `$2` holds a line containing `$3`; prints that line.
wait_for_line() {
    local what=$1 file=$2 needle=$3 deadline=$((SECONDS + ${4:-30}))
    while ((SECONDS < deadline)); do
        local line
        line=$(grep -m1 -F -- "$needle" "$file" 2>/dev/null || true)
        [[ -n $line ]] && { printf '%s\n' "$line"; return 0; }
        sleep 0.1
    done
    fail "no $what in time"
}

install_missing
if [[ ${NUMBIND_SKIP_BUILD:-0} != 1 ]]; then
    say "building the numbind binary"
    cargo build -q -p numbind --bin numbind
fi
[[ -x $numbind ]] || fail "$numbind is missing"

say "starting numbind up in $work"
"$numbind" up --data-dir "$work/data" --platform-http 127.0.0.1:0 --smsc-http 127.0.0.1:0 \
    --smsc-smpp 127.0.0.1:0 --smsc-smpp-tls 127.0.0.1:0 --smsc-cmpp 127.0.0.1:0 --oss-http 127.0.0.1:0 >"$work/up.out" 2>"$work/up.err" &
pids+=($!)
platform=$(wait_for_line "platform listener" "$work/up.out" "listening platform-http=")
platform=${platform#listening platform-http=}
smsc=$(wait_for_line "SMS centre listener" "$work/up.out" "listening smsc-http=")
smsc=${smsc#listening smsc-http=}
key_file=$(wait_for_line "platform key file" "$work/up.out" "platform-key-file=")
key_file=${key_file#platform-key-file=}
ca_file=$(wait_for_line "certificate authority file" "$work/up.out" "ca-file=")
ca_file=${ca_file#ca-file=}

say "binding a box to $number through the real flow"
"$numbind" agent --state-dir "$work/agent" --platform-url "https://$platform" --platform-key-file "$key_file" \
    --platform-ca-file "$ca_file" --json-events run >"$work/agent.out" 2>"$work/agent.err" &
agent_pid=$!
pids+=("$agent_pid")
activation=$(wait_for_line "activation from the agent" "$work/agent.out" '"event":"activation"' 30)
sms_text=$(node -p 'JSON.parse(process.argv[1]).sms_text' "$activation")
terminal_id=$(node -p 'JSON.parse(process.argv[1]).terminal_id' "$activation")
"$numbind" phone send --smsc-url "http://$smsc" --from "$number" --to 10658000 "$sms_text" >/dev/null 2>"$work/phone.err"
deadline=$((SECONDS + 60))
while kill -0 "$agent_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "the box was not bound in time"
    sleep 0.2
done
wait "$agent_pid" || fail "the agent exited with status $?"
grep -q '"event":"bound"' "$work/agent.out" || fail "the agent exited without a bound event"
say "terminal $terminal_id is bound"

token=$("$numbind" operator token create --data-dir "$work/data" --name console-browser-test --role admin 2>"$work/token.err")

say "driving chromium"
mkdir -p "$(dirname "$screenshot")" "$work/profile"
CONSOLE_URL="https://$platform" CONSOLE_CERTIFICATE="$work/data/tls/platform.pem" CONSOLE_TOKEN="$token" BOUND_NUMBER="$number" TERMINAL_ID="$terminal_id" \
    SCREENSHOT="$screenshot" BROWSER_PROFILE_DIR="$work/profile" \
    node "$repository/scripts/console-browser-driver.mjs" || fail "the browser steps failed"

say "checking the number was told by SMS"
deadline=$((SECONDS + 30))
until "$numbind" phone inbox --smsc-url "http://$smsc" "$number" 2>/dev/null | grep -q "运营商已解除"; do
    ((SECONDS < deadline)) || fail "no operator-unbind SMS reached $number"
    sleep 0.2
done
"$numbind" audit verify --data-dir "$work/data" >/dev/null || fail "the audit chain does not verify"
say "passed in $(($(date +%s) - started_at)) s; screenshot: $screenshot"
