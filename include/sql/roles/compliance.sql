-- Cluster-wide roles of the compliance host (.118). Idempotent.
DO $$
BEGIN
    CREATE ROLE compliance_admin LOGIN;    -- owns the compliance schema, salts included
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE compliance_user LOGIN;     -- reviewers: audit trails; detokenise (audited)
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
