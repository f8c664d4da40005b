-- The open deals behind the forecast for the default view (no filters, as of data_as_of), computed once at build time by forecast.store_forecast.
-- Params: none
-- Grain: one row per open opportunity on data_as_of
-- Money: none
-- Scope: partner
select
    opportunity_id,
    account_name,
    partner_id,
    partner_name,
    segment,
    stage,
    forecast_category,
    amount,
    close_date,
    fiscal_quarter,
    crm_weighted,
    p_win,
    expected_value,
    historical_group,
    probability_source,
    times_slipped,
    days_slipped,
    days_past_close,
    age_days,
    is_slipped,
    is_stale,
    in_forecast,
    owner
from forecast_deals_precomputed
order by row_number
