"""The OpenAPI 3.1 document of the HTTP API, generated from the contract, and the HTML page that
renders it offline.

The document is built from the path tables of `web/contract/` (one module per area): each
operation's request and response shapes are msgspec Structs, turned into JSON Schema components by
`msgspec.json.schema_components`, with the examples that sit next to them. A test checks that
every `/api/…` route of the app is described here, and another validates every example.

Secondary responsibilities:
1. `docs_html`, a self-contained page (no scripts, no CDN: instances may be offline) listing every
   operation with its parameters and examples.
2. `python -m postmetric.web.openapi` prints the document; the dashboard's build turns it into
   TypeScript types (dashboard/src/generated/api.d.ts).
"""

from __future__ import annotations

import html
import sys
from typing import Any

import orjson

from postmetric.web.contract import (
    accounts,
    annotations,
    goals,
    impact,
    ingest,
    integrations,
    privacy,
    revenue,
    search_console,
    stats,
    x_posts,
)
from postmetric.web.contract.common import SECURITY_SCHEMES, SHARED_RESPONSES, Health
from postmetric.web.contract.operation import Answer, Operation, build_document

_META = [
    Operation("get", "/api/health", "health", "Meta", "Liveness, and events waiting to be stored.",
              {200: Answer("OK", Health, {"status": "ok", "events_pending": 0})}),
    Operation("get", "/api/openapi.json", "openapi", "Meta", "This document.",
              {200: Answer("OpenAPI 3.1", schema={"type": "object"})}),
    Operation("get", "/api/docs", "docs", "Meta", "This document as an HTML page.",
              {200: Answer("HTML", media="text/html")}),
]

OPENAPI: dict[str, Any] = build_document(
    info={
        "title": "Postmetric API",
        "version": "1",
        "description": "Ingestion and stats API of a Postmetric instance. Stats endpoints take "
                       "`Authorization: Bearer <key>`: a site key (`pmk_…`) reads its own site, an account token "
                       "(`pmt_…`) the sites its user owns. Errors are `{\"error\": \"<field>: <message>\"}`.",
    },
    tags=[*ingest.TAGS, *stats.TAGS, {"name": "Payments"}, *accounts.TAGS, *goals.TAGS, *annotations.TAGS, *integrations.TAGS, *revenue.TAGS,
          *privacy.TAGS, {"name": "Meta"}],
    operations=[*ingest.OPERATIONS, *stats.OPERATIONS, *revenue.PAYMENT_OPERATIONS, *accounts.OPERATIONS,
                *goals.OPERATIONS, *annotations.OPERATIONS, *impact.OPERATIONS, *integrations.OPERATIONS, *search_console.OPERATIONS, *x_posts.OPERATIONS, *revenue.REVENUE_OPERATIONS, *privacy.OPERATIONS, *_META],
    security_schemes=SECURITY_SCHEMES,
    responses=SHARED_RESPONSES,
)


# -- the HTML page -------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}
section{border:1px solid #d0d7de;border-radius:6px;padding:.25rem 1rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:3.5rem;font-weight:700;color:#fff;background:#0969da;border-radius:4px;
text-align:center;margin-right:.5rem;padding:0 .4rem}.post{background:#1a7f37}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #d0d7de;padding:.3rem;text-align:left;
vertical-align:top}details{margin:.5rem 0}
"""


def docs_html(document: dict[str, Any] = OPENAPI) -> str:
    """The document as one HTML page: operations grouped by tag, each with parameters and examples."""
    e = html.escape
    info = document["info"]
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(info['title'])}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{e(info['title'])}</h1><p>{e(info['description'])}</p>"
             "<p>Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a> (OpenAPI 3.1).</p>"]
    for tag in document["tags"]:
        parts.append(f"<h2>{e(tag['name'])}</h2>")
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if tag["name"] in operation.get("tags", ()):
                    parts.append(_operation_html(path, method, operation, document))
    parts.append("</body></html>")
    return "".join(parts)


def _operation_html(path: str, method: str, operation: dict[str, Any], document: dict[str, Any]) -> str:
    e = html.escape
    out = [f"<section id='{e(operation['operationId'])}'><h3><span class='method {method}'>{method.upper()}</span>"
           f"<code>{e(path)}</code></h3><p>{e(operation['summary'])}</p>"]
    if "description" in operation:
        out.append(f"<p>{e(operation['description'])}</p>")
    if operation.get("security"):
        out.append("<p><em>Needs <code>Authorization: Bearer &lt;key&gt;</code>.</em></p>")
    if operation.get("parameters"):
        out.append("<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>")
        for p in operation["parameters"]:
            example = f" e.g. <code>{e(str(p['example']))}</code>" if "example" in p else ""
            required = " (required)" if p.get("required") else ""
            out.append(f"<tr><td><code>{e(p['name'])}</code>{required}</td><td>{e(p['in'])}</td>"
                       f"<td>{e(p.get('description', ''))}{example}</td></tr>")
        out.append("</table>")
    body = operation.get("requestBody")
    if body:
        media, content = next(iter(body["content"].items()))
        out.append(f"<details open><summary>request body ({e(media)})</summary>{_example_html(content)}</details>")
    for status, response in operation["responses"].items():
        response = _resolve(response, document)
        content = next(iter(response.get("content", {}).values()), {})
        out.append(f"<details{' open' if status.startswith('2') else ''}><summary><b>{e(status)}</b> "
                   f"{e(response['description'])}</summary>{_example_html(content)}</details>")
    out.append("</section>")
    return "".join(out)


def _example_html(content: dict[str, Any]) -> str:
    if "example" not in content:
        return ""
    example = content["example"]
    text = example if isinstance(example, str) else orjson.dumps(example, option=orjson.OPT_INDENT_2).decode()
    return f"<pre>{html.escape(text)}</pre>"


def _resolve(item: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in item:
        return item
    node: Any = document
    for part in item["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    return node


if __name__ == "__main__":
    sys.stdout.buffer.write(orjson.dumps(OPENAPI, option=orjson.OPT_INDENT_2) + b"\n")
