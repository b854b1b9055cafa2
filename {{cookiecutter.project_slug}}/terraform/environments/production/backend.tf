# Bucket and region come from ../../backend.hcl: terraform init -backend-config=../../backend.hcl
terraform {
  backend "s3" {
    key          = "environments/production/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
