-- The pipeline forecast for the default view (no filters, as of data_as_of), computed once at build time by forecast.store_forecast.
-- Params: none
-- Grain: one row per fiscal quarter x method x segment
-- Money: none
-- Scope: program
select
    fiscal_quarter,
    quarter_start,
    method,
    method_label,
    segment,
    expected,
    p10,
    p50,
    p90,
    won_to_date,
    open_deals,
    new_business,
    as_of,
    note
from forecast_precomputed
order by row_number
