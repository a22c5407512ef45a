{#-
  k-anonymity (runbook §5): every combination of the quasi-identifiers covers at least k
  subjects. Subjects are counted as sum(count_column) when the model is already aggregated
  (one row per cell with a user count), count(distinct subject_column) when given, else rows.
  Returns the cells below k (values of the quasi-identifiers and the cell size).
-#}
{% test k_anonymity(model, quasi_identifiers, k=5, count_column=none, subject_column=none) %}
    {%- set qi = quasi_identifiers | join(', ') -%}
    select {{ qi }},
        {%- if count_column %} sum({{ count_column }})
        {%- elif subject_column %} count(distinct {{ subject_column }})
        {%- else %} count(*)
        {%- endif %} as cell_size
    from {{ model }}
    group by {{ qi }}
    having {% if count_column %}sum({{ count_column }}){% elif subject_column %}count(distinct {{ subject_column }}){% else %}count(*){% endif %} < {{ k }}
{% endtest %}

{#- Uniqueness of a (possibly composite) natural key. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
