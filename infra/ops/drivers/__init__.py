"""One driver per serving backend behind one interface (``base.ServingDriver``).

``registry.driver_for(model)`` picks it. This package's ``__init__`` imports
nothing, so the SageMaker helpers (``infra.ops.endpoints`` ...) can import
``base`` without loading every driver.
"""
