#!/usr/bin/env bash
# Builds the Debian packages numbind and numbind-agent with cargo-deb, installs them with dpkg -i, starts each
# shipped systemd unit's ExecStart line by hand as the unit's user (systemd may not run here) with the shipped
# configuration files, binds a box through them (the installed agent, a phone through the SMS centre's API),
# stops everything with SIGTERM and purges both packages. Exits non-zero on any failure.
#
# Safe to run on one machine again and again (CI runs it): it refuses to start where either package is installed
# already (an operator's install is not this test's to purge), and on any exit, failed or not, it stops what it
# started, purges both packages, removes the pinned key it wrote and the `numbind` user and group postinst made
# (the package itself keeps them, as Debian policy advises), and its temporary directory.
#
# The packages are made from the debug build the benchmark smoke run already has (`cargo deb --no-build
# --profile dev`): a release build of the workspace takes longer here than the whole CI budget for this step,
# and what this test checks (files, users, units, conffiles, the shipped configuration) does not depend on the
# optimisation level. A release package is `cargo deb -p numbind` alone.
#
# Needs root (dpkg -i, setpriv from util-linux), cargo-deb (`cargo install cargo-deb --locked`), python3 and curl.
# NUMBIND_SKIP_BUILD=1 uses the binaries already built.
set -euo pipefail
cd "$(dirname "$0")/.."

for package in numbind numbind-agent; do
    if dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$'; then
        echo "package-test: $package is installed on this machine; purge it first (dpkg --purge $package)" >&2
        exit 1
    fi
done
user_existed=0
getent passwd numbind >/dev/null && user_existed=1
work=$(mktemp -d /tmp/numbind-package-test.XXXXXX)
chmod 755 "$work"
pids=()
started=$SECONDS

cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*.log; do echo "---- $log"; tail -n 30 "$log"; done
    fi
    rm -f /etc/numbind/platform-keys.pub
    dpkg --purge numbind-agent numbind >/dev/null 2>&1 || true
    if [ "$user_existed" = 0 ]; then
        userdel numbind 2>/dev/null || true
        groupdel numbind 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

say() { echo "package-test ($((SECONDS - started)) s): $*"; }

if [ "${NUMBIND_SKIP_BUILD:-0}" != 1 ]; then
    cargo build -p numbind -p numbind-platform -p numbind-oss-sim -p numbind-sms-sim -p numbind-device-agent --bins
fi
cargo deb -p numbind --no-build --profile dev --fast --output "$work/numbind.deb" 2>&1 | grep -v "dev profile" || true
cargo deb -p numbind-device-agent --no-build --profile dev --fast --output "$work/numbind-agent.deb" 2>&1 \
    | grep -v "dev profile" || true
test -s "$work/numbind.deb" && test -s "$work/numbind-agent.deb"
say "packages built"

dpkg -i "$work/numbind.deb" "$work/numbind-agent.deb"
getent passwd numbind >/dev/null
test "$(stat -c '%U %a' /var/lib/numbind)" = "numbind 700"
test "$(stat -c '%U %a' /etc/numbind/secrets/oss-platform.secret)" = "numbind 600"
dpkg-query --control-show numbind conffiles | grep -q /etc/numbind/platform.toml
say "installed: user numbind, /var/lib/numbind 0700, secrets 0600, conffiles"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The shipped files name the usual ports; variables override a file, so this test runs beside anything that
# already listens on them.
platform_port=$(free_port); oss_port=$(free_port); smsc_http_port=$(free_port); smsc_smpp_port=$(free_port)
export NUMBIND_PLATFORM_HTTP=127.0.0.1:$platform_port NUMBIND_PLATFORM_URL=http://127.0.0.1:$platform_port
export NUMBIND_OSS_HTTP=127.0.0.1:$oss_port NUMBIND_OSS_URL=http://127.0.0.1:$oss_port
export NUMBIND_SMSC_HTTP=127.0.0.1:$smsc_http_port NUMBIND_SMSC_SMPP=127.0.0.1:$smsc_smpp_port
export NUMBIND_SMSC_ADDRESS=127.0.0.1:$smsc_smpp_port NUMBIND_OSS_SEED_DEMO=true NO_COLOR=1

