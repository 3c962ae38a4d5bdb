"""The app as gunicorn serves it, plus a ``bench`` payment purpose that does nothing else."""

from core import create_app
from payments.purposes import Purpose, register_purpose

app = create_app()
register_purpose(app, Purpose(name="bench"))
