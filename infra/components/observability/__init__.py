"""Alarms, dashboards, encrypted log groups and the alerts topic."""
