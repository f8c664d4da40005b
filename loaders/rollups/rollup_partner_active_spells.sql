-- Build-time rollup: the spells in which each partner counts as active for the Program health KPI (an activity other than portal_login, or a touchpoint, in the 90 days up to the day).
-- Params: none
-- Grain: one row per partner x spell (a run of days each within 90 days after an engagement day; spells of a partner do not overlap)
-- Money: none
-- Scope: partner
with

work_days as (
    select partner_id, activity_date from rollup_partner_days where is_work_day
),

touch_days as (
    select partner_id, cast(occurred_at as date) as activity_date from touchpoints
),

-- Logic --------------------------------------------------------------------------------------

engaged_days as (
    select partner_id, activity_date from work_days
    union
    select partner_id, activity_date from touch_days
),

-- A day counts while an engagement day lies within the 89 days before it (or on it): engagement
-- days at most 90 days apart make one unbroken spell.
numbered as (
    select
        partner_id,
        activity_date,
        sum(case when gap_days is null or gap_days > 90 then 1 else 0 end)
            over (partition by partner_id order by activity_date rows unbounded preceding) as spell
    from (
        select
            partner_id,
            activity_date,
            activity_date - lag(activity_date) over (partition by partner_id order by activity_date) as gap_days
        from engaged_days
    )
),

final as (
    select partner_id, min(activity_date) as active_from, max(activity_date) + 89 as active_through
    from numbered
    group by partner_id, spell
)

select partner_id, active_from, active_through
from final
order by partner_id, active_from
