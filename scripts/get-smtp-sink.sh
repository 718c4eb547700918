#!/usr/bin/env bash
# Take postfix's smtp-sink and smtp-source (C test tools) out of Debian's postfix package into
# var/postfix/, without installing a mail server. bench/newsletter_send.py finds them there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="var/postfix"
if [ -x "$dest/root/usr/sbin/smtp-sink" ]; then
  echo "$dest/root/usr/sbin/smtp-sink is already there"; exit 0
fi
mkdir -p "$dest"
(cd "$dest" && rm -f postfix_*.deb && apt-get download postfix)
dpkg -x "$dest"/postfix_*.deb "$dest/root"
echo "smtp-sink: $dest/root/usr/sbin/smtp-sink (libraries in $dest/root/usr/lib/postfix)"
