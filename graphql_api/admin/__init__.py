"""Setup commands: the sql/ files, `db init`, the DynamoDB table."""
