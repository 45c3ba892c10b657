#!/usr/bin/env bash
# make image-smoke: build the gongyi image with podman and run every service from it.
#
# No registry can be pulled here, so the base image is made locally: debootstrap a Debian
# bookworm minbase with python3.11, `podman import` it, and pass it as BASE_IMAGE. The
# containers then run with --network host against the host's RabbitMQ (127.0.0.1:5672) and
# PostgreSQL (127.0.0.1:5432, trust auth, user postgres), a moto S3 server and an osmem-server
# (Elasticsearch API), each started here on a free port. Every service must become ready, and
# must exit 0 within its grace period on SIGTERM, as the kubelet would ask.
#
# Environment:
#   SMOKE_CACHE    where the debootstrap rootfs and podman config live (/var/tmp/gongyi-image-smoke)
#   SMOKE_CONTEXT  build context (the repository root)
#   SMOKE_REBUILD_BASE=1  rebuild the base image even if it exists
#   SMOKE_FLOW=0   stop at readiness instead of submitting an application
#   SMOKE_KEEP=1   leave containers, databases and servers behind for debugging
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SMOKE_CACHE:-/var/tmp/gongyi-image-smoke}"
CONTEXT="${SMOKE_CONTEXT:-$ROOT}"
PY="${SMOKE_PYTHON:-$ROOT/.venv/bin/python}"
BASE_TAG="localhost/gongyi-base:bookworm-py311"
IMAGE="localhost/gongyi:smoke"
SERVICES=(intake media review publish)
GRACE=60          # terminationGracePeriodSeconds in deploy/k8s
RUN_ID="smoke$$"
VHOST="gongyi-$RUN_ID"
DB_PREFIX="gongyi_${RUN_ID}"
PIDS=()

log() { printf '[image-smoke] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http() {  # url seconds -> 0 when it answers 2xx
  local url="$1" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    "$PY" -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=2)' "$url" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

# --------------------------------------------------------------- tools and podman config
[[ $EUID -eq 0 ]] || die "run as root (rootful podman, debootstrap)"
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$CACHE"
# This machine's podman cannot apply the default nofile/nproc ulimits and needs runc;
# a private containers.conf keeps the host's configuration untouched.
cat >"$CACHE/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$CACHE/containers.conf"
PODMAN=(podman --runtime runc)

# --------------------------------------------------------------- base image
if [[ "${SMOKE_REBUILD_BASE:-0}" == 1 ]] || ! "${PODMAN[@]}" image exists "$BASE_TAG"; then
  if [[ ! -x "$CACHE/rootfs/usr/bin/python3.11" ]]; then
    log "debootstrap bookworm minbase with python3.11 into $CACHE/rootfs"
    rm -rf "$CACHE/rootfs"
    debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-venv,ca-certificates \
      bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed, see $CACHE/debootstrap.log"
    rm -rf "$CACHE/rootfs/var/lib/apt/lists/"* "$CACHE/rootfs/var/cache/apt/"*.bin
  fi
  log "importing $BASE_TAG"
  tar -C "$CACHE/rootfs" -c . | "${PODMAN[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null
fi

# --------------------------------------------------------------- build
for f in constraints.txt README.md pyproject.toml; do
  [[ -f "$CONTEXT/$f" ]] || die "$CONTEXT/$f is missing; the Dockerfile installs with it"
done
log "building $IMAGE from $CONTEXT (BASE_IMAGE=$BASE_TAG)"
# Host network so pip reaches PyPI. This machine reaches it through a TLS-inspecting proxy whose
# CA is only in the host's bundle: lend the bundle and a pip.conf naming it to the RUN steps
# (build-time mounts, not layers), so the Dockerfile itself stays proxy-agnostic.
BUILD_MOUNTS=()
HOST_CA=/etc/ssl/certs/ca-certificates.crt
if [[ -f "$HOST_CA" ]]; then
  printf '[global]\ncert = %s\n' "$HOST_CA" >"$CACHE/pip.conf"
  BUILD_MOUNTS=(-v "$HOST_CA:$HOST_CA:ro" -v "$CACHE/pip.conf:/etc/pip.conf:ro")
