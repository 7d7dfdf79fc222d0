#!/bin/sh
# Start Chromium full screen on the kiosk page, off every network but the SIPAS server.
#   SIPAS_KIOSK_URL=http://10.0.0.5:8000/kiosk/PHUONG-PHUHOI deploy/kiosk/launch-kiosk.sh
# The profile directory must persist: it holds the device token and the queue of unsent ratings.
set -eu
URL="${SIPAS_KIOSK_URL:?set SIPAS_KIOSK_URL, e.g. http://127.0.0.1:8000/kiosk/PHUONG-PHUHOI}"
PROFILE="${SIPAS_KIOSK_PROFILE:-$HOME/.local/share/sipas-kiosk/chromium}"
CHROMIUM="${SIPAS_KIOSK_CHROMIUM:-/usr/bin/chromium}"
HOST=$(printf '%s' "$URL" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')
mkdir -p "$PROFILE"
# At boot the server may still be starting: wait up to two minutes so the first page load succeeds
# (after that the page itself survives outages and queues ratings).
ORIGIN=$(printf '%s' "$URL" | sed -E 's#^([a-z]+://[^/]+).*#\1#')
if command -v curl >/dev/null 2>&1; then
  i=0
  while [ $i -lt 60 ] && ! curl -fsS -o /dev/null --max-time 2 "$ORIGIN/healthz"; do i=$((i + 1)); sleep 2; done
fi
# A crash leaves "exited uncleanly" in the profile, which makes Chromium show a restore bar.
sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[A-Za-z]*"/"exit_type":"Normal"/' \
  "$PROFILE/Default/Preferences" 2>/dev/null || true
exec "$CHROMIUM" \
  --kiosk "$URL" \
  --user-data-dir="$PROFILE" \
  --no-first-run --noerrdialogs --disable-infobars --disable-session-crashed-bubble \
  --disable-translate --disable-features=Translate,TouchpadOverscrollHistoryNavigation \
  --overscroll-history-navigation=0 --disable-pinch \
  --disable-background-networking --disable-component-update --disable-sync --disable-quic \
  --disable-default-apps --disable-extensions --metrics-recording-only --password-store=basic \
  --autoplay-policy=no-user-gesture-required --check-for-update-interval=31536000 \
  --host-resolver-rules="MAP * ~NOTFOUND , EXCLUDE $HOST"
