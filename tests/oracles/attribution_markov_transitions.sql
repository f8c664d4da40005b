-- Transition counts of the partner Markov chain over the partner paths of closed opportunities.
-- Params:
--   $lookback_days (integer, NULL = 365): touches more than this many whole days before the close date are ignored
-- Grain: one row per (from partner, to partner) transition; from_partner NULL = start, to_partner NULL = end of path
-- Money: none
-- Scope: partner
with

closed as (
    select opportunity_id, close_date, is_won
    from opportunities
    where is_closed
),

touches as (
    select t.opportunity_id, t.partner_id, t.occurred_at, t.touchpoint_id, closed.is_won
    from touchpoints as t
    inner join closed on closed.opportunity_id = t.opportunity_id
    where cast(t.occurred_at as date) <= closed.close_date
        and date_diff('day', cast(t.occurred_at as date), closed.close_date) <= coalesce($lookback_days, 365)
),

ordered as (
    select
        opportunity_id,
        partner_id,
        is_won,
        lag(partner_id) over deal as previous_partner,
        row_number() over deal as seq
    from touches
    window deal as (partition by opportunity_id order by occurred_at, touchpoint_id nulls last, partner_id)
),

-- Consecutive touches by the same partner are one visit.
visits as (
    select opportunity_id, partner_id, is_won, seq
    from ordered
    where previous_partner is null or previous_partner != partner_id
),

steps as (
    select
        opportunity_id,
        is_won,
        lag(partner_id) over (partition by opportunity_id order by seq) as from_partner,
        partner_id as to_partner
    from visits
    union all
    select opportunity_id, any_value(is_won), arg_max(partner_id, seq), null
    from visits
    group by opportunity_id
),

final as (
    select
        from_partner,
        to_partner,
        count(*) as transitions,
        count(*) filter (where is_won) as conversions
    from steps
    group by from_partner, to_partner
)

select from_partner, to_partner, transitions, conversions from final
