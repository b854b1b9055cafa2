# Backend blocks cannot read deploy.json or variables, so the bucket and region are written here when the project
# is generated. The bucket is created by terraform/bootstrap (variable state_bucket_name): change both together.
terraform {
  backend "s3" {
    bucket       = "{{ cookiecutter.__resource_prefix }}-terraform-state"
    key          = "environments/staging/terraform.tfstate"
    region       = "{{ cookiecutter.aws_region }}"
    encrypt      = true
    use_lockfile = true
  }
}
