# pleskgate — the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
# Plesk's schemas stay in ../shared; CI exports PLESK_XSD_DIR, a local checkout finds them beside it.
PLESK_XSD_DIR ?= $(abspath $(wildcard ../shared/plesk/xsd))
export PLESK_XSD_DIR
# What --version prints: stamped by `make build` and the Dockerfile (build
# arguments VERSION and COMMIT). The build lines spell them ${VERSION} and
# ${COMMIT}, which make expands here and the image build's shell expands
# from its ARGs, so deploy/validate can check that both run the same line.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

.PHONY: help walkthrough-test clients-test generate-ts load storm deploy-check run build generate check-generated check-translator-deps check-gateway-deps test deps vet lint bench fuzz

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):.*## (.*)/\1\t\2/' | awk -F'\t' '{printf "  %-22s %s\n", $$1, $$2}'

# The binary, not `go run`: go run itself exits with status 1 on Ctrl-C,
# whatever the gateway's own (0 after draining).
run: build ## start the gateway in sandbox mode (in-process simulator, Swagger UI at /docs)
	exec bin/pleskgate

build: ## build bin/pleskgate and bin/plesksim, stamped with VERSION and COMMIT for --version
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X github.com/pleskgate/pleskgate/internal/buildinfo.version=${VERSION} -X github.com/pleskgate/pleskgate/internal/buildinfo.commit=${COMMIT}" -o bin/pleskgate ./cmd/pleskgate
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X github.com/pleskgate/pleskgate/internal/buildinfo.version=${VERSION} -X github.com/pleskgate/pleskgate/internal/buildinfo.commit=${COMMIT}" -o bin/plesksim ./cmd/plesksim

generate: ## regenerate api/ and client/ from openapi.yaml (oapi-codegen, pinned in go.mod)
	$(GO) generate ./api ./client

check-generated: generate ## fail when the committed api/ or client/ differs from what openapi.yaml generates
	@git diff --exit-code -- api client || { echo "api/ or client/ is stale: run 'make generate' and commit"; exit 1; }

