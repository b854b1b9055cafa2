output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "The VPC's IPv4 range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets, one per AZ: the load balancer and NAT gateways."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets, one per AZ: tasks, the database and the cache."
  value       = aws_subnet.private[*].id
}

output "nat_gateway_public_ips" {
  description = "Addresses outbound traffic leaves from (for third-party allow lists)."
  value       = aws_eip.nat[*].public_ip
}

output "flow_log_group_name" {
  description = "CloudWatch log group of the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}
