-- Closed opportunities with a touchpoint on or before their close date, as the build stored them for the attribution models.
-- Params:
--   $won_only (boolean, NULL = false): only won opportunities
-- Grain: one row per closed opportunity with at least one touchpoint on or before its close date
-- Money: none
-- Scope: program
--
-- deal is the number attribution_paths_stored's rows refer to; amount is in the reporting currency (converted at load).
with

final as (
    select deal, opportunity_id, is_won, amount, close_date
    from attribution_path_deals
    where is_won or not coalesce($won_only, false)
)

select deal, opportunity_id, is_won, amount, close_date from final
