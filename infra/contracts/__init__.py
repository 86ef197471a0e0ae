"""One owner per external contract: EKS versions and their support windows, instance facts."""
