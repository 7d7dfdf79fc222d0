#!/usr/bin/env bash
# Install the Debian packages a task needs, only those missing (idempotent, quick when all present).
#   scripts/install-system-deps.sh run    # what `make run` needs
#   scripts/install-system-deps.sh test   # what `make test` needs: PostgreSQL, Chromium, LibreOffice, fonts...
set -euo pipefail

run_packages=(python3-venv fonts-liberation2 libreoffice-writer-nogui poppler-utils libcairo2)
# nginx: tests/multihost runs its own nginx (-c/-p, high ports); the package's service is kept from starting.
test_packages=("${run_packages[@]}" postgresql chromium espeak-ng sox libzbar0 nodejs npm nginx logrotate)

case "${1:-test}" in
  run) wanted=("${run_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  *) echo "Cách dùng: $0 run|test (run: các gói để chạy sipas; test: thêm các gói để chạy kiểm thử)" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
  # nodejs/npm may come from elsewhere (nvm, NodeSource): a working npm is enough.
  if [[ $package == nodejs || $package == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  if [[ $package == python3-venv ]] && python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "Đang cài các gói Debian còn thiếu: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Installing nginx must not start a web server on port 80: policy-rc.d (if none is there) refuses service
# starts during the install, then goes; a service started before anyway is stopped and disabled.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [[ " ${missing[*]} " == *" nginx "* && ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && own_policy=1
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ -n $own_policy ]]; then $sudo rm -f "$policy"; fi
if [[ " ${missing[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
fi
