-- markets_db: market reference data. Idempotent; applied by tools/seed_sources.py.
-- fx_rates: one row per day per currency (ZAR = 1), zar_per_unit = how many rand one unit costs.

CREATE TABLE IF NOT EXISTS fx_rates (
    rate_date    date           NOT NULL,
    currency     text           NOT NULL,
    zar_per_unit numeric(24, 8) NOT NULL CHECK (zar_per_unit > 0),
    source       text           NOT NULL,
    created_at   timestamptz    NOT NULL DEFAULT now(),
    updated_at   timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (rate_date, currency)
);
CREATE INDEX IF NOT EXISTS fx_rates_updated_at_idx ON fx_rates (updated_at);

CREATE TABLE IF NOT EXISTS instruments (
    code        text        PRIMARY KEY,
    name        text        NOT NULL,
    asset_class text        NOT NULL,
    decimals    smallint    NOT NULL,
    is_active   boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
