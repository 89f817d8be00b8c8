"""What network admins see of the running service: /status."""
