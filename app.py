"""``solara run app.py``: the browser view, served from the installed package (``matryoshka viz``)."""

from matryoshka.runs.app import page  # noqa: F401
