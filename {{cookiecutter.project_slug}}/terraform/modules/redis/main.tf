locals {
  # Failover needs a replica to fail over to.
  replicated = var.num_cache_clusters > 1
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis for ${var.name}: reachable only from its clients' security groups"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-redis" }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = var.client_security_group_ids

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis from ${each.key}"
}

# Generated at apply time and written write-only to the replication group and the secret, so it is in no plan and
# no state. Letters and digits only: ElastiCache rejects several punctuation characters.
ephemeral "random_password" "auth_token" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "auth_token" {
  name                    = "${var.name}/redis-auth-token"
  description             = "AUTH token of the ${var.name} Redis replication group"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  #checkov:skip=CKV2_AWS_57:The token must change on the replication group and in this secret together; rotate it by bumping auth_token_version (README).
}

# The same apply writes the same ephemeral value here and to the replication group: one version number moves both.
resource "aws_secretsmanager_secret_version" "auth_token" {
  secret_id                = aws_secretsmanager_secret.auth_token.id
  secret_string_wo         = ephemeral.random_password.auth_token.result
  secret_string_wo_version = var.auth_token_version
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/aws/elasticache/${var.name}/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "Cache and sessions for ${var.name}"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = 6379

  automatic_failover_enabled = local.replicated
  multi_az_enabled           = local.replicated

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auth_token_wo              = ephemeral.random_password.auth_token.result
  auth_token_wo_version      = var.auth_token_version
  auth_token_update_strategy = "ROTATE"
  #checkov:skip=CKV_AWS_31:The AUTH token is set write-only (auth_token_wo), which this check does not read; transit encryption is on.

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "02:00-03:00"
  maintenance_window         = "sun:05:30-sun:06:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }
}
