"""Pure specs the components render: names, tags, IAM documents, alarms, pods, images, dashboards."""
