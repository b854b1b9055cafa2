output "dns_name" {
  description = "The load balancer's DNS name (point the domain at it when Route 53 is not managed here)."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "The load balancer's hosted zone id, for alias records."
  value       = aws_lb.this.zone_id
}

output "arn" {
  description = "The load balancer's ARN."
  value       = aws_lb.this.arn
}

output "security_group_id" {
  description = "The load balancer's security group."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "Target group of the web service; known only once the HTTPS listener forwards to it, as ECS requires."
  value       = aws_lb_target_group.this.arn
  depends_on  = [aws_lb_listener.https]
}

output "resource_label" {
  description = "app/<lb>/<id>/targetgroup/<tg>/<id>, for ALBRequestCountPerTarget scaling."
  value       = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}"
}

output "certificate_arn" {
  description = "The ACM certificate of the HTTPS listener."
  value       = aws_acm_certificate.this.arn
}

output "certificate_validation_records" {
  description = "CNAME records that validate the certificate (add them at your DNS provider when route53_zone_id is null)."
  value = [
    for option in aws_acm_certificate.this.domain_validation_options : {
      name  = option.resource_record_name
      type  = option.resource_record_type
      value = option.resource_record_value
    }
  ]
}

output "access_logs_bucket" {
  description = "S3 bucket of the access logs."
  value       = module.access_logs.id
}
