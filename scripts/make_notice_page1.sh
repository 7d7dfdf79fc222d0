#!/bin/sh
# Regenerate docs/notice-page1.png and docs/notice-chart.png: pages 1 and 5 (the first annex chart, labels
# wrapped between words) of the demo ward's draft notice for 2026 Q3, at 90 dpi.
# Uses a throwaway demo database (never the configured one) and LibreOffice, as `sipas notice` does.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SIPAS_ENV_FILE= SIPAS_INSTANCE_DIR="$work/instance" SIPAS_DATABASE_URL="sqlite:///$work/demo.db"
export SIPAS_SECRET_KEY=notice-page-screenshot-only-0123456789abcdef
"$here/.venv/bin/sipas" db upgrade >/dev/null
"$here/.venv/bin/sipas" demo >/dev/null
"$here/.venv/bin/sipas" notice --unit PHUONG-PHUHOI --quarter 2026Q3 -o "$work/notice.pdf"
pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$work/notice.pdf" "$work/page1"
pdftoppm -png -r 90 -f 5 -l 5 -singlefile "$work/notice.pdf" "$work/chart"
cp "$work/page1.png" "$here/docs/notice-page1.png"
cp "$work/chart.png" "$here/docs/notice-chart.png"
echo "docs/notice-page1.png docs/notice-chart.png"
