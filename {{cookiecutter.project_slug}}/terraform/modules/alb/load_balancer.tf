resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "Public load balancer of ${var.name}"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-alb" }
}

resource "aws_vpc_security_group_ingress_rule" "public" {
  for_each = toset(["80", "443"])

  security_group_id = aws_security_group.this.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  description       = "Public HTTP${each.key == "443" ? "S" : " (redirected to HTTPS)"}"
  #checkov:skip=CKV_AWS_260:The load balancer is the public entry point; port 80 only answers with a redirect to HTTPS.
}

resource "aws_vpc_security_group_egress_rule" "targets" {
  security_group_id = aws_security_group.this.id
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = var.target_port
  to_port           = var.target_port
  description       = "To the targets in the VPC"
}

resource "aws_lb" "this" {
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  security_groups    = [aws_security_group.this.id]
  subnets            = var.subnet_ids

  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = var.idle_timeout_seconds

  access_logs {
    bucket  = module.access_logs.id
    enabled = true
  }

  # Elastic Load Balancing checks on creation that it may write to the bucket.
  depends_on = [module.access_logs]
  #checkov:skip=CKV_AWS_150:Set by var.deletion_protection: on in production, off in staging so that it can be torn down.
  #checkov:skip=CKV2_AWS_76:The Log4j rules (AWSManagedRulesKnownBadInputsRuleSet) are on; the check also demands AWSManagedRulesAnonymousIpList, which would block every VPN and cloud-hosted visitor.
  #checkov:skip=CKV2_AWS_20:Public by design: it serves the site on the internet (HTTP only redirects to HTTPS).
}

resource "aws_lb_target_group" "this" {
  name                 = "${var.name}-${var.target_role}"
  port                 = var.target_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  # The app's health endpoint answers plain HTTP with the target's IP as Host (exempt from host checks).
  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
  #checkov:skip=CKV_AWS_2:This listener only redirects to HTTPS.
  #checkov:skip=CKV_AWS_103:This listener only redirects to HTTPS; TLS policy applies to the HTTPS listener.
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.this.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}
