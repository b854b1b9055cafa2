terraform {
  # 1.10: S3 native state locking; 1.11: write-only arguments (the SECRET_KEY never enters state).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.66"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}
