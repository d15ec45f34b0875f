"""The floors under every write: Scholia's own app with two more routes.

Both do what each JSON write does before its own work (the CSRF check, loading the signed-in
reader, parsing the body); ``PATH`` then answers 201 without writing anything, ``ROW_PATH``
first stores the body as one row of a table of its own (the write lock, one INSERT through
SQLAlchemy Core, the commit): the least any create can do on this stack.

The benchmark serves it with ``gunicorn 'bench.floor:create()'`` and measures both beside the
annotation create, so the report shows how much of a create's cost is the stack every write goes
through, how much the database's write itself, and how much the create's own work.
"""

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert

PATH = "/api/v1/bench-floor"
ROW_PATH = "/api/v1/bench-floor-row"

ROWS = Table(
    "bench_floor_rows",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False),
)


def prepare(database_url: str) -> None:
    """Make the table ROW_PATH writes to, before any worker starts (they would race to)."""
    engine = create_engine(database_url)
    try:
        ROWS.create(engine, checkfirst=True)
    finally:
        engine.dispose()


def create() -> Flask:
    from app import create_app
    from app.api import require_user
    from app.database import begin_write
    from app.extensions import db

    app = create_app()

    @app.post(PATH)
    def write_nothing():
        require_user()
        payload = request.get_json(silent=True)
        return jsonify({"received": isinstance(payload, dict)}), 201

    @app.post(ROW_PATH)
    def write_one_row():
        require_user()
        payload = request.get_json(silent=True)
        begin_write(db.session)
        db.session.execute(insert(ROWS), {"body": request.get_data(as_text=True)})
        db.session.commit()
        return jsonify({"received": isinstance(payload, dict)}), 201

    return app
