{#- geo_db.places: public points of interest (no personal data); coordinates dropped, city level kept. -#}
{{ config(materialized='table', indexes=[{'columns': ['place_id'], 'unique': true}]) }}

select
    id as place_id,
    category,
    city,
    province,
    updated_at,
    _extracted_at
from {{ ref('stg_geo_db__places') }}
