"""An alarm nobody hears is no alarm: every alarm notifies someone."""

from __future__ import annotations

from policies.rules._support import as_list, resource_rule


def _has_action(props, _config):
    if props.get("actionsEnabled") is False:
        yield "alarm actions are disabled"
    elif not as_list(props.get("alarmActions")):
        yield "alarm has no alarmActions: nobody is notified when it fires"


ALARM_HAS_ACTION = resource_rule(
    "alarm-has-action",
    "Every CloudWatch alarm notifies a topic or runs an action when it fires",
    ["aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"],
    _has_action,
)

RULES = [ALARM_HAS_ACTION]
