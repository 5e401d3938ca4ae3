"""What `serverless deploy` uploads, built and unpacked locally: each function's zip and the
dependencies layer from the locked runtime dependencies (`quarry package`), the packaged
CloudFormation template read as AWS reads it, and the small Lambda runtime environment
(awslambdaric and boto3) that execution environments start from."""
