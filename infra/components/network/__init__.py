"""The VPC: subnets, NAT, endpoints and flow logs."""
