#!/usr/bin/env bash
# Enrols this Linux machine as a worker of a Cis490 fleet in one command: installs the worker program, runs its self-test
# (refusing a machine that can run no model family), writes the systemd unit with the seed address, data cache and slots,
# and enables it. Run it as root from a checkout (it builds), or with --binaries DIR (a build output to install).
# ./deploy/install-worker.sh --help lists the options; README.md "A fleet of three machines" walks through a whole fleet.
set -euo pipefail
SCRIPT=install-worker
# shellcheck source=deploy/lib/install-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/install-common.sh"

usage() {
  cat <<'USAGE'
usage: deploy/install-worker.sh --seed akka.tcp://cis490@COORDINATOR:4053 [options]

  --seed ADDR           the coordinator's address (required; several separated by commas)
  --hostname H          the address other nodes reach this machine on (default: the first of 'hostname -I')
  --port P              the worker's Akka.Remote port (default 4054)
  --slots N             trainer processes at once (default 1)
  --work-dir DIR        where trainers write their jobs, and the data-set cache: data sets the coordinator publishes are
                        pulled into DIR/data-sets/<content hash> (default /var/lib/cis490/work)
  --cache-size SIZE     the data-set cache's limit (HOCON size, e.g. 20GiB, 4GiB on a Pi; default: worker.conf's 20GiB);
                        written to /etc/cis490/worker.conf, passed with --config
  --data DIR            optional: a feature folder built or copied by hand, used as a pre-seeded data set (README "Data sets")
  --tls DIR             this machine's enrolment folder (./cis490 certs issue NAME --role worker): installed as /etc/cis490/tls
  --insecure            no TLS: every machine on the network is trusted (the worker warns); one of --tls / --insecure is needed
  --worker-id ID        default: the certificate's name with --tls, else MACHINE-PORT
  --worker-args "ARGS"  more options for 'worker', written into /etc/default/cis490-worker as they are
  --binaries DIR        install this Cis490.WorkerNode build output instead of building the checkout
  --prefix DIR          where the program goes (default /opt/cis490; the worker in PREFIX/worker)
  --user NAME           the service account (default cis490; created when missing)
  --root DIR            install under DIR instead of / (a staging root or a test): nothing outside it changes, no systemctl
  --no-enable           write everything but do not run systemctl
  --skip-self-test      do not run the self-test here (the worker still runs it at every start and refuses to register
                        when nothing runs); for building an image on another machine

The self-test trains every model family on a tiny synthetic set with the installed program ('trainer self-test'); a machine
where none can run is refused (exit 5). What it cannot run (no libxgboost: gbt; no libtorch for this CPU: the neural
families) is listed, and the worker advertises only what it can run.
USAGE
}

SEED="" HOST="" PORT=4054 SLOTS=1 DATA="" WORK=/var/lib/cis490/work CACHE_SIZE="" TLS="" INSECURE=0 WORKER_ID="" WORKER_ARGS=""
BINARIES="" PREFIX=/opt/cis490 SVC_USER=cis490 ROOT=/ ENABLE=1 SELF_TEST=1
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --seed) SEED=$(need "${2:-}" "$1"); shift ;;
    --hostname) HOST=$(need "${2:-}" "$1"); shift ;;
    --port) PORT=$(need "${2:-}" "$1"); shift ;;
    --slots) SLOTS=$(need "${2:-}" "$1"); shift ;;
    --data) DATA=$(need "${2:-}" "$1"); shift ;;
    --work-dir) WORK=$(need "${2:-}" "$1"); shift ;;
    --cache-size) CACHE_SIZE=$(need "${2:-}" "$1"); shift ;;
    --tls) TLS=$(need "${2:-}" "$1"); shift ;;
    --insecure) INSECURE=1 ;;
    --worker-id) WORKER_ID=$(need "${2:-}" "$1"); shift ;;
    --worker-args) [ $# -ge 2 ] || usage_error "--worker-args needs a value"; WORKER_ARGS="$2"; shift ;;
    --binaries) BINARIES=$(need "${2:-}" "$1"); shift ;;
    --prefix) PREFIX=$(need "${2:-}" "$1"); shift ;;
    --user) SVC_USER=$(need "${2:-}" "$1"); shift ;;
    --root) ROOT=$(need "${2:-}" "$1"); shift ;;
    --no-enable) ENABLE=0 ;;
    --skip-self-test) SELF_TEST=0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done

