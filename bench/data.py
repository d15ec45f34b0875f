"""The benchmark's databases: generated once (``bench/generate.py``), cached, and copied fresh
for every measurement, on SQLite or PostgreSQL. The one way any workload gets its data.

Generated databases are cached in ``bench/.data/`` under a key made of the parameters, the
migration head, the generator's source and the seed texts, so reruns start at once. With
``--postgres URL`` the databases are made on that PostgreSQL server instead (the role needs
CREATEDB) and cached there by name.

    .venv/bin/python -m bench.data [--postgres URL] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench.generate import DATA, ROOT, SECRET_KEY, Generator, Params, verify


@dataclass
class Dataset:
    kind: str
    url: str
    manifest: dict
    admin: str | None = None  # PostgreSQL: the URL to create and drop databases from


def migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def cache_key(kind: str, params: Params) -> str:
    digest = hashlib.sha256()
    effective = asdict(params) if kind == "big" else asdict(small_params(params))
    digest.update(json.dumps([kind, effective, migration_head()], sort_keys=True).encode())
    for source in ("data.py", "generate.py"):
        digest.update((ROOT / "bench" / source).read_bytes())
    for path in sorted((ROOT / "seeds").iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def small_params(params: Params) -> Params:
    return replace(params, texts=0, text_annotations=0, readers=0, groups=0)


def ensure(kind: str, params: Params, postgres: str | None = None, force: bool = False) -> Dataset:
    """The cached dataset of this kind, generated first if it is missing or stale."""
    key = cache_key(kind, params)
    DATA.mkdir(parents=True, exist_ok=True)
    if postgres:
        target = make_url(postgres).set(database=f"scholia_bench_{kind}_{key}")
        manifest_path = DATA / f"{kind}-{key}-{target.host}-{target.port}.json"
        exists = _pg_exists(postgres, target.database)
        url = target.render_as_string(hide_password=False)
    else:
        path = DATA / f"{kind}-{key}.sqlite3"
        manifest_path = path.with_suffix(".json")
        exists = path.exists()
        url = f"sqlite:///{path}"
    if exists and manifest_path.exists() and not force:
        return Dataset(kind, url, json.loads(manifest_path.read_text()), postgres)
    started = time.monotonic()
    print(f"generating the {kind} dataset ({key}); later runs reuse it", flush=True)
    effective = params if kind == "big" else small_params(params)
    if postgres:
        building = make_url(postgres).set(database=f"scholia_bench_{kind}_{key}_building")
        _pg_drop(postgres, building.database)
        _pg_drop(postgres, target.database)
        _pg_create(postgres, building.database)
        manifest = build(building.render_as_string(hide_password=False), effective)
        _pg_rename(postgres, building.database, target.database)
    else:
        _prune(kind)
        building_path = path.with_name(path.name + ".building")
        for stale in _sqlite_files(building_path):
            stale.unlink()
        manifest = build(f"sqlite:///{building_path}", effective)
        building_path.replace(path)
    manifest.update(kind=kind, key=key, seconds=round(time.monotonic() - started, 1))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"  {kind} dataset ready in {manifest['seconds']} s: {manifest['counts']}", flush=True)
    return Dataset(kind, url, manifest, postgres)


def _sqlite_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def _prune(kind: str) -> None:
    """Older cached files of this kind: each is tens of megabytes and will not be used again."""
    for stale in DATA.glob(f"{kind}-*"):
        if stale.is_file():
            stale.unlink()


def _pg_admin(postgres: str):
    return create_engine(postgres, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _pg_exists(postgres: str, name: str) -> bool:
    engine = _pg_admin(postgres)
    try:
        with engine.connect() as conn:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            return conn.execute(query, {"name": name}).first() is not None
    finally:
        engine.dispose()


def _pg_run(postgres: str, sql: str) -> None:
    engine = _pg_admin(postgres)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _pg_create(postgres: str, name: str, template: str | None = None) -> None:
    suffix = f' TEMPLATE "{template}"' if template else ""
    _pg_run(postgres, f'CREATE DATABASE "{name}"{suffix}')


def _pg_drop(postgres: str, name: str) -> None:
    _pg_run(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_rename(postgres: str, old: str, new: str) -> None:
    _pg_run(postgres, f'ALTER DATABASE "{old}" RENAME TO "{new}"')


def working_copy(dataset: Dataset, label: str) -> str:
    """A fresh copy of the dataset for one workload (writes must not leak into the next)."""
    url = make_url(dataset.url)
    if url.get_backend_name() == "sqlite":
        source = Path(url.database)
        copy = DATA / "work" / f"{dataset.kind}-{label}.sqlite3"
        copy.parent.mkdir(parents=True, exist_ok=True)
        for stale in _sqlite_files(copy):
            stale.unlink()
        shutil.copyfile(source, copy)
        return f"sqlite:///{copy}"
    name = f"scholia_bench_work_{label}"
    _pg_drop(dataset.admin, name)
    _pg_create(dataset.admin, name, template=url.database)
    return url.set(database=name).render_as_string(hide_password=False)


def drop_copy(dataset: Dataset, url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for path in _sqlite_files(Path(parsed.database)):
            path.unlink()
    else:
        _pg_drop(dataset.admin, parsed.database)


def flask_env(url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
    env.pop("SCHOLIA_SEEDS_DIR", None)
    return env


def build(url: str, params: Params) -> dict:
    for command in (["db", "upgrade"], ["seed"]):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=ROOT,
            env=flask_env(url),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.begin() as conn:
            generator = Generator(conn, params)
            manifest = generator.run()
        with engine.connect() as conn:
            manifest["verified"] = verify(conn, random.Random(f"{params.seed}-verify"))
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                _pg_fix_sequences(conn)
                conn.commit()
        if engine.dialect.name == "postgresql":
            # What autovacuum would have done long before anyone read a seminar's 5,000 notes.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    if url.startswith("sqlite"):
        # Fold the WAL into the file, so a copy of the one file is the whole database.
        with sqlite3.connect(make_url(url).database) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
    return manifest


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record) -> None:
    # Foreign keys checked as the app checks them; no fsync while building a throwaway file.
    dbapi_conn.execute("PRAGMA foreign_keys = ON")
    dbapi_conn.execute("PRAGMA synchronous = OFF")


def _pg_fix_sequences(conn: Connection) -> None:
    """Ids were given explicitly: move each table's sequence past them."""
    tables = [
        "user", "reading_group", "membership", "reading_assignment", "text", "text_revision",
        "paragraph", "annotation", "annotation_tag", "reaction", "event", "notification",
    ]  # fmt: skip
    for table in tables:
        # Table names come from the list above, never from input.
        sql = f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
        sql += f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'  # noqa: S608
        conn.exec_driver_sql(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL whose role may CREATE DATABASE")
    parser.add_argument("--force", action="store_true", help="generate even if cached")
    parser.add_argument("--seed", type=int, default=Params.seed)
    args = parser.parse_args()
    params = Params(seed=args.seed)
    for kind in ("small", "big"):
        dataset = ensure(kind, params, args.postgres, args.force)
        print(f"{kind}: {make_url(dataset.url).render_as_string()}  {dataset.manifest['counts']}")


if __name__ == "__main__":
    main()
