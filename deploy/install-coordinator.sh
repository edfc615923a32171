#!/usr/bin/env bash
# Installs this Linux machine as a coordinator node of a Cis490 fleet in one command: installs the coordinator program,
# writes the systemd unit with its address, data folder, TLS and HTTP settings, and enables it. Run it as root from a checkout
# (it builds), or with --binaries DIR. ./deploy/install-coordinator.sh --help lists the options.
set -euo pipefail
SCRIPT=install-coordinator
# shellcheck source=deploy/lib/install-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/install-common.sh"

usage() {
  cat <<'USAGE'
usage: deploy/install-coordinator.sh [options]

  --hostname H          the address workers reach this machine on (default: the first of 'hostname -I')
  --port P              the fleet's seed port (default 4053)
  --data-dir DIR        journal, artifact store, tokens and logs (default /var/lib/cis490)
  --tls DIR             this machine's enrolment folder (./cis490 certs issue NAME --role coordinator): installed as /etc/cis490/tls
  --insecure            no TLS: every machine on the network is trusted (the node warns); one of --tls / --insecure is needed
  --http-port N         serve the HTTP API and dashboard on N (loopback unless --http-bind)
  --http-bind ADDR      the HTTP API's address (beyond loopback it is HTTPS with --tls)
  --manifest FILE       a manifest the coordinator loads at start and on 'manifest reload' (copied to /etc/cis490/manifest.toml)
  --seed ADDR           another coordinator node to join (a fleet of several coordinator nodes needs --journal postgres)
  --journal sqlite|postgres
  --postgres "CONN"     the PostgreSQL connection string (kept in /etc/default/cis490-coordinator, mode 0600)
  --binaries DIR        install this Cis490.Coordinator build output instead of building the checkout
  --prefix DIR          where the program goes (default /opt/cis490; the coordinator in PREFIX/coordinator)
  --user NAME           the service account (default cis490; created when missing)
  --root DIR            install under DIR instead of / (a staging root or a test): nothing outside it changes, no systemctl
  --no-enable           write everything but do not run systemctl
USAGE
}

HOST="" PORT=4053 DATA_DIR=/var/lib/cis490 TLS="" INSECURE=0 HTTP_PORT="" HTTP_BIND="" MANIFEST="" SEED="" JOURNAL=sqlite POSTGRES=""
BINARIES="" PREFIX=/opt/cis490 SVC_USER=cis490 ROOT=/ ENABLE=1
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --hostname) HOST=$(need "${2:-}" "$1"); shift ;;
    --port) PORT=$(need "${2:-}" "$1"); shift ;;
    --data-dir) DATA_DIR=$(need "${2:-}" "$1"); shift ;;
    --tls) TLS=$(need "${2:-}" "$1"); shift ;;
    --insecure) INSECURE=1 ;;
    --http-port) HTTP_PORT=$(need "${2:-}" "$1"); shift ;;
    --http-bind) HTTP_BIND=$(need "${2:-}" "$1"); shift ;;
    --manifest) MANIFEST=$(need "${2:-}" "$1"); shift ;;
    --seed) SEED=$(need "${2:-}" "$1"); shift ;;
    --journal) JOURNAL=$(need "${2:-}" "$1"); shift ;;
    --postgres) POSTGRES=$(need "${2:-}" "$1"); shift ;;
    --binaries) BINARIES=$(need "${2:-}" "$1"); shift ;;
    --prefix) PREFIX=$(need "${2:-}" "$1"); shift ;;
    --user) SVC_USER=$(need "${2:-}" "$1"); shift ;;
    --root) ROOT=$(need "${2:-}" "$1"); shift ;;
    --no-enable) ENABLE=0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done

# ---- check everything before changing anything ----
[ -n "$HOST" ] || HOST=$(default_hostname)
port_number "$PORT" --port
[ -z "$HTTP_PORT" ] || port_number "$HTTP_PORT" --http-port
[ -z "$HTTP_BIND" ] || [ -n "$HTTP_PORT" ] || usage_error "--http-bind needs --http-port"
for v in "$HOST:--hostname" "$DATA_DIR:--data-dir" "$PREFIX:--prefix" "$SVC_USER:--user"; do plain_value "${v%:--*}" "--${v##*:--}"; done
[ -z "$HTTP_BIND" ] || plain_value "$HTTP_BIND" --http-bind
[ -z "$SEED" ] || [[ "$SEED" =~ ^akka(\.ssl)?\.tcp://[A-Za-z0-9_-]+@[A-Za-z0-9._:-]+:[0-9]+$ ]] || usage_error "--seed '$SEED' is not an Akka address like akka.tcp://cis490@HOST:4053"
case "$JOURNAL" in sqlite) [ -z "$POSTGRES" ] || usage_error "--postgres needs --journal postgres" ;;
  postgres) [ -n "$POSTGRES" ] || usage_error "--journal postgres needs --postgres \"Host=H;Port=5432;Username=U;Password=P;Database=D\"" ;;
  *) usage_error "--journal must be sqlite or postgres, got '$JOURNAL'" ;; esac
