-- The distinct partners with an eligible touch on each closed opportunity (the Shapley coalitions).
-- Params:
--   $lookback_days (integer, NULL = 365): touches more than this many whole days before the close date are ignored
-- Grain: one row per closed opportunity x partner with an eligible touchpoint
-- Money: none
-- Scope: partner
with

closed as (
    select opportunity_id, close_date, is_won
    from opportunities
    where is_closed
),

final as (
    select distinct t.opportunity_id, t.partner_id, closed.is_won
    from touchpoints as t
    inner join closed on closed.opportunity_id = t.opportunity_id
    where cast(t.occurred_at as date) <= closed.close_date
        and date_diff('day', cast(t.occurred_at as date), closed.close_date) <= coalesce($lookback_days, 365)
)

select opportunity_id, partner_id, is_won from final
