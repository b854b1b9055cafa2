"""Every metric and dimension name the app emits, in one place.

terraform/modules/monitoring/ alarms and draws dashboards on these same names (the template's tests check
that the two agree), so renaming one here means renaming it there.
"""

# Request metrics, one EMF record per request.
REQUESTS = "Requests"  # Count, 1 per request
LATENCY = "Latency"  # Milliseconds, from the first middleware in to the response out
# Count per status class: 1 for the response's class, 0 for the others, so every class has data points and
# "5xx / Requests" is defined even while nothing fails.
STATUS_CLASSES = {
    "2xx": "Status2xx",
    "3xx": "Status3xx",
    "4xx": "Status4xx",
    "5xx": "Status5xx",
}
REQUEST_METRICS = (REQUESTS, LATENCY, *STATUS_CLASSES.values())

# Dimensions. Route is the URL name (or the route pattern of an unnamed URL), never the raw path.
SERVICE = "Service"
ENVIRONMENT = "Environment"
ROUTE = "Route"
# Every path that matches no URL pattern shares this one Route value, so unknown paths cannot make new metrics.
UNMATCHED_ROUTE = "unmatched"

# Counted by terraform's metric filter (modules/monitoring) from every log line whose level is ERROR, with the
# line's service and environment fields as its Service and Environment dimensions.
ERROR_LOG_LINES = "ErrorLogLines"

# Dimension values when METRICS_SERVICE / METRICS_ENVIRONMENT are not set (local runs).
DEFAULT_SERVICE = "web"
DEFAULT_ENVIRONMENT = "local"

# Per route (dashboards), and for the whole service (alarms: one series whatever the routes are).
REQUEST_DIMENSION_SETS = ((SERVICE, ENVIRONMENT, ROUTE), (SERVICE, ENVIRONMENT))
# Business metrics (metrics.count/timing) are per service and environment.
BUSINESS_DIMENSION_SETS = ((SERVICE, ENVIRONMENT),)