# The ExecStart line of an installed unit, and its User= (root when none).
exec_start() { sed -n 's/^ExecStart=//p' "/lib/systemd/system/$1.service"; }
unit_user() { sed -n 's/^User=//p' "/lib/systemd/system/$1.service" | grep . || echo root; }

start_unit() {
    local unit=$1
    # shellcheck disable=SC2046 # the ExecStart line is words, as systemd splits it
    setpriv --reuid "$(unit_user "$unit")" --regid "$(unit_user "$unit")" --init-groups -- $(exec_start "$unit") >"$work/$unit.out" 2>"$work/$unit.log" &
    pids+=($!)
    for _ in $(seq 1 300); do
        grep -q '^listening http=' "$work/$unit.out" 2>/dev/null && break
        kill -0 "${pids[-1]}" 2>/dev/null || { echo "$unit exited at start" >&2; return 1; }
        sleep 0.1
    done
    grep -q '^listening http=' "$work/$unit.out"
    grep -q 'configuration read from file' "$work/$unit.log"
    say "$unit started as $(unit_user "$unit"): $(exec_start "$unit")"
}

start_unit numbind-smsc
start_unit numbind-platform
start_unit numbind-oss

cp /var/lib/numbind/platform-signing.key.pub /etc/numbind/platform-keys.pub
agent=$(exec_start numbind-agent-watch | sed 's/ watch$//')
# shellcheck disable=SC2086
$agent run >"$work/agent.out" 2>"$work/agent.log" &
agent_pid=$!
pids+=("$agent_pid")
wait_event() {
    for _ in $(seq 1 600); do
        grep -q "\"event\":\"$1\"" "$work/agent.out" && return 0
        sleep 0.1
    done
    echo "the agent gave no $1 event" >&2
    return 1
}
wait_event activation
sms_text=$(grep '"event":"activation"' "$work/agent.out" | head -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["sms_text"])')
curl -sS --fail -X POST "http://127.0.0.1:$smsc_http_port/v1/phones/13800138000/messages" \
    -H 'content-type: application/json' \
    -d "$(python3 -c 'import json,sys; print(json.dumps({"to": "10658000", "text": sys.argv[1]}))' "$sms_text")" >/dev/null
wait_event bound
grep '"event":"bound"' "$work/agent.out" | grep -q '138\*\*\*\*8000'
wait "$agent_pid"
say "bound a box through the installed packages (agent exited 0)"

# The agent's watch unit, started and stopped by SIGTERM like the services.
# shellcheck disable=SC2046
RUST_LOG=info $(exec_start numbind-agent-watch) >"$work/watch.out" 2>"$work/watch.log" &
watch_pid=$!
sleep 1
# SIGHUP (the units' ExecReload): the watch re-reads its pinned keys, the services their log level; none dies.
kill -HUP "$watch_pid" "${pids[0]}" "${pids[1]}" "${pids[2]}"
sleep 1
grep -q 'pinned platform keys re-read' "$work/watch.log"
for unit in numbind-smsc numbind-platform numbind-oss; do
    grep -q 'SIGHUP received' "$work/$unit.log"
    grep -Eq 'log level reloaded|RUST_LOG is set and stays in force' "$work/$unit.log"
done
kill -TERM "$watch_pid"
wait "$watch_pid"
say "SIGHUP: the watch re-read its pinned keys, each service its log level, all kept running"
for pid in "${pids[@]}"; do
    [ "$pid" = "$agent_pid" ] && continue
    kill -TERM "$pid"
    wait "$pid"
done
pids=()
say "every process stopped on SIGTERM with status 0"

rm -f /etc/numbind/platform-keys.pub # the pinned key this test put there, as an operator would
dpkg --purge numbind-agent numbind
test ! -e /etc/numbind && test ! -e /var/lib/numbind && test ! -e /usr/bin/numbind-platform
say "purged"