fi
"${PODMAN[@]}" build --pull=never --network host "${BUILD_MOUNTS[@]}" --build-arg "BASE_IMAGE=$BASE_TAG" \
  -f "$ROOT/Dockerfile" -t "$IMAGE" "$CONTEXT" >"$CACHE/build.log" 2>&1 \
  || { tail -n 30 "$CACHE/build.log" >&2; die "image build failed, see $CACHE/build.log"; }
log "image built: $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# Image contract: what the manifests rely on.
got="$("${PODMAN[@]}" image inspect --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMAGE")"
[[ "$got" == '10001:10001 ["gongyi"] ["serve","intake"]' ]] || die "image config is '$got'"
"${PODMAN[@]}" run --rm --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  "$IMAGE" --help >/dev/null || die "'gongyi --help' fails on a read-only root filesystem"
log "image config ok: user 10001, ENTRYPOINT [gongyi], CMD [serve intake], runs read-only"

# --------------------------------------------------------------- backends
cleanup() {
  local rc=$?
  [[ "${SMOKE_KEEP:-0}" == 1 ]] && { log "SMOKE_KEEP=1: leaving everything behind"; return; }
  for svc in "${SERVICES[@]}"; do "${PODMAN[@]}" rm -f -t 0 "gongyi-$RUN_ID-$svc" >/dev/null 2>&1 || true; done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for svc in "${SERVICES[@]}"; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS ${DB_PREFIX}_$svc WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

for svc in "${SERVICES[@]}"; do
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE ${DB_PREFIX}_$svc" >/dev/null || die "cannot create database"
done
# A private vhost: this run's queues never meet anyone else's.
rabbitmqctl -q add_vhost "$VHOST" >/dev/null && rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null \
  || die "cannot create RabbitMQ vhost"
S3_PORT="$(free_port)"
"$PY" -m moto.server -H 127.0.0.1 -p "$S3_PORT" >"$CACHE/moto.log" 2>&1 &
PIDS+=($!)
SEARCH_PORT="$(free_port)"
"$("$PY" -c 'from osmem_server import resolve_binary; print(resolve_binary())')" \
  -addr "127.0.0.1:$SEARCH_PORT" -no-stdin-watch >"$CACHE/osmem.log" 2>&1 </dev/null &
PIDS+=($!)
wait_http "http://127.0.0.1:$S3_PORT/" 30 || die "moto S3 server did not start"
wait_http "http://127.0.0.1:$SEARCH_PORT/" 30 || die "osmem-server did not start"
"$PY" - "$S3_PORT" <<'EOF' || die "cannot create buckets"
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="smoke", aws_secret_access_key="smoke-secret")
for bucket in ("gongyi-quarantine", "gongyi-evidence"):
    s3.create_bucket(Bucket=bucket)
EOF
log "backends: postgres ${DB_PREFIX}_*, rabbitmq vhost $VHOST, moto :$S3_PORT, osmem :$SEARCH_PORT"

ENV_ARGS=(
  -e GONGYI_MODE=server
  -e "GONGYI_AMQP_URI=amqp://guest:guest@127.0.0.1:5672/$VHOST"
  -e GONGYI_JWT_SECRET=image-smoke-jwt-secret-0123456789abcdef
  -e GONGYI_JWT_ISSUER=http://localhost -e GONGYI_JWT_AUDIENCE=gongyi
  -e GONGYI_LOG_LEVEL=INFO -e GONGYI_DEAD_LETTER_AFTER=5
  -e GONGYI_HTTP_HOST=127.0.0.1
  -e "GONGYI_SEARCH_URL=http://127.0.0.1:$SEARCH_PORT"
  -e "GONGYI_S3_ENDPOINT=http://127.0.0.1:$S3_PORT" -e GONGYI_S3_REGION=us-east-1
  -e GONGYI_S3_ACCESS_KEY=smoke -e GONGYI_S3_SECRET_KEY=smoke-secret
  -e GONGYI_S3_QUARANTINE_BUCKET=gongyi-quarantine -e GONGYI_S3_EVIDENCE_BUCKET=gongyi-evidence
)
for svc in "${SERVICES[@]}"; do
  ENV_ARGS+=(-e "GONGYI_${svc^^}_DB_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/${DB_PREFIX}_$svc")
done
# The pod's restrictions, as in deploy/k8s.
RUN_ARGS=(--network host --read-only --tmpfs /tmp --user 10001:10001 --cap-drop ALL
          --security-opt no-new-privileges "${ENV_ARGS[@]}")

