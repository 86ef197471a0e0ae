"""Private S3 buckets: data capture and load balancer access logs."""
