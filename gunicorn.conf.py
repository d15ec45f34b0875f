"""Defaults for `gunicorn wsgi:app` run from this folder (command-line flags override them)."""

import os

bind = os.environ.get("SCHOLIA_BIND", "127.0.0.1:5000")
# One sync worker per core this process may use: requests here are CPU-bound (SQLite answers from
# the page cache, live updates are short polls), and more workers per core measured slower
# (bench/README.md, Workers). At least two, so that one slow request never holds every reader.
workers = int(os.environ.get("SCHOLIA_WORKERS", max(2, len(os.sched_getaffinity(0)))))
accesslog = "-"
# Gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which two
# servers on one machine (tests, benchmarks, a second checkout) would fight over.
control_socket_disable = True
