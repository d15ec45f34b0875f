"""The floor under every write: Scholia's own app with one more route, which does what each JSON
write does before its own work (the CSRF check, loading the signed-in reader, parsing the body)
and answers 201 without writing anything.

The benchmark serves it with ``gunicorn 'bench.floor:create()'`` and measures it beside the
annotation create, so the report shows how much of a create's cost is the stack every write goes
through and how much is the create itself.
"""

from flask import Flask, jsonify, request

PATH = "/api/v1/bench-floor"


def create() -> Flask:
    from app import create_app
    from app.api import require_user

    app = create_app()

    @app.post(PATH)
    def write_nothing():
        require_user()
        payload = request.get_json(silent=True)
        return jsonify({"received": isinstance(payload, dict)}), 201

    return app
