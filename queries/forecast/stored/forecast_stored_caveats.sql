-- The forecast's caveats for the default view (no filters, as of data_as_of): stale open deals and deals in stages without a probability, computed once at build time by forecast.store_forecast.
-- Params: none
-- Grain: one row per kind x segment that has such deals
-- Money: none
-- Scope: program
select
    kind,
    segment,
    deals,
    amount,
    stages,
    as_of,
    message
from forecast_caveats_precomputed
order by row_number
