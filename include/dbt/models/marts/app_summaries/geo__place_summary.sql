{#- Geo's coverage board: places per province and category. Places are not people: no personal data. -#}
{{ config(materialized='table') }}

select
    province,
    category,
    count(*)::bigint as places
from {{ ref('int_geo_places') }}
group by province, category
