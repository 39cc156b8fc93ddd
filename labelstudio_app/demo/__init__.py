"""The demo: the seeder (`seed.py`), its sample chat log (`samples.py`) and the `flywheel_demo` command.
It spans every domain, so it sits above them all and only calls their services and selectors."""
