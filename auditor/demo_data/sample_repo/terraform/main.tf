provider "aws" {
  region = "us-east-1"
}

resource "aws_s3_bucket" "customer_exports" {
  bucket = "acme-customer-exports"
  tags = {
    data_classification = "personal"
  }
}

resource "aws_s3_bucket_public_access_block" "customer_exports" {
  bucket                  = aws_s3_bucket.customer_exports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_db_instance" "orders" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  publicly_accessible = true
  storage_encrypted   = false
}

resource "aws_security_group" "admin" {
  name        = "admin"
  description = "administration access"
  ingress {
    description = "ssh from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name = "/acme/app"
}

resource "aws_ebs_volume" "scratch" {
  #checkov:skip=CKV_AWS_3:scratch space, holds no customer data
  availability_zone = "us-east-1a"
  size              = 20
}
