output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies (encrypted); subscribe more endpoints to it."
  value       = aws_sns_topic.alarms.arn
}

output "deployment_alarm_names" {
  description = "Alarms that roll a web deployment back: the 5xx rate and p99 latency."
  value       = [aws_cloudwatch_metric_alarm.error_rate.alarm_name, aws_cloudwatch_metric_alarm.latency_p99.alarm_name]
}

output "alarm_names" {
  description = "Every alarm's name, by what it watches."
  value = merge(
    {
      latency_p99     = aws_cloudwatch_metric_alarm.latency_p99.alarm_name
      error_rate      = aws_cloudwatch_metric_alarm.error_rate.alarm_name
      unhealthy_hosts = aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name
      db_cpu          = aws_cloudwatch_metric_alarm.db_cpu.alarm_name
      db_free_storage = aws_cloudwatch_metric_alarm.db_free_storage.alarm_name
      db_connections  = aws_cloudwatch_metric_alarm.db_connections.alarm_name
    },
    { for role, alarm in aws_cloudwatch_metric_alarm.running_tasks : "running_tasks_${role}" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.queue_depth : "queue_depth" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.queue_oldest : "queue_oldest" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.dead_letters : "dead_letters" => alarm.alarm_name },
  )
}

output "app_log_group_name" {
  description = "Log group for hosts outside ECS: set CLOUDWATCH_LOG_GROUP to it."
  value       = aws_cloudwatch_log_group.app.name
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the environment."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
