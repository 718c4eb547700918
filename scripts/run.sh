#!/usr/bin/env bash
# Install and run the whole service (web, Celery worker, Celery beat, and the bounce listener
# when BOUNCE_LISTEN is set) with demo data.
# Embedded defaults unless configured: SQLite, a filesystem Celery broker, email as files
# under var/mail/, and (with no STRIPE_SECRET_KEY) the local Stripe stand-in in demo mode.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
export DEBUG="${DEBUG:-true}"
PORT="${PORT:-8000}"
STANDIN_PORT="${STRIPE_STANDIN_PORT:-12111}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
mkdir -p var/mail var/broker var/broker-processed
procfile=var/Procfile
{
  echo "web: python manage.py runserver 127.0.0.1:$PORT --noreload"
  if [ -n "${DATABASE_URL:-}" ]; then
    echo "worker: celery -A newsroom worker --loglevel INFO --concurrency 2"
  else  # SQLite takes one writer at a time
    echo "worker: celery -A newsroom worker --loglevel INFO --pool solo"
  fi
  echo "beat: celery -A newsroom beat --loglevel INFO --schedule var/celerybeat-schedule"
} >"$procfile"
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  export STRIPE_API_BASE="http://127.0.0.1:$STANDIN_PORT"
  export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_demo}"
  echo "stripe: python -m donations.standin --port $STANDIN_PORT --webhook-url $SITE_URL/stripe/webhook/ --webhook-secret $STRIPE_WEBHOOK_SECRET" >>"$procfile"
fi
if [ -n "${BOUNCE_LISTEN:-}" ]; then  # the bounce listener (BOUNCE_DOMAIN must be set too)
  echo "bounces: python manage.py bounce_listener" >>"$procfile"
fi
python manage.py migrate --noinput
python manage.py load_demo
stripe_line=""
bounce_line=""
if [ -n "${BOUNCE_LISTEN:-}" ]; then
  bounce_line="    Bounces       SMTP on $BOUNCE_LISTEN for @${BOUNCE_DOMAIN:-?}"
fi
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  stripe_line="    Stripe (demo) http://127.0.0.1:$STANDIN_PORT/   settle bank debits, renew, refund"
fi
cat <<MSG

  newsroom-support is starting.
    Open          $SITE_URL/
    Staff admin   $SITE_URL/admin/   (login: demo / demo-newsroom)
    Email         written to var/mail/ (one .log file per batch)
${stripe_line:+$stripe_line
}${bounce_line:+$bounce_line
}  Ctrl-C stops every process.

MSG
exec honcho -d . -f "$procfile" start
