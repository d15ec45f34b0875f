"""The baseline: the smallest Flask app, served by exactly the gunicorn setup Scholia gets.

Every throughput in the report is divided by this one's, measured in the same run on the same
machine, so the figures mean something on a laptop, a CI runner or a noisy shared box alike.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
