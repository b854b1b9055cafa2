# Alarms, notifications and the dashboard of this environment (../monitoring), on the metrics the app writes
# with the METRICS_* settings main.tf gives the task definitions.

module "monitoring" {
  source = "../monitoring"

  name                         = local.name
  environment                  = var.environment
  metrics_namespace            = local.app_environment.METRICS_NAMESPACE
  web_role                     = "web"
  cluster_name                 = local.names.cluster
  service_names                = local.names.services
  min_running_tasks            = var.min_tasks
  load_balancer_resource_label = module.alb.resource_label
  db_instance_arn              = module.rds.instance_arn
  container_log_group_names    = [module.ecs.log_group_name]
  queue_name                   = local.tasks_queue_name
  dead_letter_queue_name       = local.tasks_dead_letter_queue_name
  kms_key_arn                  = aws_kms_key.this.arn
  slack_workspace_id           = var.slack_workspace_id
  slack_channel_id             = var.slack_channel_id
  alarm_email                  = var.alarm_email
  permissions_boundary_arn     = local.permissions_boundary_arn
}
