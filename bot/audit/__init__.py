"""The audit trail: reading and exporting the record of coordinators' and admins' actions."""
