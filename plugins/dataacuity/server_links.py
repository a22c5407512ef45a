"""Links between the clusters (postgres_fdw / dblink servers) and the one way to point them.

    point_server_link(su, server="analytics_104", local_role="pushback_owner",
                      remote_user="pushback_writer", password=..., host=..., port=..., dbname=...)

Must run inside the caller's transaction (``with conn.transaction():``): it turns statement logging
off for that transaction, so the statement carrying the password never reaches the server log. The
password lives only in the user mapping, whose options only superusers can read.
"""

from __future__ import annotations

from psycopg import sql


def quiet_transaction(su) -> None:
    """No statement of the current transaction is logged (it carries a password)."""
    su.execute("SET LOCAL log_statement = 'none'")
    su.execute("SET LOCAL log_min_duration_statement = -1")


def point_server_link(
    su, *, server: str, local_role: str, remote_user: str, password: str, host: str, port: int, dbname: str
) -> None:
    """Point `server` at host:port/dbname and (re)write `local_role`'s user mapping to log in as
    `remote_user` with `password`. Idempotent."""
    quiet_transaction(su)
    su.execute(
        sql.SQL("ALTER SERVER {} OPTIONS (SET host {}, SET port {}, SET dbname {})").format(
            sql.Identifier(server), sql.Literal(host), sql.Literal(str(port)), sql.Literal(dbname)
        )
    )
    exists = su.execute(
        "SELECT 1 FROM pg_user_mappings WHERE srvname = %s AND usename = %s", (server, local_role)
    ).fetchone()
    verb = "ALTER USER MAPPING FOR {} SERVER {} OPTIONS (SET user {}, SET password {})"
    if not exists:
        verb = "CREATE USER MAPPING FOR {} SERVER {} OPTIONS (user {}, password {})"
    su.execute(
        sql.SQL(verb).format(
            sql.Identifier(local_role), sql.Identifier(server), sql.Literal(remote_user), sql.Literal(password)
        )
    )