if rabbitmq-diagnostics -q check_port_listener 15672 >/dev/null 2>&1; then
  "${PODMAN[@]}" run --rm "${RUN_ARGS[@]}" \
    -e "GONGYI_RABBITMQ_MANAGEMENT_URL=http://guest:guest@127.0.0.1:15672" "$IMAGE" broker setup \
    || die "gongyi broker setup failed"
  log "broker setup ok"
else
  log "skipping 'gongyi broker setup': no RabbitMQ management API on 127.0.0.1:15672 here"
fi
"${PODMAN[@]}" run --rm "${RUN_ARGS[@]}" "$IMAGE" migrate all >"$CACHE/migrate.log" 2>&1 \
  || { tail -n 20 "$CACHE/migrate.log" >&2; die "gongyi migrate all failed"; }
log "migrate all ok (and idempotent: running it again)"
"${PODMAN[@]}" run --rm "${RUN_ARGS[@]}" "$IMAGE" migrate all >>"$CACHE/migrate.log" 2>&1 \
  || die "second gongyi migrate all failed"
"${PODMAN[@]}" run --rm "${RUN_ARGS[@]}" "$IMAGE" call load /app/calls/2024-national.yaml /app/calls/2018-henan.yaml \
  >>"$CACHE/migrate.log" 2>&1 || die "gongyi call load failed"
log "both shipped calls loaded"

# --------------------------------------------------------------- services
declare -A PORT
for svc in "${SERVICES[@]}"; do
  PORT[$svc]="$(free_port)"
  "${PODMAN[@]}" run -d --name "gongyi-$RUN_ID-$svc" "${RUN_ARGS[@]}" -e "GONGYI_HTTP_PORT=${PORT[$svc]}" \
    "$IMAGE" serve "$svc" >/dev/null
done
for svc in "${SERVICES[@]}"; do
  url="http://127.0.0.1:${PORT[$svc]}/api/$svc"
  if ! wait_http "$url/readyz" 120; then
    "${PODMAN[@]}" logs --tail 30 "gongyi-$RUN_ID-$svc" >&2 || true
    die "$svc not ready at $url/readyz"
  fi
  wait_http "$url/healthz" 5 || die "$svc ready but /healthz fails"
  "$PY" -c 'import sys, urllib.request as u; body = u.urlopen(sys.argv[1], timeout=5).read().decode()
assert "gongyi_" in body, "no gongyi_ metrics"' "$url/metrics" || die "$svc /metrics has no gongyi_ metrics"
  log "$svc ready on :${PORT[$svc]} (healthz, readyz, metrics)"
done

if [[ "${SMOKE_FLOW:-1}" == 1 ]]; then
  if [[ -x "$ROOT/scripts/smoke_flow.py" || -f "$ROOT/scripts/smoke_flow.py" ]]; then
    GONGYI_JWT_ISSUER=http://localhost GONGYI_JWT_AUDIENCE=gongyi \
      "$PY" "$ROOT/scripts/smoke_flow.py" --intake "http://127.0.0.1:${PORT[intake]}" \
      --review "http://127.0.0.1:${PORT[review]}" --jwt-secret image-smoke-jwt-secret-0123456789abcdef || die "application flow failed"
    log "application submitted through the containers"
  else
    log "no scripts/smoke_flow.py yet: stopped at readiness, no application submitted"
  fi
fi

# --------------------------------------------------------------- graceful stop
for svc in "${SERVICES[@]}"; do
  name="gongyi-$RUN_ID-$svc"
  start=$SECONDS
  # podman stop sends SIGTERM, then SIGKILL after --time, like the kubelet after the grace period.
  "${PODMAN[@]}" stop --time "$GRACE" "$name" >/dev/null
  took=$((SECONDS - start))
  code="$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$name")"
  [[ "$code" == 0 ]] || { "${PODMAN[@]}" logs --tail 20 "$name" >&2; die "$svc exited $code on SIGTERM"; }
  ((took < GRACE)) || die "$svc took ${took}s to stop (grace ${GRACE}s)"
  log "$svc stopped on SIGTERM: exit 0 in ${took}s"
done
log "image-smoke: ${#SERVICES[@]} passed, 0 failed"
