#!/usr/bin/env bash
# Sets up PostgreSQL on this machine for `storepulse central` (head office), on Debian 12 / Ubuntu.
# Idempotent: run it again at any time (after an upgrade, to check); it changes only what is missing.
#   deploy/central-setup.sh          PostgreSQL: the package, its cluster running (and started at boot
#                                    where systemd runs), a `storepulse` role and database, the role's
#                                    password in /etc/storepulse/central.env
#   deploy/central-setup.sh --demo   only what `storepulse central --demo` needs: the PostgreSQL and
#                                    mosquitto packages (the demo starts private servers of its own)
# Needs root or sudo. The schema itself is made by `storepulse central` on its first start
# (numbered migrations), not here.
set -euo pipefail

DB_NAME="${STOREPULSE_CENTRAL_DB:-storepulse}"
DB_ROLE="${STOREPULSE_CENTRAL_DB_ROLE:-storepulse}"
ENV_FILE="${STOREPULSE_CENTRAL_ENV_FILE:-/etc/storepulse/central.env}"

demo=false
case "${1:-}" in
  --demo) demo=true ;;
  "") ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "central-setup: unknown option $1 (use --demo or nothing)" >&2; exit 2 ;;
esac
[[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ && "$DB_ROLE" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "central-setup: database and role names must be plain lower-case identifiers" >&2; exit 2; }

SUDO=""
if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
# Runs a command as the postgres system user (peer authentication to the cluster's superuser).
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres -- "$@"; fi
}

packages=(postgresql openssl)
if $demo; then packages+=(mosquitto); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "central-setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if $demo; then
  echo "central-setup: done (run: npx storepulse central --demo)"
  exit 0
fi

# The newest installed server version and its `main` cluster (the package creates it; a system set up
# with create_main_cluster = false gets one here).
version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
  echo "central-setup: creating the PostgreSQL $version cluster main"
  $SUDO pg_createcluster "$version" main
fi
if [[ -d /run/systemd/system ]]; then
  $SUDO systemctl enable --now "postgresql@$version-main" >/dev/null
elif ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" { found = 1 } END { exit !found }'; then
  # No systemd (a container): started by hand, and again by hand after a reboot.
  echo "central-setup: starting the PostgreSQL $version cluster (no systemd: start it again after a reboot with: pg_ctlcluster $version main start)"
  $SUDO pg_ctlcluster "$version" main start
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')"

# The role's password lives in the environment file the central service reads (config:
# postgres.url: postgres://storepulse:${STOREPULSE_CENTRAL_DB_PASSWORD}@127.0.0.1:5432/storepulse).
# Generated once; kept on later runs, and the role's password set to it again.
$SUDO mkdir -p "$(dirname "$ENV_FILE")"
if $SUDO test -f "$ENV_FILE" && $SUDO grep -q '^STOREPULSE_CENTRAL_DB_PASSWORD=' "$ENV_FILE"; then
  password="$($SUDO sed -n 's/^STOREPULSE_CENTRAL_DB_PASSWORD=//p' "$ENV_FILE" | head -1)"
else
  password="$(openssl rand -hex 24)"
  echo "STOREPULSE_CENTRAL_DB_PASSWORD=$password" | $SUDO tee -a "$ENV_FILE" >/dev/null
  echo "central-setup: generated the database password into $ENV_FILE"
fi
$SUDO chmod 600 "$ENV_FILE"
[[ "$password" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "central-setup: STOREPULSE_CENTRAL_DB_PASSWORD in $ENV_FILE must be letters, digits, _ . - only" >&2; exit 1; }

psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }
if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" != 1 ]]; then
  echo "central-setup: creating the role $DB_ROLE"
  psql_admin -c "CREATE ROLE $DB_ROLE LOGIN"
fi
# The password is set on every run (from the file), so the two never drift apart; it is passed on
# stdin, not on the command line where `ps` would show it.
echo "ALTER ROLE $DB_ROLE WITH LOGIN PASSWORD '$password'" | psql_admin -f -
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
  echo "central-setup: creating the database $DB_NAME"
  psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE ENCODING 'UTF8' TEMPLATE template0"
fi

# Check: the role logs in over TCP with its password, as central will.
PGPASSWORD="$password" psql "host=127.0.0.1 port=$port dbname=$DB_NAME user=$DB_ROLE" -qtAc 'SELECT 1' >/dev/null
echo "central-setup: done. PostgreSQL $version on 127.0.0.1:$port, database $DB_NAME, role $DB_ROLE (password in $ENV_FILE)."
echo "  config: postgres: { url: postgres://$DB_ROLE:\${STOREPULSE_CENTRAL_DB_PASSWORD}@127.0.0.1:$port/$DB_NAME }"
