terraform {
  # 1.10: S3 native state locking (use_lockfile), so no DynamoDB table.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.66"
    }
  }

  # The first apply creates the state bucket, so it starts with local state. Then uncomment this block and run
  # `terraform init -migrate-state` to move the bootstrap state into the bucket.
  # backend "s3" {
  #   bucket       = "{{ cookiecutter.__resource_prefix }}-terraform-state"
  #   key          = "bootstrap/terraform.tfstate"
  #   region       = "{{ cookiecutter.aws_region }}"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}
