output "load_balancer_dns_name" {
  description = "Point the domain here when Route 53 is not managed by this configuration."
  value       = module.alb.dns_name
}

output "certificate_validation_records" {
  description = "CNAME records that validate the certificate (when route53_zone_id is null)."
  value       = module.alb.certificate_validation_records
}

output "cluster_name" {
  description = "ECS cluster (deploy.json)."
  value       = module.ecs.cluster_name
}

output "service_names" {
  description = "role => ECS service (deploy.json)."
  value       = module.ecs.service_names
}

output "task_definition_families" {
  description = "role => task definition family, services and one-off tasks."
  value       = module.ecs.task_definition_families
}

output "task_network" {
  description = "Subnets and security group for one-off tasks (CI copies them from the web service's network configuration)."
  value = {
    subnets         = module.network.private_subnet_ids
    security_groups = [module.ecs.security_group_id]
  }
}

output "log_group_name" {
  description = "Container logs."
  value       = module.ecs.log_group_name
}

output "database_address" {
  description = "PostgreSQL host."
  value       = module.rds.address
}

output "database_secret_arn" {
  description = "Secrets Manager secret with the database master password (managed by RDS)."
  value       = module.rds.master_user_secret_arn
}

output "redis_address" {
  description = "Redis primary endpoint."
  value       = module.redis.primary_endpoint_address
}

output "nat_gateway_public_ips" {
  description = "Addresses outbound traffic leaves from."
  value       = module.network.nat_gateway_public_ips
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = module.monitoring.alarm_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the environment."
  value       = module.monitoring.dashboard_name
}

output "deployment_alarm_names" {
  description = "Alarms that roll a web deployment back (ECS deployment alarms)."
  value       = module.monitoring.deployment_alarm_names
}
