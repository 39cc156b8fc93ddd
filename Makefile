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

messages:  # regenerate the .po from the code, fill it from the glossary, compile the .mo (both committed)
	FLYWHEEL_DEV=1 $(VENV)/bin/python manage.py makemessages -l zh_Hans -i ".venv*" -i "*/migrations/*" -i "tests/*" -i "bench/*" -i "data/*"
	$(VENV)/bin/python scripts/fill_translations.py
	FLYWHEEL_DEV=1 $(VENV)/bin/python manage.py compilemessages -i ".venv*"