[[ "$POSTGRES" != *$'\n'* ]] || usage_error "--postgres must be one line"
[[ "$DATA_DIR" = /* && "$PREFIX" = /* ]] || usage_error "--data-dir and --prefix must be absolute paths"
if [ -n "$TLS" ] && [ "$INSECURE" = 1 ]; then usage_error "give --tls DIR or --insecure, not both"; fi
if [ -z "$TLS" ] && [ "$INSECURE" = 0 ] && [ "$HOST" != 127.0.0.1 ] && [ "$HOST" != localhost ]; then
  usage_error "--hostname $HOST is beyond loopback: give --tls DIR (this machine's enrolment folder, docs/tls.md) or --insecure"
fi
[ -z "$TLS" ] || [ -d "$TLS" ] || usage_error "--tls $TLS is not a folder"
[ -z "$MANIFEST" ] || [ -f "$MANIFEST" ] || usage_error "--manifest $MANIFEST: no such file"
ROOT="${ROOT%/}"; [ -n "$ROOT" ] || ROOT=/
REAL=0; [ "$ROOT" = / ] && REAL=1
if [ "$REAL" = 1 ] && [ "$(id -u)" -ne 0 ]; then die "run as root to install on this machine (sudo), or give --root DIR to stage an install"; fi
[ "$REAL" = 1 ] || ENABLE=0
R="${ROOT%/}"
DOTNET=$(find_dotnet)

install_binaries Cis490.Coordinator "$R$PREFIX/coordinator" "$BINARIES"

mkdir -p "$R/etc/default" "$R/etc/systemd/system" "$R$DATA_DIR"
options="--hostname \${CIS490_HOSTNAME} --port \${CIS490_PORT} --data-dir \${CIS490_DATA_DIR} --journal $JOURNAL"
if [ -n "$TLS" ]; then install_tls "$TLS" "$R/etc/cis490/tls"; options="$options --tls /etc/cis490/tls"; else options="$options --insecure"; fi
[ -z "$HTTP_PORT" ] || options="$options --http-port $HTTP_PORT"
[ -z "$HTTP_BIND" ] || options="$options --http-bind $HTTP_BIND"
[ -z "$SEED" ] || options="$options --seed $SEED"
if [ -n "$MANIFEST" ]; then install -D -m 0644 "$MANIFEST" "$R/etc/cis490/manifest.toml"; options="$options --manifest /etc/cis490/manifest.toml"; fi

env_file="$R/etc/default/cis490-coordinator"
( umask 077; cat >"$env_file" <<ENV
# Written by deploy/install-coordinator.sh; edit and 'systemctl restart cis490-coordinator' to change. Mode 0600: it may hold
# the journal's password.
CIS490_HOSTNAME=$HOST
CIS490_PORT=$PORT
CIS490_DATA_DIR=$DATA_DIR
CIS490_POSTGRES=$POSTGRES
ENV
)

unit="$R/etc/systemd/system/cis490-coordinator.service"
cat >"$unit" <<UNIT
# The coordinator node of a Cis490 fleet, written by deploy/install-coordinator.sh. Its settings are in
# /etc/default/cis490-coordinator; the operator and worker tokens are made in the data folder on first start.
[Unit]
Description=Cis490 training fleet coordinator (Akka.NET cluster singleton)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=$SVC_USER
WorkingDirectory=$PREFIX/coordinator
EnvironmentFile=/etc/default/cis490-coordinator
Environment=DOTNET_CLI_TELEMETRY_OPTOUT=1
# A 64 MiB smallest gen0 budget, as ./cis490 coordinator sets it (the script says why): fewer collections over a large job table.
Environment=DOTNET_GCgen0size=0x4000000
ExecStart=$DOTNET $PREFIX/coordinator/Cis490.Coordinator.dll $options
# SIGTERM makes the node leave the cluster cleanly (coordinated shutdown), then exit.
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=on-failure
RestartSec=5
# Exit 2 is a usage error (a bad option, a missing connection string): restarting cannot fix it.
RestartPreventExitStatus=2

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$unit"
say "wrote $unit and $env_file (0600)"

if [ "$REAL" = 1 ]; then
  ensure_account "$SVC_USER" "$DATA_DIR"
  chown "$SVC_USER": "$DATA_DIR" "$env_file"
  [ -z "$TLS" ] || chown -R "$SVC_USER": /etc/cis490/tls
fi
verify_unit "$unit"

if [ "$ENABLE" = 1 ]; then enable_unit cis490-coordinator.service
else say "not enabled (--no-enable or --root): on the machine, systemctl daemon-reload && systemctl enable --now cis490-coordinator"; fi
say "done: coordinator $HOST:$PORT, data $DATA_DIR, journal $JOURNAL${HTTP_PORT:+, HTTP API on port $HTTP_PORT}"
say "workers enrol with: deploy/install-worker.sh --seed akka.tcp://cis490@$HOST:$PORT ${TLS:+--tls DIR}${TLS:---insecure}"
