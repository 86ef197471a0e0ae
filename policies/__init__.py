"""The modelfleet CrossGuard policy pack (``pulumi preview --policy-pack policies``)."""
