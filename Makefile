# Teleconsult: `make run` starts the whole thing, `make test` runs every test.
SHELL := /bin/bash
GO    ?= go
NPM   ?= npm
BIN   := bin/teleconsult

.PHONY: run build web web-deps tools test test-go test-web test-e2e bench lint clean screenshots

# stripe-mock, Stripe's official API mock: the payment tests talk to it.
STRIPE_MOCK_VERSION := v0.203.0
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin

## run: build the web app and start the server on SQLite with demo users
run: web
	SEED_DEMO=true $(GO) run ./cmd/teleconsult serve

## build: the server binary and the web app
build: web
	$(GO) build -o $(BIN) ./cmd/teleconsult

web-deps:
	@if [ -f frontend/package.json ] && [ ! -d frontend/node_modules ]; then cd frontend && $(NPM) ci; fi
	@if [ -f realtime/compat/package.json ] && [ ! -d realtime/compat/node_modules ]; then cd realtime/compat && $(NPM) ci; fi

## tools: what the tests need besides Go and npm (stripe-mock)
tools:
	@if ! command -v stripe-mock >/dev/null 2>&1 && [ ! -x "$(GOBIN_DIR)/stripe-mock" ]; then \
	  echo "installing stripe-mock $(STRIPE_MOCK_VERSION)"; $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION); fi

web: web-deps
	@if [ -f frontend/package.json ]; then cd frontend && $(NPM) run build; fi

## test: the whole suite (Go with -race against Postgres and Redis, web unit tests, browser end-to-end tests)
test: test-go test-web

test-go: web-deps tools
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

test-web: web-deps tools
	@if [ -f frontend/package.json ]; then \
	  cd frontend && $(NPM) run test:unit && $(NPM) run build && $(NPM) run test:e2e; \
	else echo "no web app in this tree: frontend/ is absent"; fi

## screenshots: refresh docs/screenshots from the browser suite (on purpose only)
screenshots: web-deps
	cd frontend && $(NPM) run build && SCREENSHOTS_DIR=docs/screenshots $(NPM) run test:e2e

## bench: the chat-path benchmark on Postgres (see docs/benchmarks.md)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./realtime/

clean:
	rm -rf bin data frontend/dist
