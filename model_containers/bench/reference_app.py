"""The reference stack of AWS's scikit-learn bring-your-own-container example, for comparison:
a Flask predictor run by gunicorn sync workers behind nginx. CSV in, CSV out."""

import io
import os

import flask
import joblib
import numpy as np

model = joblib.load(os.path.join(os.environ["MODEL_DIR"], "model.joblib"))
app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    return flask.Response(response="\n", status=200, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations():
    if flask.request.content_type != "text/csv":
        return flask.Response(
            response="This predictor only supports CSV data", status=415, mimetype="text/plain"
        )
    rows = np.loadtxt(io.StringIO(flask.request.data.decode("utf-8")), delimiter=",", ndmin=2)
    out = io.StringIO()
    np.savetxt(out, model.predict_proba(rows), delimiter=",")
    return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
