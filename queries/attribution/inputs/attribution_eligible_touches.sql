-- Eligible touchpoints of every closed opportunity as integer codes, the one input of the touch-based attribution models.
-- Params:
--   $lookback_days (integer, NULL = 365): touches more than this many whole days before the close date are ignored
-- Grain: one row per eligible touchpoint (on or before the close date, within the lookback) of a closed opportunity
-- Money: none
-- Scope: partner
with

closed as (
    -- Numbered in opportunity_id order, so deals (and their credit rows) come out in export order unsorted.
    select row_number() over (order by opportunity_id) - 1 as deal_row, opportunity_id, created_at, close_date
    from opportunities
    where is_closed
),

-- Same codes as attribution_touch_codes.sql (name order), so the engine never sorts strings.
partner_codes as (
    select partner_id, cast(row_number() over (order by partner_id) - 1 as integer) as partner
    from (select distinct partner_id from touchpoints where partner_id is not null)
),

type_codes as (
    select touch_type, cast(row_number() over (order by touch_type nulls last) - 1 as integer) as type_code
    from (select distinct touch_type from touchpoints)
),

final as (
    select
        closed.deal_row,
        p.partner,
        k.type_code,
        t.rowid as touch_row,
        -- Microseconds from the touch to the end of the close date (> 0): orders a deal's touches.
        epoch_us(cast(closed.close_date as timestamp) + interval 1 day) - epoch_us(t.occurred_at) as before_close_us,
        cast(t.occurred_at as date) as touch_date,
        date_diff('day', cast(t.occurred_at as date), closed.close_date) as days_before_close,
        abs(date_diff('day', closed.created_at, cast(t.occurred_at as date))) as days_from_created
    from touchpoints as t
    inner join closed on closed.opportunity_id = t.opportunity_id
    inner join partner_codes as p on p.partner_id = t.partner_id
    inner join type_codes as k on k.touch_type is not distinct from t.touch_type
    where cast(t.occurred_at as date) <= closed.close_date
        and date_diff('day', cast(t.occurred_at as date), closed.close_date) <= coalesce($lookback_days, 365)
)

select deal_row, partner, type_code, touch_row, before_close_us, touch_date, days_before_close, days_from_created from final
