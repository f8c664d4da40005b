-- The days on which every partner's health score (default weights) was stored at build time by health_score.store_health.
-- Params: none
-- Grain: one row per stored day (is_data_as_of marks the build's data_as_of)
-- Money: none
-- Scope: program
select
    scored_on,
    is_data_as_of
from health_days_precomputed
order by scored_on
