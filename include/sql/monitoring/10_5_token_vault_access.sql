-- Runbook §10.5 Token vault access in the last 24 h, per role.
-- Database: compliance on .118 (compliance_user or compliance_admin). Every detokenise call,
-- allowed or denied, is a row of compliance.token_access_audit (compliance.detokenise()).
SELECT accessed_by, count(*) AS access_count, array_agg(DISTINCT token_family) AS families
FROM compliance.token_access_audit
WHERE accessed_at > now() - interval '24 hours'
GROUP BY accessed_by;
