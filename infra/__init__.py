"""modelfleet: a Pulumi platform stack for serving ML models on AWS."""

PROJECT = "modelfleet"
