# The one front door for people and CI. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv/bin
RASA_PATHS := --config config.yml --domain bot/domain --data bot/data nlu_data
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run test install install-dev kb train validate unit test-stories test-nlu test-integration lint typecheck bench lock clean sentiment-model console redis postgres migrate compose-config retention care test-scale bench-scale

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

run:  ## run the assistant: venv, install, train if data changed, seed, start both servers
	@scripts/run.sh

test:  ## run every test (unit, data validation, conversation tests, NLU test set, integration)
	@scripts/test.sh

install:  ## create .venv (Python 3.10) with the runtime dependencies
	@scripts/bootstrap.sh

install-dev:  ## create .venv with runtime and test dependencies
	@scripts/bootstrap.sh --dev

kb:  ## regenerate the FAQ domain and NLU data from knowledge_base/
	$(VENV)/python scripts/build_kb.py

train: install kb  ## train the model if its inputs changed
	@scripts/train.sh

validate: install kb  ## rasa data validate (fails on warnings)
	$(VENV)/python scripts/validate_data.py

unit: install-dev  ## unit tests (no servers, no trained model)
	$(VENV)/python -m pytest -m "not model and not integration and not services and not scale and not browser"

test-stories: train  ## conversation tests (rasa test) on tests/stories
	$(VENV)/rasa test core --model models/assistant.tar.gz --stories tests/stories \
	  --fail-on-prediction-errors --out results/stories

test-nlu: train install-dev  ## the held-out NLU test set (macro-F1 >= 0.95)
	$(VENV)/python -m pytest -m model

test-integration: train install-dev  ## real Rasa server + action server over HTTP
	$(VENV)/python -m pytest -m integration

test-scale: train install-dev  ## production topology on loopback (nginx, 2 Rasa, 2 action servers, PostgreSQL, Redis): load + faults
	$(VENV)/python -m pytest -m scale

bench-scale: train install-dev  ## turns/s and p50/p99 for 1 vs 2 replicas, start-up time, peak memory
	$(VENV)/python bench/scale.py

.PHONY: test-conversations
test-conversations: install-dev  ## the held-out multi-turn set against a started assistant (make run): pass rate per pattern (not part of make test)
	@eval "$$($(VENV)/python scripts/local_secrets.py)" && $(VENV)/python -m tests.conversations.run $(ARGS)  # make run's token

.PHONY: attacks
attacks: train install-dev  ## replay every finding of the security review on loopback (tried / blocked table; exit 1 if any gets through)
	$(VENV)/python bench/attacks.py

lint: install-dev typecheck  ## ruff (pyproject.toml [tool.ruff]), mypy, and the README's settings table is current
	$(VENV)/ruff check .
	$(VENV)/python scripts/settings_table.py --check

typecheck: install-dev  ## mypy on the libraries and the action server (settings in pyproject.toml [tool.mypy])
	$(VENV)/python -m mypy

bench: train install-dev  ## turn latency vs stock Rasa, NLU cross-validation, sentiment quality, WeChat 5-second rule (tables)
	$(VENV)/python bench/turn_latency.py
	$(VENV)/python bench/nlu_cv.py
	$(VENV)/python bench/sentiment.py
	$(VENV)/python bench/wechat_5s.py
	$(VENV)/python bench/agent_screen.py

console: install  ## run only the agent console + web chat on :8000 (the assistant must be running: make run)
	$(VENV)/python -m desk.console

redis:  ## a throwaway redis-server on a free port (prints REDIS_URL; Ctrl-C stops it)
	scripts/services.sh redis

postgres:  ## a throwaway PostgreSQL on a free port (prints DATABASE_URL; Ctrl-C stops it)
	scripts/services.sh postgres

migrate: install  ## alembic upgrade head on DATABASE_URL (production schema; the embedded default uses create_all)
	$(VENV)/alembic upgrade head

retention: install  ## delete transcripts older than TRANSCRIPT_RETENTION_DAYS (python -m desk.retention)
	$(VENV)/python -m desk.retention

care: install  ## one round of proactive care now (python -m desk.care --once; `make run` runs it every CARE_INTERVAL_S)
	$(VENV)/python -m desk.care --once

compose-config:  ## validate docker-compose.yml with the variables in .env
	docker-compose -f docker-compose.yml config -q

sentiment-model: install  ## rebuild the shipped sentiment model, n-gram model, fusion, customer-service head and the cascade's tuned teacher from ../shared/datasets (~60 min)
	$(VENV)/python -m sentiment_training.train --out sentiment/model
	$(VENV)/python -m sentiment_training.ngram
	$(VENV)/python -m sentiment_training.fuse
	$(VENV)/python -m sentiment_training.teacher
	$(VENV)/python -m sentiment_training.cs_head
	$(VENV)/python -m sentiment_training.tune_teacher

lock:  ## record the exact versions of the working .venv in constraints.txt
	{ echo "# Exact versions the tests run against (pip freeze of a working .venv)."; \
	  echo "# Used as pip constraints by scripts/bootstrap.sh; regenerate with: make lock"; \
	  $(VENV)/pip freeze --exclude-editable | sed -E 's|^([A-Za-z0-9_.-]+) @ file://.*-([0-9][^-]*)-py3.*|\1==\2|'; } > constraints.txt

clean:  ## remove trained models, results and local databases
	rm -rf models results var logs

.PHONY: bench-agent-screen screenshots
bench-agent-screen: train install-dev  ## a refund message -> an available agent's live queue: p50/p95 ms (embedded default)
	$(VENV)/python bench/agent_screen.py

screenshots: train install-dev  ## docs/screenshots/: queue, handoff card, tickets inbox, dashboard in zh and en (Playwright + Debian chromium)
	$(VENV)/python scripts/screenshots.py
