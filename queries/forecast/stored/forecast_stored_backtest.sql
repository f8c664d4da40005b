-- The forecast backtest for the default view (no filters), computed once at build time by forecast.store_forecast.
-- Params: none
-- Grain: one row per past fiscal quarter x method x segment
-- Money: none
-- Scope: program
select
    fiscal_quarter,
    quarter_start,
    method,
    method_label,
    segment,
    forecast,
    actual,
    error,
    abs_pct_error,
    p10,
    p50,
    p90,
    in_band,
    open_deals,
    basis,
    stale_deals,
    stale_amount,
    stale_forecast,
    stale_won,
    stale_note,
    new_business,
    pipeline_actual,
    new_business_actual
from forecast_backtest_precomputed
order by row_number
