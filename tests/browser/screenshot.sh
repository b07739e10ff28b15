#!/usr/bin/env bash
# Opens a report's index.html in headless Chromium and saves a full-page screenshot, so a
# person can check the page by eye (no network: the page must be self-contained).
#
# usage: tests/browser/screenshot.sh [REPORT_DIR] [OUT.png]
#   REPORT_DIR  default reports/example
#   OUT.png     default target/report-screenshot.png
set -euo pipefail

dir=${1:-reports/example}
out=${2:-target/report-screenshot.png}
chromium=${CHROMIUM:-/usr/bin/chromium}

if [[ ! -f "$dir/index.html" ]]; then
    echo "screenshot.sh: $dir/index.html not found (run cascade report first)" >&2
    exit 2
fi
if [[ ! -x "$chromium" ]]; then
    echo "screenshot.sh: $chromium not found (apt-get install -y chromium)" >&2
    exit 2
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
page="file://$(cd "$dir" && pwd)/index.html"
mkdir -p "$(dirname "$out")"
out_abs="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars \
    --screenshot="$out_abs" --window-size="${WINDOW:-1400,4000}" "$page" 2>/dev/null

echo "screenshot: $out_abs"
