-- How each partner's health score moved in the quarter to data_as_of, computed once at build time by health_score.store_health, kept to the shared filters.
-- Params:
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
-- Grain: one row per partner scored on both days, biggest rise first (partner_health_movers' rows)
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
    as_of
from health_movers_precomputed
where partner_in_scope(region, tier, partner_types, partner_manager, $regions, $tiers, $partner_types, $managers)
order by row_number
