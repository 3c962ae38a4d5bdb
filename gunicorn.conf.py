"""gunicorn's settings for production; ``gunicorn wsgi:app`` reads this file by itself.

Each can be changed from the environment without editing the file. The worker timeout
stays well above the longest call to Stripe (``STRIPE_CALL_TIMEOUT``, all retries
included; a test compares the two), so a slow Stripe gets the donor our own "try again"
page, with our headers, rather than a killed worker and gunicorn's bare error.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind the TLS proxy
# Sync workers: the app's work is short and its waits (Stripe, SMTP) are bounded.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# A worker silent this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On restart or deploy, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A worker is replaced after this many requests (with jitter), so a slow leak cannot grow.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# The app logs each request itself (logger ``mondial.request``: its URL rule, never the
# address, which may carry a signed token or an email); gunicorn's access log is off unless
# asked for, and then leaves out the request line and the referrer for the same reason.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The request id is the app's X-Request-Id answer header (the proxy's own id when it sent
# one), so a line here, the app's log and the proxy's log can be matched.
access_log_format = '%(h)s rid=%({x-request-id}o)s %(m)s %(s)s %(B)s %(M)sms "%(a)s"'
