"""Development entry point: ``flask --app app run`` or ``scimgate run``."""

from scimgate import create_app

app = create_app()
