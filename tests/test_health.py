"""/healthz and /readyz answer without credentials and reveal nothing else."""

from __future__ import annotations

import sqlalchemy as sa

from scimgate.extensions import db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_pending_migrations_then_ready(app, client):
    # The suite's schema comes from create_all, so no revision is recorded yet.
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32))"))
        db.session.execute(sa.text("DELETE FROM alembic_version"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "migrations pending"}
    from scimgate import MIGRATIONS_DIR
    from scimgate.health import migration_heads

    with app.app_context():
        for head in migration_heads(MIGRATIONS_DIR):
            db.session.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
        db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ready"}
    finally:
        with app.app_context():
            db.session.execute(sa.text("DROP TABLE alembic_version"))
            db.session.commit()


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    from scimgate import create_app

    broken = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "LOG_DIR": str(tmp_path),
        },
    )
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