# ---- check everything before changing anything ----
[ -n "$SEED" ] || usage_error "--seed is required (the coordinator's address, e.g. akka.tcp://cis490@192.168.1.10:4053)"
IFS=, read -ra seeds <<<"$SEED"
for s in "${seeds[@]}"; do
  [[ "$s" =~ ^akka(\.ssl)?\.tcp://[A-Za-z0-9_-]+@[A-Za-z0-9._:-]+:[0-9]+$ ]] \
    || usage_error "--seed '$s' is not an Akka address like akka.tcp://cis490@HOST:4053"
done
[ -n "$HOST" ] || HOST=$(default_hostname)
port_number "$PORT" --port
positive_int "$SLOTS" --slots
for v in "$HOST:--hostname" "$WORK:--work-dir" "$PREFIX:--prefix" "$SVC_USER:--user"; do plain_value "${v%:--*}" "--${v##*:--}"; done
[ -z "$WORKER_ID" ] || plain_value "$WORKER_ID" --worker-id
[ -z "$DATA" ] || plain_value "$DATA" --data
[[ ( -z "$DATA" || "$DATA" = /* ) && "$WORK" = /* && "$PREFIX" = /* ]] || usage_error "--data, --work-dir and --prefix must be absolute paths"
if [ -n "$CACHE_SIZE" ]; then
  [[ "$CACHE_SIZE" =~ ^[0-9]+(\.[0-9]+)?\ ?([kKmMgGtT]i?B?)?$ ]] || usage_error "--cache-size '$CACHE_SIZE' is not a size like 20GiB or 500MiB"
  [[ "$WORKER_ARGS" != *--config* ]] || usage_error "--cache-size writes /etc/cis490/worker.conf and passes it with --config; --worker-args has its own --config: put the size in that file instead"
fi
if [ -n "$TLS" ] && [ "$INSECURE" = 1 ]; then usage_error "give --tls DIR or --insecure, not both"; fi
if [ -z "$TLS" ] && [ "$INSECURE" = 0 ] && [ "$HOST" != 127.0.0.1 ] && [ "$HOST" != localhost ]; then
  usage_error "--hostname $HOST is beyond loopback: give --tls DIR (this machine's enrolment folder, docs/tls.md) or --insecure"
fi
[ -z "$TLS" ] || [ -d "$TLS" ] || usage_error "--tls $TLS is not a folder"
[[ "$WORKER_ARGS" != *$'\n'* ]] || usage_error "--worker-args must be one line"
ROOT="${ROOT%/}"; [ -n "$ROOT" ] || ROOT=/
REAL=0; [ "$ROOT" = / ] && REAL=1
if [ "$REAL" = 1 ] && [ "$(id -u)" -ne 0 ]; then die "run as root to install on this machine (sudo), or give --root DIR to stage an install"; fi
[ "$REAL" = 1 ] || ENABLE=0
R="${ROOT%/}"   # prefix for every path written; empty for the real root
DOTNET=$(find_dotnet)

# ---- the program ----
install_binaries Cis490.WorkerNode "$R$PREFIX/worker" "$BINARIES"

# ---- the self-test, before anything enrols this machine ----
if [ "$SELF_TEST" = 1 ]; then
  say "self-test: training every model family on a tiny synthetic set with the installed program"
  set +e
  # Its lines go to stderr; the JSON report on stdout is for the worker, not for a person.
  "$DOTNET" "$R$PREFIX/worker/Cis490.WorkerNode.dll" trainer self-test >/dev/null
  rc=$?
  set -e
  case $rc in
    0) say "self-test passed: the worker will advertise the families marked ok above" ;;
    5) die "REFUSED: this machine can run no model family (see the self-test's lines above); nothing was enrolled" 5 ;;
    *) die "REFUSED: the self-test did not run (exit $rc; its output is above); nothing was enrolled" 5 ;;
  esac
else
  say "self-test skipped here (--skip-self-test); the worker runs it at every start"
fi

# ---- configuration, TLS, account, unit ----
mkdir -p "$R/etc/default" "$R/etc/systemd/system" "$R$WORK"
data_option=""; [ -z "$DATA" ] || data_option="--data $DATA"
config_option=""
if [ -n "$CACHE_SIZE" ]; then
  mkdir -p "$R/etc/cis490"
  cat >"$R/etc/cis490/worker.conf" <<CONF
# Written by deploy/install-worker.sh (--cache-size): over hocon/worker.conf.
# Pulled data sets (WORK-DIR/data-sets) past this size are evicted, least recently used first.
cis490.worker.data-cache-size = $CACHE_SIZE
CONF
  chmod 0644 "$R/etc/cis490/worker.conf"
  config_option="--config /etc/cis490/worker.conf"
fi
tls_option="--insecure"
if [ -n "$TLS" ]; then install_tls "$TLS" "$R/etc/cis490/tls"; tls_option="--tls /etc/cis490/tls"; fi
id_option=""; [ -z "$WORKER_ID" ] || id_option="--worker-id $WORKER_ID"

cat >"$R/etc/default/cis490-worker" <<ENV
# Written by deploy/install-worker.sh; edit and 'systemctl restart cis490-worker' to change.
# The coordinator's address (several separated by commas).
CIS490_SEED=$SEED
# The address other nodes reach this machine on, and the worker's port.
CIS490_HOSTNAME=$HOST
CIS490_PORT=$PORT
# Trainer processes at once.
CIS490_SLOTS=$SLOTS
# Where trainers write their job folders; data sets pulled from the coordinator are cached in its data-sets/ folder.
CIS490_WORK_DIR=$WORK
# More options for 'worker', as given to --worker-args.
CIS490_WORKER_ARGS=$WORKER_ARGS
ENV
chmod 0644 "$R/etc/default/cis490-worker"

options=$(echo "$data_option $config_option $tls_option $id_option" | tr -s ' ' | sed 's/^ //; s/ $//')
unit="$R/etc/systemd/system/cis490-worker.service"
cat >"$unit" <<UNIT
# A worker node of a Cis490 fleet, written by deploy/install-worker.sh. Its settings are in /etc/default/cis490-worker.
# At every start the worker runs its trainer's self-test and advertises only the model families that passed; a machine
# that can run none exits with code 5 (and is not restarted for it: see RestartPreventExitStatus).
[Unit]
Description=Cis490 training fleet worker (trains leased jobs in child processes)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=$SVC_USER
WorkingDirectory=$PREFIX/worker
EnvironmentFile=/etc/default/cis490-worker
Environment=DOTNET_CLI_TELEMETRY_OPTOUT=1
ExecStart=$DOTNET $PREFIX/worker/Cis490.WorkerNode.dll worker --seed \${CIS490_SEED} --hostname \${CIS490_HOSTNAME} --port \${CIS490_PORT} --slots \${CIS490_SLOTS} --work-dir \${CIS490_WORK_DIR} $options \$CIS490_WORKER_ARGS
# SIGTERM drains: running jobs get cis490.worker.drain-grace (60 s) to finish, the rest is handed back, then the node leaves.
KillSignal=SIGTERM
TimeoutStopSec=120
# A worker downed by the cluster rejoins by itself; a crash restarts it here. Exit 2 (a usage error: a --data folder that is
# not a feature build, a bad seed), 4 (its worker id is held by another node) and 5 (it can run no model family) need the operator.
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=2 4 5

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$unit"
say "wrote $unit and $R/etc/default/cis490-worker"

if [ "$REAL" = 1 ]; then
  ensure_account "$SVC_USER" /var/lib/cis490
  chown -R "$SVC_USER": "$WORK"
  [ -z "$TLS" ] || chown -R "$SVC_USER": /etc/cis490/tls
fi
verify_unit "$unit"

# ---- the data set ----
# The worker pulls each job's data set from the coordinator (published with './cis490 data publish'); a --data folder is
# only a pre-seeded one, and the worker refuses to start (exit 2) when it is not a feature build.
if [ -n "$DATA" ] && [ ! -f "$R$DATA/features_window_v1.parquet" ]; then
  say "NOTE: $DATA holds no feature build; the worker refuses to start (exit 2) until it does, or drop --data: data sets are"
  say "      pulled from the coordinator once published (./cis490 data publish DIR --coordinator HOST:PORT)"
fi

if [ "$ENABLE" = 1 ]; then enable_unit cis490-worker.service
else say "not enabled (--no-enable or --root): on the machine, systemctl daemon-reload && systemctl enable --now cis490-worker"; fi
say "done: worker $HOST:$PORT → $SEED, $SLOTS slot(s), data-set cache $WORK/data-sets${CACHE_SIZE:+ (up to $CACHE_SIZE)}${DATA:+, pre-seeded $DATA}"
