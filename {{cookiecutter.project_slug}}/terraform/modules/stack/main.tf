# One environment: the environments/<name> roots call this with their sizes. deploy.json gives the names (CI reads
# the same file).
locals {
  deploy = jsondecode(file("${path.module}/../../../deploy.json"))
  names  = local.deploy.environments[var.environment]
  name   = local.names.cluster
  # PostgreSQL database names cannot contain hyphens.
  database_name = replace(local.deploy.project, "-", "_")
  # The database role web and the other services connect as (IAM authentication); migrate creates it and grants it
  # the app's tables. Not the master user, whose password RDS rotates.
  database_app_user = "app"
  # terraform/bootstrap creates it; the apply roles may create roles only with it.
  permissions_boundary_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/${local.deploy.permissions_boundary}"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# Created once per account by terraform/bootstrap; CI pushes <sha> tags to it.
data "aws_ecr_repository" "app" {
  name = local.deploy.ecr_repository
}

module "network" {
  source = "../network"

  permissions_boundary_arn = local.permissions_boundary_arn
  name                     = local.name
  cidr_block               = var.vpc_cidr_block
  az_count                 = var.az_count
  single_nat_gateway       = var.single_nat_gateway
  kms_key_arn              = aws_kms_key.this.arn
}

module "alb" {
  source = "../alb"

  name                = local.name
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = module.network.vpc_cidr_block
  subnet_ids          = module.network.public_subnet_ids
  domain_name         = var.domain_name
  route53_zone_id     = var.route53_zone_id
  target_role         = "web"
  target_port         = local.deploy.container_port
  health_check_path   = local.deploy.health_check_path
  deletion_protection = var.deletion_protection
  kms_key_arn         = aws_kms_key.this.arn
}

module "rds" {
  source = "../rds"

  permissions_boundary_arn  = local.permissions_boundary_arn
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = { tasks = module.ecs.security_group_id }
  instance_class            = var.db_instance_class
  allocated_storage         = var.db_allocated_storage
  max_allocated_storage     = var.db_max_allocated_storage
  multi_az                  = var.db_multi_az
  backup_retention_days     = var.db_backup_retention_days
  deletion_protection       = var.deletion_protection
  database_name             = local.database_name
  kms_key_arn               = aws_kms_key.this.arn
}

module "redis" {
  source = "../redis"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = { tasks = module.ecs.security_group_id }
  node_type                 = var.redis_node_type
  auth_token_version        = var.redis_auth_token_version
  num_cache_clusters        = var.redis_num_cache_clusters
  kms_key_arn               = aws_kms_key.this.arn
}

module "iam" {
  source = "../iam"

  permissions_boundary_arn = local.permissions_boundary_arn
  name                     = local.name
  execution_role_name      = local.names.execution_role
  task_role_name           = local.names.task_role
  ecr_repository_arn       = data.aws_ecr_repository.app.arn
  log_group_arns           = [module.ecs.log_group_arn]
  secret_arns              = values(local.secret_arns)
  kms_key_arns             = [aws_kms_key.this.arn]

  one_off_task_role_name     = local.names.one_off_task_role
  worker_task_role_name      = lookup(local.names, "worker_task_role", null)
  database_resource_id       = module.rds.resource_id
  database_user              = local.database_app_user
  database_master_secret_arn = module.rds.master_user_secret_arn
}

locals {
  # Secrets ECS injects at task start: values that change only by a deliberate new deploy.
  secret_arns = {
    SECRET_KEY     = aws_secretsmanager_secret.secret_key.arn
    REDIS_PASSWORD = module.redis.auth_token_secret_arn
  }

  # Exactly names the Django settings read (config/settings.py); secrets only through `secrets` below.
  app_environment = {
    ALLOWED_HOSTS        = var.domain_name
    CSRF_TRUSTED_ORIGINS = "https://${var.domain_name}"
    REDIS_URL            = "rediss://${module.redis.primary_endpoint_address}:${module.redis.port}/0"
    LOG_LEVEL            = var.log_level
    AWS_REGION           = data.aws_region.current.region
    # The app's metrics (monitoring.tf alarms on them); METRICS_SERVICE is each role's own, below.
    METRICS_NAMESPACE   = local.deploy.project
    METRICS_ENVIRONMENT = var.environment
    # Background tasks: tasks_queue.tf and the consumer's file (tasks_lambda.tf, tasks_celery.tf or tasks_none.tf).
    TASKS_QUEUE_URL                  = local.tasks_queue_url
    TASKS_DEAD_LETTER_QUEUE_URL      = local.tasks_dead_letter_queue_url
    TASKS_VISIBILITY_TIMEOUT_SECONDS = local.tasks_visibility_timeout_seconds
    TASKS_TIME_LIMIT_SECONDS         = local.tasks_time_limit_seconds
  }

  # The database password is never injected: RDS rotates the master password, and a value read at task start
  # breaks every connection opened after a rotation. sslmode=require: the client refuses plain connections too
  # (verify-full needs the RDS CA bundle in the image).
  database_host = "${module.rds.address}:${module.rds.port}/${module.rds.database_name}?sslmode=require"

  # Services: the app's own role, a fresh IAM authentication token for every new connection.
  service_environment = {
    DATABASE_URL      = "postgres://${local.database_app_user}@${local.database_host}"
    DATABASE_IAM_AUTH = "true"
  }

  # One-off tasks (migrate): the master user, its password read from RDS's secret for every new connection;
  # migrations make sure DATABASE_APP_USER exists, may use IAM authentication and has the app's tables.
  one_off_task_environment = {
    DATABASE_URL        = "postgres://${module.rds.username}@${local.database_host}"
    DATABASE_SECRET_ARN = module.rds.master_user_secret_arn
    DATABASE_APP_USER   = local.database_app_user
  }

  # METRICS_SERVICE: each role's metrics and log lines carry its own Service dimension (web, worker, migrate).
  task_environment = merge(
    { for role in keys(local.names.services) : role => merge(local.service_environment, { METRICS_SERVICE = role }) },
    { for role in keys(local.names.one_off_tasks) : role => merge(local.one_off_task_environment, { METRICS_SERVICE = role }) },
  )

  app_secrets = {
    SECRET_KEY     = local.secret_arns.SECRET_KEY
    REDIS_PASSWORD = local.secret_arns.REDIS_PASSWORD
  }
}

module "ecs" {
  source = "../ecs"

  name                            = local.names.cluster
  services                        = local.names.services
  one_off_tasks                   = local.names.one_off_tasks
  load_balanced_role              = "web"
  image                           = "${data.aws_ecr_repository.app.repository_url}:${aws_ssm_parameter.deployed_sha.insecure_value}"
  container_port                  = local.deploy.container_port
  environment                     = local.app_environment
  task_environment                = local.task_environment
  secrets                         = local.app_secrets
  deployment_alarm_names          = module.monitoring.deployment_alarm_names
  execution_role_arn              = module.iam.execution_role_arn
  task_role_arn                   = module.iam.task_role_arn
  service_task_role_arns          = local.service_task_role_arns
  one_off_task_role_arn           = module.iam.one_off_task_role_arn
  vpc_id                          = module.network.vpc_id
  subnet_ids                      = module.network.private_subnet_ids
  target_group_arn                = module.alb.target_group_arn
  load_balancer_security_group_id = module.alb.security_group_id
  load_balancer_resource_label    = module.alb.resource_label
  backend_security_groups = {
    postgresql = { port = module.rds.port, security_group_id = module.rds.security_group_id }
    redis      = { port = module.redis.port, security_group_id = module.redis.security_group_id }
  }
  cpu          = var.task_cpu
  memory       = var.task_memory
  min_capacity = var.min_tasks
  max_capacity = var.max_tasks
  kms_key_arn  = aws_kms_key.this.arn
}
