#!/usr/bin/env bash
# Start the machine's PostgreSQL and RabbitMQ if they are down, enable RabbitMQ's management API
# (tests set the dead-letter policy through it), and wait until both accept connections.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
if ! port_open 5672; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached || true
fi
for _ in $(seq 1 60); do port_open 5432 && port_open 5672 && break; sleep 1; done
port_open 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
port_open 5672 || { echo "RabbitMQ is not reachable on 127.0.0.1:5672" >&2; exit 1; }
if ! port_open 15672; then
  if command -v rabbitmq-plugins >/dev/null; then
    rabbitmq-plugins enable rabbitmq_management >/dev/null
  fi
  for _ in $(seq 1 30); do port_open 15672 && break; sleep 1; done
fi
port_open 15672 || { echo "RabbitMQ management API is not reachable on 127.0.0.1:15672" >&2; exit 1; }
echo "PostgreSQL, RabbitMQ and its management API are up"

# The browser tests (tests/browser/) drive Debian's chromium with Playwright (no browser download)
# and need a CJK font for readable screenshots.
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei"; then
  echo "installing chromium and fonts-wqy-microhei"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  fi
fi
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 1; }
