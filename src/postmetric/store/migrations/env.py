"""Alembic environment: runs migrations on the connection `postmetric.store.database` hands over."""

from alembic import context

from postmetric.store.metadata import Base, UTCDateTime


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import model code, which changes over time: render the plain column type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through postmetric.store.database.migrate() or alembic_config()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
