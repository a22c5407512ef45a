-- May this app reader use that app's analytics schema? Parameters: role, schema.
SELECT has_schema_privilege(%(role)s, %(schema)s, 'USAGE')
