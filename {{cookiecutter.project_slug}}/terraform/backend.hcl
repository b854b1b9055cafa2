# Shared backend settings: terraform init -backend-config=../../backend.hcl (from an environment directory).
# The bucket is created by terraform/bootstrap (variable state_bucket_name); change both together.
bucket = "{{ cookiecutter.__resource_prefix }}-terraform-state"
region = "{{ cookiecutter.aws_region }}"
