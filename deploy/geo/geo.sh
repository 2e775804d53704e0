#!/usr/bin/env bash
# IP data of the enrichment (ingest/geo.py): the npm packages pinned in package.json / package-lock.json,
# compiled into compact lookup tables.
#   geo.sh install   npm ci into the cache, compile country.bin and asn.bin, point <cache>/geo/current at them
#                    (once per lock file; quick when cached)
#   geo.sh path      print the directory the API reads (ADPULSE_GEO_DIR's default)
# Environment: ADPULSE_CACHE_DIR (~/.cache/adpulse), PYTHON (<repo>/.venv/bin/python).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
cache="${ADPULSE_CACHE_DIR:-$HOME/.cache/adpulse}/geo"
version="$(sha256sum "$here/package-lock.json" | cut -c1-16)"
dir="$cache/$version"

case "${1:-}" in
install)
    if [[ ! -f "$dir/.complete" ]]; then
        command -v npm >/dev/null || { echo "geo.sh: npm (Node.js) is needed to fetch the IP data" >&2; exit 1; }
        rm -rf "$dir" && mkdir -p "$dir/src"
        cp "$here/package.json" "$here/package-lock.json" "$dir/src/"
        (cd "$dir/src" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
        "$python" -m ingest.geo build "$dir/src/node_modules/@ip-location-db" "$dir"
        # Keep the licences beside the tables; the CSVs are not needed once compiled.
        for pkg in "$dir"/src/node_modules/@ip-location-db/*; do
            mkdir -p "$dir/licenses/$(basename "$pkg")"
            cp "$pkg"/*LICENSE* "$pkg"/package.json "$dir/licenses/$(basename "$pkg")/"
        done
        rm -rf "$dir/src"
        touch "$dir/.complete"
    fi
    ln -sfn "$dir" "$cache/current"
    ;;
path)
    echo "$cache/current"
    ;;
*)
    echo "usage: $0 install|path" >&2
    exit 2
    ;;
esac
