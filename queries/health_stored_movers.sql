-- How each partner's health score moved in the quarter to data_as_of (no filters), computed once at build time by health_score.store_health.
-- Params: none
-- Grain: one row per partner scored on both days, biggest rise first (region and partner_types for the filters)
-- Money: none
-- Scope: partner
select
    partner_id,
    partner_name,
    partner_manager,
    tier,
    partner_type,
    health_score,
    score_before,
    change,
    rank,
    rank_before,
    moved_most_by,
    moved_most_points,
    compared_with,
    as_of,
    region,
    partner_types
from health_movers_precomputed
order by row_number
