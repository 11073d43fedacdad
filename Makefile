# Lectern. `make run` sets up and serves on the embedded defaults; `make test` sets up and
# runs every test. Both install missing Debian packages first (apt-get, needs root or sudo).

GO        ?= go
BIN       := bin/lectern
ADDR      ?= :8080
DATA      ?= ./lectern-data
TEST_FLAGS ?= -race -timeout 30m

.PHONY: all build run test deps-run deps-test mediapipe lint fuzz bench clean

all: build

deps-run:
	@scripts/debian-deps.sh run

deps-test:
	@scripts/debian-deps.sh test

# The studio's virtual background model (npm @mediapipe/selfie_segmentation) into the git-ignored
# web/static/mediapipe/, embedded with web/static. Never fails: without it the option is hidden.
mediapipe:
	@scripts/fetch-mediapipe.sh

build: deps-run mediapipe
	$(GO) build -o $(BIN) ./cmd/lectern

run: build
	./$(BIN) serve --addr $(ADDR) --data $(DATA)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/lectern

# The store's tests run a second time on PostgreSQL (a throwaway server, internal/pgtest).
test: deps-test mediapipe lint
	$(GO) test $(TEST_FLAGS) ./...
	LECTERN_TEST_STORE=postgres $(GO) test $(TEST_FLAGS) ./models/ ./cmd/lectern/ ./internal/pgtest/

# Short fuzzing of every fuzz target (the seed corpora already run as part of `make test`).
fuzz:
	scripts/fuzz-all.sh 20s

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
