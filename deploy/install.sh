#!/usr/bin/env bash
# Installs storepulse as a service on a Debian 12 / Ubuntu store PC (run as root from a checkout):
#   sudo deploy/install.sh            copy to /opt/storepulse, install, enable and start the service
#   sudo deploy/install.sh --no-start everything except starting it
# Re-running it upgrades in place and keeps /etc/storepulse and /var/lib/storepulse.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
APP=${STOREPULSE_APP_DIR:-/opt/storepulse}
ETC=${STOREPULSE_ETC_DIR:-/etc/storepulse}
UNIT_DIR=${STOREPULSE_UNIT_DIR:-/etc/systemd/system}
START=1
[[ "${1:-}" == "--no-start" ]] && START=0
[[ "$(id -u)" == 0 ]] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }

echo "install: service user and groups"
getent group video >/dev/null || groupadd --system video
getent group bluetooth >/dev/null || groupadd --system bluetooth
if ! id storepulse >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/storepulse --no-create-home --shell /usr/sbin/nologin storepulse
fi
usermod -a -G video,bluetooth storepulse

echo "install: application in $APP"
mkdir -p "$APP"
# Source only: dependencies and build outputs are made fresh on this machine.
tar -C "$SRC" --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./.git --exclude=./scratch -cf - . | tar -C "$APP" -xf -
"$APP/deploy/setup.sh"
# Dev-only packages (the model's TFJS source, test tools) are not needed to run.
(cd "$APP" && npm prune --omit=dev --no-audit --no-fund)
chown -R root:root "$APP"

echo "install: configuration in $ETC"
install -d -m 0750 -o root -g storepulse "$ETC"
[[ -f "$ETC/gateway.yaml" ]] || install -m 0640 -o storepulse -g storepulse "$APP/config/gateway.example.yaml" "$ETC/gateway.yaml"
[[ -f "$ETC/storepulse.env" ]] || install -m 0640 -o root -g storepulse /dev/null "$ETC/storepulse.env"
# The installer UI saves the config by rename in this directory.
chown storepulse:storepulse "$ETC"

echo "install: systemd unit"
install -m 0644 "$APP/deploy/storepulse.service" "$UNIT_DIR/storepulse.service"
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  systemctl enable storepulse.service
  if ((START)); then systemctl restart storepulse.service; fi
  echo "install: done — status: systemctl status storepulse; API: http://$(hostname -I 2>/dev/null | awk '{print $1}'):8080/api/status"
else
  echo "install: done (systemd is not running here: enable with 'systemctl enable --now storepulse' on the target)"
fi
