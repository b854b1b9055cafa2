output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port PostgreSQL listens on."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "The application's database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret RDS keeps the master password in (JSON with username and password)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "The database's security group."
  value       = aws_security_group.this.id
}

output "instance_arn" {
  description = "The instance's ARN."
  value       = aws_db_instance.this.arn
}

output "resource_id" {
  description = "The instance's resource id (db-...): IAM database authentication grants rds-db:connect on it."
  value       = aws_db_instance.this.resource_id
}
