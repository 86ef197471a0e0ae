"""modelfleet's model server: the SageMaker inference contract, batched and hardened."""
