# Projects generated before the stack module kept these objects at the root of each environment; the moves carry
# their state over on the next plan, so nothing is replaced. Safe to delete once every environment has applied.
moved {
  from = aws_kms_key.this
  to   = module.stack.aws_kms_key.this
}

moved {
  from = aws_kms_alias.this
  to   = module.stack.aws_kms_alias.this
}

moved {
  from = aws_secretsmanager_secret.secret_key
  to   = module.stack.aws_secretsmanager_secret.secret_key
}

moved {
  from = aws_secretsmanager_secret_version.secret_key
  to   = module.stack.aws_secretsmanager_secret_version.secret_key
}

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.alb
  to   = module.stack.module.alb
}

moved {
  from = module.rds
  to   = module.stack.module.rds
}

moved {
  from = module.redis
  to   = module.stack.module.redis
}

moved {
  from = module.iam
  to   = module.stack.module.iam
}

moved {
  from = module.ecs
  to   = module.stack.module.ecs
}
