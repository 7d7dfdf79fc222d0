#!/bin/sh
# Start Chromium full screen on the kiosk page, off every network but the SIPAS server.
#   SIPAS_KIOSK_URL=http://10.0.0.5:8000/kiosk/PHUONG-PHUHOI deploy/kiosk/launch-kiosk.sh
# The profile directory must persist: it holds the device token and the queue of unsent ratings.
set -eu
# What the person installing the kiosk reads is Vietnamese; exit 2 for a missing setting, 127 for a missing browser.
URL="${SIPAS_KIOSK_URL:-}"
if [ -z "$URL" ]; then
  echo "launch-kiosk.sh: chưa đặt SIPAS_KIOSK_URL (địa chỉ trang kiosk của đơn vị), ví dụ" \
    "SIPAS_KIOSK_URL=http://127.0.0.1:8000/kiosk/PHUONG-PHUHOI trong ~/.config/sipas/kiosk.env" >&2
  exit 2
fi
PROFILE="${SIPAS_KIOSK_PROFILE:-$HOME/.local/share/sipas-kiosk/chromium}"
CHROMIUM="${SIPAS_KIOSK_CHROMIUM:-/usr/bin/chromium}"
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then  # said at once, not after waiting for the server
  echo "launch-kiosk.sh: không tìm thấy trình duyệt Chromium tại $CHROMIUM: cài gói chromium" \
    "(apt-get install chromium) hoặc đặt SIPAS_KIOSK_CHROMIUM là đường dẫn tới nó" >&2
  exit 127
fi
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
