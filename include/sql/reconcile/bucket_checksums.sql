-- Row count and a cheap checksum per bucket (key range, day or hash bucket): the sum of a 64-bit
-- hash of each row's text over the columns both sides hold. Run on the replica and on raw alike.
SELECT {bucket}                                        AS bucket,
       count(*)                                        AS row_count,
       coalesce(sum(hashtextextended({row}::text, 0)), 0) AS checksum
FROM {relation}
WHERE {predicate}
GROUP BY 1
