"""What ``new-model`` does differently per serving backend, one module each behind one interface.

``base.ModelBackend`` is the interface, ``registry.BACKENDS`` picks the module. This
``__init__`` imports nothing, so ``base`` loads without every backend.
"""
