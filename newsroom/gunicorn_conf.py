"""gunicorn in production: `gunicorn -c python:newsroom.gunicorn_conf newsroom.wsgi --workers 2`.

Threaded workers, so a request waiting on another service holds one thread, not a whole
process. A request waiting on Stripe holds its thread for at most `STRIPE_READER_BUDGET`
seconds (4; see `donations/stripe_client/budget.py`), so with Stripe hanging, 16 threads per
process leave room for the article page, `/healthz` and the Stripe webhook while readers'
checkouts wait (tests/donations/test_stripe_hanging.py: eight hanging checkouts on one worker
process). Workers: `WEB_CONCURRENCY` (gunicorn's own variable) or `--workers`.

`worker_connections` is kept just above `threads`: a process takes a connection only when it
can serve it now (or hold it idle between keep-alive requests), so when all its threads wait on
Stripe, new connections stay in the listen queue for a process with a free thread instead of
queueing inside this one behind the waiting requests (gunicorn's default, 1,000, would). This
assumes a buffering reverse proxy in front (nginx), so slow clients do not hold connections.
Each thread may keep a database connection open (`CONN_MAX_AGE`): workers x threads
connections, 32 with two workers; keep PostgreSQL's `max_connections` above that plus Celery's.

gunicorn's `timeout` watches the worker process's main loop, not its request threads: a slow
request is bounded by the timeouts of the calls it makes, not by gunicorn.

The access log names method, path (tokens masked), status, size and duration: no client
address, query string, referrer or browser.
"""

from newsroom.logs import access_log_config

worker_class = "gthread"
threads = 16  # per worker process (with --threads N, pass --worker-connections N+4 too)
worker_connections = threads + 4  # the threads' connections, plus a few idle keep-alives
timeout = 30  # a worker process whose main loop stalls this long is restarted
graceful_timeout = 30
keepalive = 5
accesslog = "-"
logger_class = "newsroom.access_log.AccessLogger"  # its line: method, path, status, size, ms
logconfig_dict = access_log_config()
