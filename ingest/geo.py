"""IP address -> country and ASN, from openly licensed range tables compiled at install time.

Sources (npm packages pinned in ``deploy/geo/package.json``, installed by ``make install`` through
``deploy/geo/geo.sh``; refreshed by bumping those versions):

- country: ``@ip-location-db/dbip-country``, the DB-IP "IP to Country Lite" database (CC BY 4.0,
  attribution "IP Geolocation by DB-IP", https://db-ip.com);
- ASN: ``@ip-location-db/asn``, DB-IP ASN Lite (CC BY 4.0) merged with RouteViews (public data).

Each package ships inclusive numeric ranges (``start,end,value``). :func:`build` turns a pair of them
(IPv4 and IPv6) into one compact file: sorted range starts with gaps made explicit, so a lookup is one
binary search. IPv6 is keyed on its first 64 bits (the stored address is a /48 already, see
``ingest.normalize.truncate_ip``). Lookups run on the *truncated* address (what the pipeline keeps), so
a /24 that straddles two countries resolves to the one at its first address.

The file format (little-endian): a JSON header line (``labels``, ``v4``, ``v6`` counts), then the IPv4
starts (``uint32``), the IPv4 label indexes (``uint32``), the IPv6 starts (``uint64``) and indexes.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FORMAT = 1
_V6_SHIFT = 64
_NONE = 0  # label index of "no value" (a gap between ranges)


@dataclass(frozen=True)
class RangeTable:
    """Sorted range starts and their values (0: not covered); a labelled table maps values to labels
    (``labels[0]`` is '')."""

    labels: tuple[str, ...]
    v4_starts: array[int]
    v4_values: array[int]
    v6_starts: array[int]
    v6_values: array[int]

    def value_v4(self, number: int) -> int:
        i = bisect_right(self.v4_starts, number) - 1
        return self.v4_values[i] if i >= 0 else _NONE

    def value_v6(self, high64: int) -> int:
        i = bisect_right(self.v6_starts, high64) - 1
        return self.v6_values[i] if i >= 0 else _NONE

    def lookup(self, ip: str) -> str:
        """The label of an address ('' when unknown or not an address)."""
        return self.labels[self.value(ip)] if self.labels else ""

    def value(self, ip: str) -> int:
        """The value of an address (0 when unknown or not an address)."""
        if not ip:
            return _NONE
        if ":" not in ip:
            parts = ip.split(".")
            if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts):
                a, b, c, d = (int(p) for p in parts)
                if a < 256 and b < 256 and c < 256 and d < 256:
                    return self.value_v4((a << 24) | (b << 16) | (c << 8) | d)
            return _NONE
        try:
            address = ipaddress.IPv6Address(ip)
        except ValueError:
            return _NONE
        if address.ipv4_mapped is not None:
            return self.value_v4(int(address.ipv4_mapped))
        return self.value_v6(int(address) >> _V6_SHIFT)


def _ranges(rows: Iterable[list[str]], shift: int, value: int) -> Iterator[tuple[int, int, str]]:
    for row in rows:
        if len(row) > value and row[0].isdigit() and row[1].isdigit():
            yield int(row[0]) >> shift, int(row[1]) >> shift, row[value].strip()


def _compile(ranges: Iterable[tuple[int, int, str]], index: dict[str, int] | None) -> tuple[array[int], array[int]]:
    """Starts and values, gaps explicit (value 0), adjacent equal values merged. ``index`` maps labels
    to their numbers (None: the label is a number itself, an ASN)."""
    starts: list[int] = []
    values: list[int] = []
    end = -1
    for start, stop, label in sorted(ranges):
        if stop <= end:  # inside the previous range (IPv6 collapsed to /64, or an overlap): first wins
            continue
        start = max(start, end + 1)
        if start > end + 1:
            starts.append(end + 1)
            values.append(_NONE)
        if index is None:
            code = int(label) if label.isdigit() else _NONE
        else:
            code = index.setdefault(label, len(index)) if label else _NONE
        if not values or values[-1] != code:
            starts.append(start)
            values.append(code)
        end = stop
    starts.append(end + 1)
    values.append(_NONE)
    return array("Q", starts), array("I", values)


def build(v4_csv: Path, v6_csv: Path, out: Path, *, numeric: bool = False) -> dict[str, int]:
    """Compile the numeric CSVs of one package into ``out`` (``numeric``: the value is a number, kept as
    is, and there are no labels); returns the counts."""
    index: dict[str, int] | None = None if numeric else {"": _NONE}
    with v4_csv.open(newline="") as f:
        v4_starts, v4_values = _compile(_ranges(csv.reader(f), 0, 2), index)
    with v6_csv.open(newline="") as f:
        v6_starts, v6_values = _compile(_ranges(csv.reader(f), _V6_SHIFT, 2), index)
    labels = [] if index is None else sorted(index, key=index.__getitem__)
    v4 = array("I", (min(s, 0xFFFFFFFF) for s in v4_starts))
    header = {"format": FORMAT, "labels": labels, "v4": len(v4), "v6": len(v6_starts)}
    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as f:
        f.write(json.dumps(header).encode() + b"\n")
        for part in (v4, v4_values, v6_starts, v6_values):
            if sys.byteorder != "little":
                part.byteswap()
            part.tofile(f)
    tmp.replace(out)
    return {"labels": len(labels), "v4": len(v4), "v6": len(v6_starts)}


@lru_cache(maxsize=4)
def load(path: Path) -> RangeTable:
    """A compiled table (read once per process and path). FileNotFoundError names the install step."""
    if not path.is_file():
        raise FileNotFoundError(f"IP data {path} is missing: run `make install` (deploy/geo/geo.sh install)")
    with path.open("rb") as f:
        header = json.loads(f.readline())
        if header.get("format") != FORMAT:
            raise ValueError(f"{path}: format {header.get('format')!r}, expected {FORMAT}: run `make install`")
        parts = []
        for code, count in (("I", header["v4"]), ("I", header["v4"]), ("Q", header["v6"]), ("I", header["v6"])):
            part = array(code)
            part.fromfile(f, count)
            if sys.byteorder != "little":
                part.byteswap()
            parts.append(part)
    return RangeTable(tuple(header["labels"]), *parts)


def main(argv: list[str]) -> int:
    """``python -m ingest.geo build PACKAGES_DIR OUT_DIR``: compile the country and ASN packages."""
    if len(argv) != 3 or argv[0] != "build":
        print("usage: python -m ingest.geo build NODE_MODULES/@ip-location-db OUT_DIR", file=sys.stderr)
        return 2
    packages, out = Path(argv[1]), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    country = packages / "dbip-country"
    asn = packages / "asn"
    counts = {
        "country": build(country / "dbip-country-ipv4-num.csv", country / "dbip-country-ipv6-num.csv",
                         out / "country.bin"),
        "asn": build(asn / "asn-ipv4-num.csv", asn / "asn-ipv6-num.csv", out / "asn.bin", numeric=True),
    }  # fmt: skip
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
