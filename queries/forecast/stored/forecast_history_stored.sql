-- Each method's forecast for the current quarter as it stood at the end of every week, for one pipeline, no filters, as the build stored it (forecast_history.store_history).
-- Params:
--   $segment (varchar, NULL = partner): the pipeline (partner, partner_sourced, partner_influenced, direct, all)
-- Grain: one row per week x method
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
where segment = coalesce($segment, 'partner')
order by row_number