# System tools the tests need; installed when missing (CI runs as root on Debian).
deps: ## install the system tools the tests need (xmllint, redis-server) when missing
	@command -v xmllint >/dev/null || { echo "installing libxml2-utils (xmllint)"; apt-get update -qq && apt-get install -y -qq libxml2-utils >/dev/null; }
	@command -v xmllint >/dev/null || { echo "xmllint is required (Debian package libxml2-utils)"; exit 1; }
	@command -v redis-server >/dev/null || { echo "installing redis-server"; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null || { echo "redis-server is required (Debian package redis-server)"; exit 1; }

# translator/ is a standard-library-only package: pure mapping, no dependencies.
check-translator-deps: ## fail when translator/ imports anything beyond the standard library
	@deps=$$($(GO) list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./translator | grep -vx 'github.com/pleskgate/pleskgate/translator' || true); \
	if [ -n "$$deps" ]; then echo "translator imports non-standard packages: $$deps"; exit 1; fi

# gateway/upstream and gateway/store sit below the HTTP side:
# neither imports gateway or Echo, and store does not import translator.
check-gateway-deps: ## fail when gateway/upstream or gateway/store import gateway or Echo, store imports translator, or gateway/ imports unsafe
	@deps=$$($(GO) list -deps ./gateway/upstream ./gateway/store | grep -E '^github.com/pleskgate/pleskgate/gateway$$|^github.com/labstack/echo' || true); \
	if [ -n "$$deps" ]; then echo "gateway/upstream or gateway/store imports: $$deps"; exit 1; fi
	@deps=$$($(GO) list -deps ./gateway/store | grep -x 'github.com/pleskgate/pleskgate/translator' || true); \
	if [ -n "$$deps" ]; then echo "gateway/store imports translator"; exit 1; fi
	@pkgs=$$($(GO) list -f '{{.ImportPath}} {{join .Imports " "}}' ./gateway/... | grep -w unsafe | cut -d' ' -f1 || true); \
	if [ -n "$$pkgs" ]; then echo "unsafe imported by: $$pkgs"; exit 1; fi

vet: ## gofmt check and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

lint: vet ## the same as vet

# Offline checks of the Dockerfile, kustomize overlays and compose file; a
# module of its own so the Kubernetes dependencies stay out of go.mod.
deploy-check: ## offline checks of the Dockerfile, kustomize overlays and compose file
	cd deploy/validate && $(GO) vet ./... && $(GO) test -count=1 ./...

test: deps vet check-generated check-translator-deps check-gateway-deps deploy-check ## every check and test: go test -race, fuzz targets briefly, the walk-through and the clients test
	@if [ -z "$$PLESK_XSD_DIR" ]; then echo "note: PLESK_XSD_DIR unset, schema validation of modern packets is skipped"; fi
	PLESKGATE_REQUIRE_REDIS=1 $(GO) test -race -count=1 ./...
	cd tools/pleskbench && $(GO) vet ./... && $(GO) test -count=1 ./...
	$(MAKE) fuzz FUZZTIME=5000x
	$(MAKE) walkthrough-test
	$(MAKE) clients-test

# The README's walk-through (its ```sh walkthrough blocks), run in order
# against a fresh sandbox, every status checked against the README's comment.
walkthrough-test: ## run the README's walk-through against a fresh sandbox and check every status
	bash scripts/walkthrough-test.sh

# The clients' view: spec lint (Redocly), the generated TypeScript client and
# Swagger UI in headless Chromium (Debian's), against a sandbox.
clients-test: ## Redocly lint, the TypeScript client and Swagger UI in headless Chromium against a sandbox
	bash scripts/clients-test.sh

# Regenerate the TypeScript example's types after changing openapi.yaml.
generate-ts: ## regenerate the TypeScript example's types from openapi.yaml
	cd examples/typescript && npm ci --no-audit --no-fund && npm run generate

FUZZTIME ?= 100000x
FUZZ_TARGETS := \
	translator:FuzzDecodeResponse translator:FuzzDecodeResponseTyped translator:FuzzDecodeGetProtos \
	translator:FuzzEncodeAddText translator:FuzzParseVersion translator:FuzzEncodeRequest \
	translator:FuzzEachGetResultMatchesDecode \
	plesksim:FuzzPacket \
	gateway:FuzzCreateClientBody gateway:FuzzCreateClientFields gateway:FuzzPatchClientBody \
	gateway:FuzzClientsQuery gateway:FuzzParseProtocolSetting

# Each fuzz target for FUZZTIME (default 100000 executions each). make test
# runs each for 5000 so they keep working. A count, not a duration, because go1.26's fuzz
# coordinator can fail a run with a bare "context deadline exceeded" when a
# duration runs out on a busy machine (golang/go#75804, fixed in go1.27).
fuzz: ## run each fuzz target for FUZZTIME executions (default 100000x; a count, see golang/go#75804)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} (./$${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test ./$${t%%:*} -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME); \
	done

# Micro-benchmarks, then the side-by-side load run of docs/BENCHMARKS.md
# (loopback only, about 90 s; never part of make test).
bench: ## micro-benchmarks, then the load comparison of docs/BENCHMARKS.md (about 90 s)
	$(GO) test -run=NONE -bench=. -benchmem -benchtime=200ms ./translator ./gateway ./plesksim
	cd tools/pleskbench && $(GO) run .

# 100,000 mixed requests at concurrency 64 against an in-process gateway and
# simulator, then the simulator's state compared with the model (loopback only).
load: ## 100,000 mixed requests against an in-process gateway and simulator, then a state check
	$(GO) run ./cmd/pleskload -requests 100000 -concurrency 64 -max-duration 10m

# The brute-force storm of issue 13 at full size: 2,000 wrong passwords from
# 200 addresses through a trusted proxy beside normal traffic (make test
# runs a small one); the panel may see no more failed logins than the budget.
storm: ## 2,000 wrong passwords from 200 addresses beside normal traffic: the panel sees at most the failed-login budget
	PLESKGATE_STORM=full $(GO) test ./internal/loadtest -run '^TestStorm$$' -count=1 -v
