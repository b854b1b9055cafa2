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

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
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
        # An image matched by a rule is never expired by a lower-priority one: images that were deployed (they
        # carry an <environment>-<sha> tag) are counted here only, so the SHA rule below cannot expire them.
        rulePriority = 2
        description  = "Keep the newest ${var.keep_deployed_images} images an environment ran"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = var.deployed_tag_prefixes
          countType     = "imageCountMoreThan"
          countNumber   = var.keep_deployed_images
        }
        action = { type = "expire" }
      },
      {
        # CI tags every image with its git SHA; keeping the newest N leaves room to roll back.
        rulePriority = 3
        description  = "Keep the newest ${var.keep_tagged_images} SHA-tagged images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["*"]
          countType      = "imageCountMoreThan"
          countNumber    = var.keep_tagged_images
        }
        action = { type = "expire" }
      },
    ]
  })
}
