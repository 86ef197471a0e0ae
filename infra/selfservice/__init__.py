"""Self-service: add a model or an environment to the stack files, checked before anything is written.

``modelfleet new-model`` and ``modelfleet new-env`` (and the ``pulumi new``
templates in ``stacks/templates/``, whose answers they read) derive what a
person should not have to work out (instance counts, autoscaling targets, a free
CIDR), check quotas, settings and the policy pack, preview the change offline,
and only then write.
"""
