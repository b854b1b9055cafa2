"""Request and business metrics (CloudWatch Embedded Metric Format on stdout) and JSON logs with a request id.

`from {{ cookiecutter.project_slug }}.observability import metrics` gives the business metrics API; names.py holds every
metric and dimension name the app emits, the names the terraform monitoring module alarms on.
"""
