-- warehouse (.106), as warehouse_admin: pull the tombstones (and the tombstone key) from .118.
SELECT compliance.refresh_rtbf_tombstones()
