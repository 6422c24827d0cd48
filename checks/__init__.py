"""Built-in checks, one package per service, registered through the `aws_audit.checks` entry points."""
