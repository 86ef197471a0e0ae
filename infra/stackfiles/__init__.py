"""The only reader (``read``) and writer (``edit``) of ``stacks/Pulumi.<env>.yaml``."""
