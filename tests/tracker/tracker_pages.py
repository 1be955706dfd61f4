"""Helpers for the tracker's browser tests (importable, unlike conftest)."""

import json

DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)


def html(snippet_tag: str, title: str = "Home", body: str = "") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{snippet_tag}</head><body>{body}</body></html>"


def props(event: dict) -> dict:
    return json.loads(event["props"])


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]
