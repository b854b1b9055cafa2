# Alarms, their notifications and a dashboard for one environment, on the metrics the app writes (EMF records)
# and the ones AWS publishes for the load balancer, ECS, RDS and SQS.

locals {
  # The app's names, exactly as the app package's observability/names.py writes them; the
  # template's tests check that the two lists agree. One name: one metric, one alarm, one dashboard widget.
  metric = {
    requests        = "Requests"
    latency         = "Latency"
    status_2xx      = "Status2xx"
    status_3xx      = "Status3xx"
    status_4xx      = "Status4xx"
    status_5xx      = "Status5xx"
    error_log_lines = "ErrorLogLines"
  }
  dimension = {
    service     = "Service"
    environment = "Environment"
    route       = "Route"
  }
  # The whole-service series the app writes beside the per-route ones (REQUEST_DIMENSION_SETS).
  web_dimensions = {
    Service     = var.web_role
    Environment = var.environment
  }

  alarm_names = {
    latency_p99       = "${var.name}-web-latency-p99"
    error_rate        = "${var.name}-web-5xx-rate"
    unhealthy_hosts   = "${var.name}-web-unhealthy-hosts"
    db_cpu            = "${var.name}-db-cpu"
    db_free_storage   = "${var.name}-db-free-storage"
    db_connections    = "${var.name}-db-connections"
    queue_depth       = "${var.name}-queue-depth"
    queue_oldest      = "${var.name}-queue-oldest-message"
    dead_letters      = "${var.name}-dead-letter-queue-not-empty"
    running_tasks_for = "${var.name}-running-tasks-"
  }

  # resource_label is "<load balancer suffix>/<target group suffix>"; AWS/ApplicationELB wants them apart.
  load_balancer_dimension = split("/targetgroup/", var.load_balancer_resource_label)[0]
  target_group_dimension  = "targetgroup/${split("/targetgroup/", var.load_balancer_resource_label)[1]}"
  # arn:aws:rds:<region>:<account>:db:<identifier>
  db_identifier = element(split(":", var.db_instance_arn), 6)

  queues       = var.queue_name == null ? {} : { main = var.queue_name }
  dead_letters = var.dead_letter_queue_name == null ? {} : { main = var.dead_letter_queue_name }
  slack        = var.slack_workspace_id != null && var.slack_channel_id != null ? { main = true } : {}
  emails       = var.alarm_email == null ? {} : { main = var.alarm_email }
  actions      = [aws_sns_topic.alarms.arn]
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# Hosts outside ECS (the old server) ship here with CLOUDWATCH_LOG_GROUP; ECS tasks use the ecs module's group.
resource "aws_cloudwatch_log_group" "app" {
  name              = "/${var.name}/app"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# One ErrorLogLines series per service and environment, from every JSON line whose level is ERROR.
resource "aws_cloudwatch_log_metric_filter" "errors" {
  for_each = toset(concat([aws_cloudwatch_log_group.app.name], var.container_log_group_names))

  name           = "${var.name}-error-lines"
  log_group_name = each.value
  pattern        = "{ $.level = \"ERROR\" }"

  metric_transformation {
    name      = local.metric.error_log_lines
    namespace = var.metrics_namespace
    value     = "1"
    unit      = "Count"
    dimensions = {
      Service     = "$.service"
      Environment = "$.environment"
    }
  }
}

# Notifications: an encrypted topic. CloudWatch alarms need their own grant on the key, so the topic has a key
# of its own rather than the environment's.
resource "aws_kms_key" "alarms" {
  description             = "${var.name}: alarm notifications"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarmsPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = {
        ArnLike = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:alarm:${var.name}-*" }
      }
    }]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.emails

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# AWS Chatbot posts the topic's alarms to Slack. The workspace is authorised once, by hand, in the Chatbot
# console (an OAuth flow terraform cannot do); its id and the channel's id then go in the variables.
resource "aws_iam_role" "chatbot" {
  for_each = local.slack

  name                 = "${var.name}-chatbot"
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "chatbot.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "chatbot" {
  for_each = local.slack

  role       = aws_iam_role.chatbot[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/CloudWatchReadOnlyAccess"
}

resource "aws_chatbot_slack_channel_configuration" "alarms" {
  for_each = local.slack

  configuration_name = "${var.name}-alarms"
  iam_role_arn       = aws_iam_role.chatbot[each.key].arn
  slack_team_id      = var.slack_workspace_id
  slack_channel_id   = var.slack_channel_id
  sns_topic_arns     = [aws_sns_topic.alarms.arn]
  # Whatever the channel's members may do, Chatbot can only read.
  guardrail_policy_arns = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"]
  logging_level         = "ERROR"
}

# The web service: p99 latency and the share of 5xx answers, from the app's own records. Both also roll a
# deployment back (the stack passes them to the web service's deployment alarms).
resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = local.alarm_names.latency_p99
  alarm_description   = "p99 latency of ${var.web_role} requests above ${var.latency_p99_threshold_ms} ms (README: when an alarm fires)."
  namespace           = var.metrics_namespace
  metric_name         = local.metric.latency
  dimensions          = local.web_dimensions
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_p99_threshold_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = local.alarm_names.error_rate
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of ${var.web_role} requests answered 5xx (README: when an alarm fires)."
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx % of requests"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = var.metrics_namespace
      metric_name = local.metric.status_5xx
      dimensions  = local.web_dimensions
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = var.metrics_namespace
      metric_name = local.metric.requests
      dimensions  = local.web_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = local.alarm_names.unhealthy_hosts
  alarm_description   = "The load balancer sees unhealthy ${var.web_role} targets (README: when an alarm fires)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = local.load_balancer_dimension, TargetGroup = local.target_group_dimension }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  for_each = var.service_names

  alarm_name          = "${local.alarm_names.running_tasks_for}${each.key}"
  alarm_description   = "${each.value} runs fewer than ${var.min_running_tasks} tasks (README: when an alarm fires)."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = var.cluster_name, ServiceName = each.value }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_running_tasks
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = local.alarm_names.db_cpu
  alarm_description   = "Database CPU above ${var.db_cpu_threshold_percent}% for 15 minutes (README: when an alarm fires)."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = local.db_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.db_cpu_threshold_percent
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = local.alarm_names.db_free_storage
  alarm_description   = "Database free storage below ${var.db_free_storage_threshold_bytes} bytes (README: when an alarm fires)."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = local.db_identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.db_free_storage_threshold_bytes
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = local.alarm_names.db_connections
  alarm_description   = "More than ${var.db_connections_threshold} database connections (README: when an alarm fires)."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = { DBInstanceIdentifier = local.db_identifier }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.db_connections_threshold
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  for_each = local.queues

  alarm_name          = local.alarm_names.queue_depth
  alarm_description   = "More than ${var.queue_depth_threshold} messages wait in ${each.value} (README: when an alarm fires)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.queue_depth_threshold
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "queue_oldest" {
  for_each = local.queues

  alarm_name          = local.alarm_names.queue_oldest
  alarm_description   = "A message has waited in ${each.value} for over ${var.queue_oldest_message_threshold_seconds} s (README: when an alarm fires)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.queue_oldest_message_threshold_seconds
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = local.dead_letters

  alarm_name          = local.alarm_names.dead_letters
  alarm_description   = "${each.value} holds messages: tasks failed every retry (README: when an alarm fires)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# One dashboard per environment, from the same names: traffic, latency, errors, tasks, database, queue.
locals {
  region = data.aws_region.current.region
  app    = [var.metrics_namespace]
  web    = [local.dimension.service, var.web_role, local.dimension.environment, var.environment]
  queue_widgets = [for key, queue in local.queues : {
    type   = "metric"
    width  = 12
    height = 6
    properties = {
      title  = "Queue ${queue}"
      region = local.region
      stat   = "Maximum"
      period = 60
      metrics = concat(
        [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]],
        [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { yAxis = "right" }]],
        [for dlq in values(local.dead_letters) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq, { label = "dead letters" }]],
      )
    }
  }]
  widgets = concat([
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Requests by status class"
        region  = local.region
        stat    = "Sum"
        period  = 60
        stacked = true
        metrics = [
          concat(local.app, [local.metric.status_2xx], local.web),
          concat(local.app, [local.metric.status_3xx], local.web),
          concat(local.app, [local.metric.status_4xx], local.web),
          concat(local.app, [local.metric.status_5xx], local.web),
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Latency (ms)"
        region = local.region
        period = 60
        metrics = [
          concat(local.app, [local.metric.latency], local.web, [{ stat = "p50" }]),
          concat(local.app, [local.metric.latency], local.web, [{ stat = "p90" }]),
          concat(local.app, [local.metric.latency], local.web, [{ stat = "p99" }]),
        ]
        annotations = { horizontal = [{ label = local.alarm_names.latency_p99, value = var.latency_p99_threshold_ms }] }
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Errors"
        region = local.region
        period = 60
        stat   = "Sum"
        metrics = [
          concat(local.app, [local.metric.status_5xx], local.web),
          concat(local.app, [local.metric.error_log_lines], local.web),
          ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", local.load_balancer_dimension],
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Running tasks"
        region  = local.region
        stat    = "Minimum"
        period  = 60
        metrics = [for role, service in var.service_names : ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", var.cluster_name, "ServiceName", service]]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Database"
        region = local.region
        period = 300
        metrics = [
          ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", local.db_identifier, { stat = "Average" }],
          ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", local.db_identifier, { stat = "Maximum", yAxis = "right" }],
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Database free storage (bytes)"
        region  = local.region
        stat    = "Minimum"
        period  = 300
        metrics = [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", local.db_identifier]]
      }
    },
  ], local.queue_widgets)
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
