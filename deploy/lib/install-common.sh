# Shared by deploy/install-worker.sh and deploy/install-coordinator.sh (sourced, not run). Every function prints what it does;
# every failure says what is wrong and exits non-zero.

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

say() { echo "$SCRIPT: $*" >&2; }
die() { echo "$SCRIPT: ERROR: $*" >&2; exit "${2:-1}"; }
usage_error() { echo "$SCRIPT: $*" >&2; echo "run '$SCRIPT --help' for the options" >&2; exit 2; }

# need VALUE OPTION: the option's value, or a usage error naming the option.
need() { [ -n "${1:-}" ] && [[ "$1" != --* ]] || usage_error "$2 needs a value"; echo "$1"; }

positive_int() { [[ "$1" =~ ^[1-9][0-9]*$ ]] || usage_error "$2 must be a positive integer, got '$1'"; }

port_number() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || usage_error "$2 must be a port (1-65535), got '$1'"; }

# A value written into a systemd unit or an environment file: no spaces, quotes, '$', '%' or '\', so nothing is expanded there.
plain_value() { [[ "$1" =~ ^[A-Za-z0-9@:/._,+=-]+$ ]] || usage_error "$2 may hold only letters, digits and @:/._,+=- (got '$1')"; }

# The address other machines reach this one on: the first address 'hostname -I' lists.
default_hostname() {
  local ip
  ip=$(hostname -I 2>/dev/null | awk '{print $1}')
  [ -n "$ip" ] || usage_error "cannot tell this machine's address (hostname -I lists none): give --hostname ADDRESS"
  echo "$ip"
}

# The dotnet executable by absolute path (a systemd unit needs one).
find_dotnet() {
  local d
  d=$(command -v dotnet 2>/dev/null) || die "the .NET 10 runtime is required ('dotnet' is not on PATH; https://dot.net)"
  readlink -f "$d"
}

# install_binaries PROJECT DEST BINARIES: copies a build output of PROJECT (Cis490.WorkerNode, Cis490.Coordinator) to DEST; from
# BINARIES when given, else builds it from this checkout first (as './cis490 setup' does).
install_binaries() {
  local project="$1" dest="$2" from="${3:-}"
  if [ -z "$from" ]; then
    local csproj
    csproj=$(ls "$REPO_DIR"/*/"$project".csproj 2>/dev/null | head -1)
    [ -n "$csproj" ] || die "no $project.csproj under $REPO_DIR: run this script from a checkout, or give --binaries DIR"
    say "building $project from $REPO_DIR (release)"
    "$DOTNET" build "$csproj" -c release -nologo -v quiet -clp:NoSummary -p:NuGetAudit=false >&2 || die "the build of $project failed"
    from="$REPO_DIR/.build/bin/$project/release"
  fi
  [ -f "$from/$project.dll" ] || die "$from holds no $project.dll: --binaries must name a build output folder of $project"
  [ -d "$from/hocon" ] || die "$from has no hocon/ folder beside $project.dll (the node reads its configuration there)"
  say "installing $from → $dest"
  rm -rf "$dest.new"
  mkdir -p "$(dirname "$dest")"
  cp -a "$from" "$dest.new"
  # Swapped in whole: a machine never runs half an old and half a new install.
  rm -rf "$dest.old"; [ ! -e "$dest" ] || mv "$dest" "$dest.old"
  mv "$dest.new" "$dest"; rm -rf "$dest.old"
}

# install_tls DIR TARGET: copies an enrolment folder (ca.crt, node.crt, node.key) to TARGET, the key readable by its owner only.
install_tls() {
  local from="$1" to="$2" f
  for f in ca.crt node.crt node.key; do
    [ -f "$from/$f" ] || die "--tls $from has no $f: make the folder with './cis490 certs issue NAME --role ROLE --ca CA --out DIR' (docs/tls.md)"
  done
  mkdir -p "$to"
  install -m 0644 "$from/ca.crt" "$to/ca.crt"
  install -m 0644 "$from/node.crt" "$to/node.crt"
  install -m 0600 "$from/node.key" "$to/node.key"
  say "enrolment folder $from → $to (node.key 0600)"
}

# ensure_account USER HOME: the service account, made when missing (root on the real system only).
ensure_account() {
  local user="$1" home="$2"
  id "$user" >/dev/null 2>&1 && return 0
  command -v useradd >/dev/null 2>&1 || die "no account '$user' and no useradd to make it: create it, or give --user NAME"
  say "creating the system account $user (home $home)"
  useradd --system --home-dir "$home" --shell /usr/sbin/nologin "$user"
}

# verify_unit FILE: systemd's own check of a unit file, where systemd-analyze is installed. It is checked by its path against
# this machine's systemd (so a file staged under --root is checked too); systemd-analyze reports some problems (an unknown
# key or value) only as warnings with exit 0, so any output counts as a failure.
verify_unit() {
  local unit="$1" out
  command -v systemd-analyze >/dev/null 2>&1 || { say "systemd-analyze is not installed: $unit is not verified"; return 0; }
  if ! out=$(systemd-analyze verify "$unit" 2>&1) || [ -n "$out" ]; then
    echo "$out" >&2
    die "systemd-analyze verify found problems in $unit (above)"
  fi
  say "systemd-analyze verify: $unit is valid"
}

# enable_unit NAME: enables and starts it when systemd runs this machine; otherwise says how.
enable_unit() {
  local name="$1"
  if [ ! -d /run/systemd/system ]; then
    say "systemd is not running here (not PID 1): $name is written but not enabled; on a systemd machine: systemctl daemon-reload && systemctl enable --now $name"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --now "$name"
  say "enabled and started $name (journalctl -u $name -f to follow it)"
}
