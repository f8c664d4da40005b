-- Each eligible touch of every won opportunity with its weight under each touch-based rule model.
-- Params:
--   $lookback_days (integer, NULL = 365): touches more than this many whole days before the close date are ignored
--   $half_life_days (double, NULL = 30): time_decay half-life in days
--   $position_first (double, NULL = 0.4): position_based weight of the first touch (n > 2)
--   $position_last (double, NULL = 0.4): position_based weight of the last touch (n > 2)
--   $w_anchor (double, NULL = 0.3): w_shaped weight of each anchor (first, key, last)
-- Grain: one row per eligible touchpoint of a won opportunity (a column per model: first_touch ... touch_value)
-- Money: none
-- Scope: partner
with

won as (
    select opportunity_id, cast(amount as decimal(18, 2)) as amount, created_at, close_date
    from opportunities
    where is_won
),

touches as (
    select
        t.opportunity_id,
        t.partner_id,
        t.touch_type,
        t.touchpoint_id,
        t.occurred_at,
        cast(t.occurred_at as date) as touch_date,
        won.amount,
        won.close_date,
        won.created_at,
        date_diff('day', cast(t.occurred_at as date), won.close_date) as days_before_close,
        coalesce(v.touch_value, 0) as touch_value
    from touchpoints as t
    inner join won on won.opportunity_id = t.opportunity_id
    left join touch_values as v on v.touch_type = t.touch_type
    where cast(t.occurred_at as date) <= won.close_date
        and date_diff('day', cast(t.occurred_at as date), won.close_date) <= coalesce($lookback_days, 365)
),

ordered as (
    select
        *,
        row_number() over (
            partition by opportunity_id order by occurred_at, touchpoint_id nulls last, partner_id
        ) as seq,
        pow(2.0, -days_before_close / coalesce($half_life_days, 30.0)) as decay,
        abs(date_diff('day', created_at, touch_date)) as days_from_created
    from touches
),

per_deal as (
    select
        *,
        count(*) over deal as n,
        sum(decay) over deal as decay_total,
        sum(touch_value) over deal as value_total,
        min(case when touch_type = 'deal_registration' then seq end) over deal as first_registration_seq,
        -- The touch nearest the creation date, the earlier one on a tie.
        min(days_from_created * 1000000 + seq) over deal % 1000000 as nearest_created_seq
    from ordered
    window deal as (partition by opportunity_id)
),

anchored as (
    select
        *,
        coalesce(first_registration_seq, nearest_created_seq) as key_seq,
        n - len(list_distinct([1, coalesce(first_registration_seq, nearest_created_seq), n])) as others,
        coalesce($w_anchor, 0.3) as anchor,
        coalesce($position_first, 0.4) as pos_first,
        coalesce($position_last, 0.4) as pos_last
    from per_deal
),

final as (
    select
        opportunity_id,
        partner_id,
        touch_type,
        touch_date,
        close_date,
        amount,
        case when seq = 1 then 1.0 else 0.0 end as first_touch,
        case when seq = n then 1.0 else 0.0 end as last_touch,
        1.0 / n as linear,
        decay / decay_total as time_decay,
        -- Two touches share first : last (0.5 each with the default 0.4 / 0.4).
        case
            when n = 1 then 1.0
            when n = 2 then (case when seq = 1 then pos_first else pos_last end) / (pos_first + pos_last)
            when seq = 1 then pos_first
            when seq = n then pos_last
            else (1.0 - pos_first - pos_last) / (n - 2)
        end as position_based,
        -- Anchors that coincide add their weights; with no other touches the anchors share everything.
        (
            anchor * ((seq = 1)::int + (seq = key_seq)::int + (seq = n)::int)
            + case when others > 0 and seq != 1 and seq != key_seq and seq != n then (1.0 - 3 * anchor) / others else 0.0 end
        ) / (3 * anchor + case when others > 0 then 1.0 - 3 * anchor else 0.0 end) as w_shaped,
        -- A touch type missing from the settings is worth 0; a deal whose touches are all worth 0 splits equally.
        case when value_total > 0 then touch_value / value_total else 1.0 / n end as touch_value
    from anchored
)

select
    opportunity_id, partner_id, touch_type, touch_date, close_date, amount,
    first_touch, last_touch, linear, time_decay, position_based, w_shaped, touch_value
from final
