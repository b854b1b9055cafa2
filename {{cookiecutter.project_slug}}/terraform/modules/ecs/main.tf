data "aws_region" "current" {}

locals {
  # Every role runs the same image; the entrypoint dispatches on the first argument (the role).
  # Services run as the application's task role unless service_task_role_arns names another (the worker, which
  # alone consumes the task queue); one-off tasks (migrate) as their own, which may read what the application
  # must not (the database master secret).
  tasks = merge(
    { for role, family in var.services : role => { family = family, serves_http = role == var.load_balanced_role, task_role_arn = lookup(var.service_task_role_arns, role, var.task_role_arn) } },
    { for role, family in var.one_off_tasks : role => { family = family, serves_http = false, task_role_arn = var.one_off_task_role_arn } },
  )
  # Every container: the shared environment, then its role's own values (maps iterate in key order).
  environment = { for role, task in local.tasks : role => [for name, value in merge(var.environment, lookup(var.task_environment, role, {})) : { name = name, value = value }] }
  secrets     = [for name in sort(keys(var.secrets)) : { name = name, valueFrom = var.secrets[name] }]
  scaled_on_requests = {
    for role, name in var.services : role => name if role == var.load_balanced_role
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enhanced"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_security_group" "this" {
  name        = "${var.name}-tasks"
  description = "ECS tasks of ${var.name}"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-tasks" }
}

resource "aws_vpc_security_group_ingress_rule" "from_load_balancer" {
  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.load_balancer_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  description                  = "HTTP from the load balancer"
}

# Tasks reach ECR, Secrets Manager and CloudWatch Logs over HTTPS through the NAT gateways.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS to AWS APIs"
}

resource "aws_vpc_security_group_egress_rule" "backends" {
  for_each = var.backend_security_groups

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = each.value.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "To ${each.key}"
}

resource "aws_ecs_task_definition" "this" {
  for_each = local.tasks

  family                   = each.value.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = each.value.task_role_arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The root filesystem is read-only; this task-scoped volume is the one writable place, mounted at /tmp.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = each.key
      image                  = var.image
      essential              = true
      command                = [each.key]
      readonlyRootFilesystem = true
      portMappings           = each.value.serves_http ? [{ containerPort = var.container_port, protocol = "tcp" }] : []
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      environment            = local.environment[each.key]
      secrets                = local.secrets
      linuxParameters        = { initProcessEnabled = true }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = data.aws_region.current.region
          awslogs-stream-prefix = each.key
          # A slow CloudWatch must never block the app's writes to stdout; the buffer absorbs bursts.
          mode            = "non-blocking"
          max-buffer-size = "25m"
        }
      }
    }
  ])
}

resource "aws_ecs_service" "this" {
  for_each = var.services

  name                    = each.value
  cluster                 = aws_ecs_cluster.this.id
  task_definition         = aws_ecs_task_definition.this[each.key].arn
  desired_count           = var.min_capacity
  launch_type             = "FARGATE"
  platform_version        = "LATEST"
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = each.key == var.load_balanced_role ? var.health_check_grace_period_seconds : null

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # A release that passes health checks but fails users (errors, latency) is rolled back by these alarms.
  dynamic "alarms" {
    for_each = each.key == var.load_balanced_role && length(var.deployment_alarm_names) > 0 ? [var.deployment_alarm_names] : []

    content {
      alarm_names = alarms.value
      enable      = true
      rollback    = true
    }
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.this.id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = each.key == var.load_balanced_role ? [var.target_group_arn] : []

    content {
      target_group_arn = load_balancer.value
      container_name   = each.key
      container_port   = var.container_port
    }
  }

  # CI registers a task definition revision per deploy (new image) and autoscaling moves desired_count:
  # terraform owns the infrastructure and neither of those, so it never rolls a deploy back.
  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

resource "aws_appautoscaling_target" "this" {
  for_each = var.services

  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each = var.services

  name               = "${each.value}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  for_each = local.scaled_on_requests

  name               = "${each.value}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = var.load_balancer_resource_label
    }
  }
}
