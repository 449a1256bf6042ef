#!/usr/bin/env bash
# clients-test: the gateway as its clients see it.
#   1. lint      openapi.yaml with Redocly CLI (tools/lint/, config .redocly.yaml)
#   2. browser   Swagger UI (/docs/) in headless Debian Chromium (e2e/browser/):
#                offline, every operation listed, Authorize (basicAuth first),
#                then Try it out → Execute on EVERY operation in openapi.yaml's
#                order with what the UI pre-fills, destructive ones included,
#                each on the first try
#   3. ts        the generated TypeScript client (examples/typescript/): types
#                current, compiles, CRUD + problem+json against the same
#                sandbox, after the browser ran every default on it
# against one sandbox gateway started as `make run` starts it (go run
# ./cmd/pleskgate, built once here) on a free loopback port.
#
# Installs what is missing: Debian's chromium (apt, as root) and each npm
# directory's locked dependencies (npm ci). Needs Go, node >= 20 and npm.
# Screenshots land in artifacts/. Exits non-zero when any step fails.
#
# Environment: CHROMIUM_PATH (default /usr/bin/chromium), ARTIFACTS_DIR
# (default <repo>/artifacts), CLIENTS_TEST_ONLY="lint ts browser" to run a subset.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
export ARTIFACTS_DIR=${ARTIFACTS_DIR:-$repo/artifacts}
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
only=${CLIENTS_TEST_ONLY:-lint ts browser}
wants() { [[ " $only " == *" $1 "* ]]; }

log() { printf '\n=== clients-test: %s\n' "$*"; }
die() { printf 'clients-test: %s\n' "$*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
command -v go >/dev/null || die "go is required"
command -v node >/dev/null || die "node (>= 20) is required"
command -v npm >/dev/null || die "npm is required"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "node >= 20 is required, found $(node --version)"

if wants browser && [ ! -x "$CHROMIUM_PATH" ]; then
	[ "$(id -u)" = 0 ] || die "$CHROMIUM_PATH is missing; install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH"
	log "installing chromium from Debian"
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get update -qq </dev/null || die "apt-get update failed"
	timeout 900 apt-get install -y -qq --no-install-recommends chromium fonts-liberation </dev/null >/dev/null || die "apt-get install chromium failed"
	[ -x "$CHROMIUM_PATH" ] || die "chromium installed but $CHROMIUM_PATH is missing"
fi

# npm ci unless node_modules was installed from exactly this lockfile.
npm_ci() {
	local dir=$1 stamp=$1/node_modules/.clients-test-lock
	if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return 0; fi
	log "npm ci in $dir"
	(cd "$dir" && timeout 600 npm ci --no-audit --no-fund --loglevel=error </dev/null) || die "npm ci failed in $dir"
	cp "$dir/package-lock.json" "$stamp"
}
wants lint && npm_ci tools/lint
wants ts && npm_ci examples/typescript
wants browser && npm_ci e2e/browser

# --- the sandbox, as `make run` starts it --------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pleskgate-clients-test.XXXXXX")
gw_pid=
cleanup() {
	if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
		kill -TERM "$gw_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$gw_pid" 2>/dev/null
		wait "$gw_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if wants ts || wants browser; then
	log "building the gateway"
	timeout 300 go build -o "$tmp/pleskgate" ./cmd/pleskgate </dev/null || die "go build ./cmd/pleskgate failed"

	password="ct-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	started=
	for attempt in 1 2 3; do
		port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
		PLESKGATE_LISTEN=127.0.0.1:$port PLESKGATE_SANDBOX_PASSWORD=$password \
			"$tmp/pleskgate" </dev/null >"$tmp/gateway.log" 2>&1 &
		gw_pid=$!
		for _ in $(seq 100); do # about 20 s
			kill -0 "$gw_pid" 2>/dev/null || break
			if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$port/healthz"; then started=1; break; fi
			sleep 0.1
		done
		[ -n "$started" ] && kill -0 "$gw_pid" 2>/dev/null && break # ours, not someone else's on that port
		started=
		kill "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; gw_pid=
		echo "sandbox did not start on port $port (attempt $attempt):"; tail -5 "$tmp/gateway.log"
	done
	[ -n "$started" ] || die "could not start the sandbox gateway"
	grep -qi sandbox "$tmp/gateway.log" || { cat "$tmp/gateway.log"; die "the gateway did not start in sandbox mode"; }
	export PLESKGATE_URL=http://127.0.0.1:$port PLESKGATE_LOGIN=admin PLESKGATE_PASSWORD=$password
	log "sandbox gateway on $PLESKGATE_URL (pid $gw_pid)"
fi

# --- the steps -----------------------------------------------------------------
passed=0 failed=0 failures=()
step() {
	local name=$1; shift
	log "$name"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); echo "clients-test: step '$name' FAILED"; fi
}

wants lint && step "lint openapi.yaml (Redocly CLI)" \
	timeout 180 node tools/lint/node_modules/@redocly/cli/bin/cli.js lint --config .redocly.yaml --format=stylish openapi.yaml </dev/null

# Swagger UI's defaults first, then the TypeScript example on the sandbox
# they left: no default may break what a client does next.
wants browser && step "Swagger UI in Chromium (e2e/browser)" \
	timeout 420 node e2e/browser/docs.test.mjs </dev/null

ts_example() (
	cd examples/typescript &&
		timeout 120 npm run --silent check-generated </dev/null &&
		timeout 120 npm run --silent build </dev/null &&
		timeout 120 node dist/example.js </dev/null
)
wants ts && step "TypeScript client (examples/typescript)" ts_example

if [ "$failed" -gt 0 ] && [ -n "$gw_pid" ]; then
	echo; echo "--- last gateway log lines"; tail -40 "$tmp/gateway.log"
fi
echo
[ "$failed" -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "clients-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
