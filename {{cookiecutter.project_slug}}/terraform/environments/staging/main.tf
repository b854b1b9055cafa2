# staging: the shared stack (../../modules/stack) with this environment's sizes. The directory name is the
# environment's key in deploy.json.
locals {
  deploy = jsondecode(file("${path.root}/../../../deploy.json"))
}

provider "aws" {
  region = local.deploy.aws_region

  default_tags {
    tags = {
      Project     = local.deploy.project
      Environment = basename(abspath(path.root))
      ManagedBy   = "terraform"
    }
  }
}

module "stack" {
  source = "../../modules/stack"

  environment              = basename(abspath(path.root))
  domain_name              = var.domain_name
  route53_zone_id          = var.route53_zone_id
  image_tag                = var.image_tag
  secret_key_version       = var.secret_key_version
  redis_auth_token_version = var.redis_auth_token_version

  # Alarm notifications: AWS Chatbot to Slack (ids from the Chatbot console) and/or e-mail.
  slack_workspace_id = var.slack_workspace_id
  slack_channel_id   = var.slack_channel_id
  alarm_email        = var.alarm_email

  # Network: the VPC range (distinct per environment so they can be peered), AZs, NAT gateways.
  vpc_cidr_block     = "10.10.0.0/16"
  az_count           = 2
  single_nat_gateway = true

  # Protects the database and the load balancer from deletion.
  deletion_protection = false

  # PostgreSQL (storage in GiB: initial, autoscaling ceiling).
  db_instance_class        = "db.t4g.micro"
  db_allocated_storage     = 20
  db_max_allocated_storage = 50
  db_multi_az              = false
  db_backup_retention_days = 3

  # Redis: 2 or more nodes add a replica with automatic failover.
  redis_node_type          = "cache.t4g.micro"
  redis_num_cache_clusters = 1

  # Web tasks: CPU units (1024 = 1 vCPU), memory in MiB, autoscaling range.
  task_cpu    = 256
  task_memory = 512
  min_tasks   = 1
  max_tasks   = 2
}

output "stack" {
  description = "What the stack exposes: load balancer DNS name, certificate validation records, names, addresses (terraform output -json stack)."
  value       = module.stack
}
