-- Session-private landing table for one batch; dropped at commit.
CREATE TEMPORARY TABLE {stage} (LIKE {raw}) ON COMMIT DROP
