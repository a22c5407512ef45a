-- Runbook §10.3 K-anonymity health check (ad hoc): groups below k = 5 in a user-level mart.
-- Database: data_warehouse (.106). dim_user_360_anon's quasi-identifiers are age_band,
-- province and country_code (meta.quasi_identifiers); an empty result is healthy. For another
-- mart, swap the table and the columns for its meta.quasi_identifiers.
SELECT age_band, province, country_code, count(DISTINCT user_hash) AS n
FROM marts.dim_user_360_anon
GROUP BY age_band, province, country_code
HAVING count(DISTINCT user_hash) < 5
ORDER BY n;
