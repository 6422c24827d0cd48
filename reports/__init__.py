"""Report writers, registered through the `aws_audit.reporters` entry points."""
