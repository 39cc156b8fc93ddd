# Flywheel: `make run` starts the app with demo data; `make test` installs what tests need and runs them all.
PY ?= python3.11
VENV ?= .venv

.PHONY: run test install install-test bench lint messages

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

install:
	bash scripts/install.sh

bench:
	bash scripts/bench.sh

lint:
	$(VENV)/bin/ruff check labelstudio_app workers tests bench

messages:
	cd labelstudio_app && ../$(VENV)/bin/django-admin makemessages -l zh_Hans --ignore='*/migrations/*' && ../$(VENV)/bin/django-admin compilemessages
