"""The stack file as typed, validated settings: the only reader of config in the program.

``platform`` holds the root model and ``load_settings``; ``catalog`` the models
(``backend`` the backends they name), ``cluster`` the cluster and GPU pools,
``types`` the shared field types and ``errors`` how every problem is collected and
shown at once.
"""
