"""SageMaker hosting: the endpoint, its autoscaling and its execution role."""
