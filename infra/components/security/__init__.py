"""KMS keys."""
