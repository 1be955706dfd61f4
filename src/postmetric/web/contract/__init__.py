"""The API contract, declared once: request and response shapes as msgspec Structs, with their
examples and the path table of each area (`accounts`, `annotations`, `goals`, `ingest`, `privacy`, `revenue`,
`stats`). `web/openapi.py` builds the OpenAPI document from them; the dashboard's TypeScript
types are generated from that document at build time."""
