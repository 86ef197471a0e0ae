"""EKS: the cluster, add-ons, GPU pools, pod identities and per-model services and load balancers."""
