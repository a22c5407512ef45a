{#-
  FX normalisation (DESIGN §3): amount_zar, amount_usd, amount_btc_sats from dim_fx_rates_daily
  (one row per day: zar_per_usd, zar_per_eur, zar_per_gbp, zar_per_btc; gaps carried forward).
  Amounts in a currency without a rate stay NULL rather than being guessed.
-#}
{% macro zar_factor(currency, fx) -%}
    case {{ currency }}
        when 'ZAR' then 1::numeric
        when 'USD' then {{ fx }}.zar_per_usd
        when 'EUR' then {{ fx }}.zar_per_eur
        when 'GBP' then {{ fx }}.zar_per_gbp
        when 'BTC' then {{ fx }}.zar_per_btc
    end
{%- endmacro %}

{% macro fx_columns(amount, currency, fx, prefix='amount') -%}
    round({{ amount }} * {{ zar_factor(currency, fx) }}, 2) as {{ prefix }}_zar,
    round({{ amount }} * {{ zar_factor(currency, fx) }} / nullif({{ fx }}.zar_per_usd, 0), 2) as {{ prefix }}_usd,
    round({{ amount }} * {{ zar_factor(currency, fx) }} / nullif({{ fx }}.zar_per_btc, 0) * 100000000)::bigint as {{ prefix }}_btc_sats
{%- endmacro %}

{#- The FX day of an event: its UTC calendar date. -#}
{% macro fx_date(ts) -%}
    ({{ ts }} at time zone 'UTC')::date
{%- endmacro %}
