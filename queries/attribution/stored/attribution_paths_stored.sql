-- Eligible touchpoints of closed opportunities in path order, as the build stored them: the scan every touch-based attribution model starts from.
-- Params:
--   $lookback_days (integer, NULL = 365): touches more than this many whole days before the close date are ignored
--   $won_only (boolean, NULL = false): only the touches of won opportunities
-- Grain: one row per eligible touchpoint (on or before the close date, within the lookback) of a closed opportunity, in path order
-- Money: none
-- Scope: partner
--
-- The build (queries.attribution.touch_paths.store_paths) writes every touch on or before its close date, by
-- deal and then docs/design.md's path order (occurred_at, touchpoint_id, partner_id); a plain scan
-- returns rows in that order, so the models never sort. deal numbers the rows of
-- attribution_path_deals_stored; partner and type_code are attribution_path_codes_stored's codes.
with

final as (
    select deal, partner, type_code, touch_date, days_before_close, days_from_created
    from attribution_paths
    where days_before_close <= coalesce($lookback_days, 365)
        and (is_won or not coalesce($won_only, false))
)

select deal, partner, type_code, touch_date, days_before_close, days_from_created from final
