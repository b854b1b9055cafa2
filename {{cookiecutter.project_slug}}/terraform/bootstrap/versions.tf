terraform {
  # 1.10: S3 native state locking (use_lockfile), so no DynamoDB table.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # The first apply creates the state bucket, so it starts with local state. Then uncomment this block and run
  # `terraform init -migrate-state -backend-config=../backend.hcl` to move the bootstrap state into the bucket.
  # backend "s3" {
  #   key          = "bootstrap/terraform.tfstate"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}
