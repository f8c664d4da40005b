-- Each method's forecast for the current quarter as it stood at the end of every week, every pipeline, no filters, as the build stored it (forecast_history.store_history).
-- Params: none
-- Grain: one row per week x method x segment
-- Money: none
-- Scope: program
select
    week_start,
    as_of,
    fiscal_quarter,
    method,
    method_label,
    segment,
    expected,
    p10,
    p90,
    won_to_date,
    open_deals
from forecast_history_precomputed
order by row_number
