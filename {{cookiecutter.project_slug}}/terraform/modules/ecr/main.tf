resource "aws_ecr_repository" "this" {
  name = var.name
  # A tag names one image forever, so a deployed git SHA always means the same bytes.
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

locals {
  # Deploys tag the image they run <environment>-<sha>. One rule per environment, ahead of every other rule,
  # selects those images and keeps the newest keep_deployed_images: an image a rule selects cannot be expired by a
  # lower-priority rule, so the deployed image and its rollback targets never reach the SHA rule below.
  deployed_rules = [for index, prefix in var.deployed_tag_prefixes : {
    rulePriority = index + 1
    description  = "Keep the newest ${var.keep_deployed_images} images deployed to ${trimsuffix(prefix, "-")}"
    selection = {
      tagStatus     = "tagged"
      tagPrefixList = [prefix]
      countType     = "imageCountMoreThan"
      countNumber   = var.keep_deployed_images
    }
    action = { type = "expire" }
  }]
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = concat(local.deployed_rules, [
      {
        rulePriority = length(local.deployed_rules) + 1
        description  = "Expire untagged images (interrupted pushes, superseded layers)"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_image_expiry_days
        }
        action = { type = "expire" }
      },
      {
        # CI tags every image with its git SHA; images no environment runs are kept while among the newest N.
        rulePriority = length(local.deployed_rules) + 2
        description  = "Keep the newest ${var.keep_tagged_images} SHA-tagged images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["*"]
          countType      = "imageCountMoreThan"
          countNumber    = var.keep_tagged_images
        }
        action = { type = "expire" }
      },
    ])
  })
}
