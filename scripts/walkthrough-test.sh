#!/usr/bin/env bash
# walkthrough-test: runs the README's walk-through against a fresh sandbox and
# checks every HTTP status, so the README and the code cannot drift apart.
#
# The walk-through is every fenced block of README.md opened with
# "```sh walkthrough", in order, in one bash. A command line (with its
# backslash continuations) that calls `gw` — the README's curl wrapper, which
# prints the status on stderr after the body — must end in a comment that
# starts with the expected status ("# 201", "# 404 not-found: …"); the test
# runs the line, takes the status it printed and compares. Every line must
# exit 0, every gw line must print exactly one status, and a status comment on
# a line without gw is an error. Other lines (variables, echo) just run.
#
# The sandbox is the gateway as `make run` starts it, with
# PLESKGATE_SANDBOX_PASSWORD=demo (the walk-through's password), on a free
# loopback port given to the walk-through as G.
#
# Needs Go, bash, curl (>= 7.76: -w '%{stderr}') and jq (installed with apt
# when missing and run as root). README=path overrides the README.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
readme=${README:-$repo/README.md}
die() { printf 'walkthrough-test: %s\n' "$*" >&2; exit 1; }

command -v curl >/dev/null || die "curl is required"
if ! command -v jq >/dev/null; then
	[ "$(id -u)" = 0 ] || die "jq is required (Debian package jq)"
	echo "walkthrough-test: installing jq"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq </dev/null >/dev/null ||
		{ apt-get update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq </dev/null >/dev/null; } ||
		die "apt-get install jq failed"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pleskgate-walkthrough.XXXXXX")
gw_pid=
cleanup() {
	if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
		kill -TERM "$gw_pid" 2>/dev/null
		wait "$gw_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the walk-through, as a script that checks itself ---------------------------
# awk writes one record per command line: the expected status (or "-"),
# a tab, the 1-based README line number, a tab, the command.
awk '
	/^```sh walkthrough[[:space:]]*$/ { inblock = 1; blocks++; next }
	inblock && /^```/ { inblock = 0; if (cmd != "") { print "unterminated continuation at line " start > "/dev/stderr"; exit 2 } next }
	!inblock { next }
	{
		line = $0
		if (cmd == "") start = NR
		if (line ~ /\\$/) { cmd = cmd substr(line, 1, length(line) - 1) " "; next }
		cmd = cmd line
		if (cmd ~ /^[[:space:]]*(#.*)?$/) { cmd = ""; next }
		want = "-"
		if (match(cmd, /[[:space:]]#[[:space:]]*[1-5][0-9][0-9]([^0-9].*)?$/)) {
			want = substr(cmd, RSTART, RLENGTH); sub(/^[[:space:]]#[[:space:]]*/, "", want); want = substr(want, 1, 3)
		}
		gsub(/\t/, " ", cmd)
		printf "%s\t%d\t%s\n", want, start, cmd
		cmd = ""
	}
	END { if (inblock) { print "unterminated walkthrough block" > "/dev/stderr"; exit 2 } if (blocks == 0) { print "no ```sh walkthrough block" > "/dev/stderr"; exit 2 } }
' "$readme" >"$tmp/steps" || die "could not extract the walk-through from $readme"

calls_gw() { [[ $1 =~ (^|[[:space:]\(\|\;\&\$])gw[[:space:]] ]]; }
defines_gw() { [[ $1 =~ ^[[:space:]]*gw\(\) ]]; }

{
	echo '__walk_failed=0 __walk_checked=0'
	echo '__walk_check() { # expected, line, rc, stderr file'
	echo '	local got n; n=$(grep -cE "^[0-9]{3}$" "$4"); got=$(grep -E "^[0-9]{3}$" "$4" | tail -1)'
	echo '	__walk_checked=$((__walk_checked + 1))'
	echo '	if [ "$3" != 0 ]; then echo "FAIL README.md:$2: exit status $3"; __walk_failed=$((__walk_failed + 1));'
	echo '	elif [ "$1" = "-" ]; then :'
	echo '	elif [ "$n" != 1 ]; then echo "FAIL README.md:$2: printed $n statuses, want exactly one"; __walk_failed=$((__walk_failed + 1));'
	echo '	elif [ "$got" != "$1" ]; then echo "FAIL README.md:$2: status $got, the README says $1"; __walk_failed=$((__walk_failed + 1));'
	echo '	else echo "ok   README.md:$2: $got"; fi'
	echo '}'
	i=0
	while IFS=$'\t' read -r want line cmd; do
		i=$((i + 1))
		if calls_gw "$cmd" && ! defines_gw "$cmd" && [ "$want" = - ]; then
			echo "walkthrough-test: README.md:$line calls gw but its comment names no expected status" >&2
			exit 1
		fi
		if [ "$want" != - ] && ! calls_gw "$cmd"; then
			echo "walkthrough-test: README.md:$line names a status ($want) but does not call gw" >&2
			exit 1
		fi
		printf 'printf "\\n\\$ %%s\\n" %q\n' "$cmd"
		printf '{ %s\n} 2>"%s/err.%d"; __walk_rc=$?\n' "$cmd" "$tmp" "$i"
		printf 'cat "%s/err.%d" >&2\n' "$tmp" "$i"
		printf '__walk_check %s %s "$__walk_rc" "%s/err.%d" >&2\n' "$want" "$line" "$tmp" "$i"
	done <"$tmp/steps"
	echo 'echo >&2; echo "walkthrough-test: $__walk_checked lines, $__walk_failed failed" >&2'
	echo '[ "$__walk_failed" = 0 ]'
} >"$tmp/walk.sh" || exit 1
grep -q . "$tmp/steps" || die "the walk-through has no command"

# --- the sandbox, as `make run` starts it ----------------------------------------
timeout 300 go build -o "$tmp/pleskgate" ./cmd/pleskgate </dev/null || die "go build ./cmd/pleskgate failed"
started=
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	PLESKGATE_LISTEN=127.0.0.1:$port PLESKGATE_SANDBOX_PASSWORD=demo "$tmp/pleskgate" </dev/null >"$tmp/gateway.log" 2>&1 &
	gw_pid=$!
	for _ in $(seq 100); do # up to about 10 s
		kill -0 "$gw_pid" 2>/dev/null || break
		if curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then started=1; break; fi
		sleep 0.1
	done
	[ -n "$started" ] && kill -0 "$gw_pid" 2>/dev/null && break # ours, not someone else's on that port
	started=
	kill "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; gw_pid=
	echo "sandbox did not start on port $port (attempt $attempt):"; tail -3 "$tmp/gateway.log"
done
[ -n "$started" ] || die "could not start the sandbox gateway"
grep -q SANDBOX "$tmp/gateway.log" || { cat "$tmp/gateway.log"; die "the gateway did not start in sandbox mode"; }
echo "walkthrough-test: $(grep -c . "$tmp/steps") command lines of $readme against the sandbox on 127.0.0.1:$port"

# In a directory of its own, with nothing but G from the test.
mkdir "$tmp/cwd"
(cd "$tmp/cwd" && G=http://127.0.0.1:$port bash --noprofile --norc "$tmp/walk.sh")
rc=$?
if [ "$rc" != 0 ]; then
	echo; echo "--- last gateway log lines"; tail -20 "$tmp/gateway.log"
fi
exit "$rc"
