"""gunicorn in production: `gunicorn -c python:newsroom.gunicorn_conf newsroom.wsgi`.

Threaded workers, so a request waiting on another service (Stripe, at most its timeout) holds
one thread, not a whole process: slow checkouts cannot starve the article page, `/healthz` or
the Stripe webhook. Workers: `WEB_CONCURRENCY` (gunicorn's own variable) or `--workers`.
The access log names method, path (tokens masked), status, size and duration: no client
address, query string, referrer or browser.
"""

from newsroom.logs import access_log_config

worker_class = "gthread"
threads = 8  # per worker process; raise with --threads
timeout = 30  # a request thread stuck longer than this restarts its worker
graceful_timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logconfig_dict = access_log_config()
