"""The flask commands a deployment runs: seed, import-text, create-user."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Text, User


def test_seed_imports_every_seed_once(runner, session):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "created: carr-rapprochement" in first.output
    again = runner.invoke(args=["seed"])
    assert "unchanged: carr-rapprochement" in again.output
    assert session.scalar(select(func.count(Text.id))) == 1


def test_import_text_with_slug_and_revision(runner, session, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\nOne paragraph.\n")
    result = runner.invoke(args=["import-text", str(path), "--slug", "My Notes"])
    assert result.exit_code == 0, result.output
    assert "created: my-notes — Notes (1 paragraphs)" in result.output
    path.write_text("# Notes\n\nOne paragraph, revised.\n")
    revised = runner.invoke(args=["import-text", str(path), "--slug", "my-notes"])
    assert "revised: my-notes" in revised.output


def test_import_text_refuses_a_bad_file_with_its_name(runner, session, tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(b"\xff\xfe\x00")
    result = runner.invoke(args=["import-text", str(path)])
    assert result.exit_code != 0
    assert f"{path}: the file is binary" in result.output
    assert session.scalar(select(func.count(Text.id))) == 0


def test_create_admin_user(runner, session):
    result = runner.invoke(
        args=[
            "create-user",
            "Admin@Example.org",
            "--name",
            "Admin",
            "--password",
            "long password 1",
            "--admin",
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User))
    assert user.email == "admin@example.org" and user.is_admin


def test_create_user_refuses_duplicates_and_short_passwords(runner, session):
    args = ["create-user", "a@example.org", "--name", "A", "--password"]
    assert runner.invoke(args=[*args, "long password 1"]).exit_code == 0
    duplicate = runner.invoke(args=[*args, "long password 2"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    short = runner.invoke(args=["create-user", "b@example.org", "--name", "B", "--password", "x"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
