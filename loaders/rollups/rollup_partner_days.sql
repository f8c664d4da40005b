-- Build-time rollup: each partner's activities per day (type-weighted sum, effort days, gap since the previous effort day).
-- Params: none
-- Grain: one row per partner x day with at least one activity, ordered by month (a month's days are a range of the table)
-- Money: none
-- Scope: partner
with

weights as (
    select activity_type, weight from activity_weights
),

activities as (
    select
        a.partner_id,
        cast(a.occurred_at as date) as activity_date,
        a.occurred_at,
        a.activity_type,
        -- Types missing from the settings count 1 (as engagement_by_month.sql always did).
        coalesce(w.weight, 1.0) as weight
    from partner_activities as a
    left join weights as w using (activity_type)
),

-- Logic --------------------------------------------------------------------------------------

days as (
    select
        partner_id,
        activity_date,
        sum(weight) filter (where weight > 0) as weight,
        count(*) as activities,
        bool_or(activity_type <> 'portal_login') as is_work_day,
        max(occurred_at) filter (where activity_type <> 'portal_login') as last_work_at
    from activities
    group by partner_id, activity_date
),

work_gaps as (
    select
        partner_id,
        activity_date,
        datediff('day', lag(activity_date) over (partition by partner_id order by activity_date), activity_date) as gap_days
    from days
    where is_work_day
),

final as (
    select
        d.partner_id,
        d.activity_date,
        cast(date_trunc('month', d.activity_date) as date) as month,
        d.weight,
        d.activities,
        d.is_work_day,
        d.last_work_at,
        g.gap_days as work_gap_days
    from days as d
    left join work_gaps as g using (partner_id, activity_date)
)

select partner_id, activity_date, month, weight, activities, is_work_day, last_work_at, work_gap_days
from final
order by month, partner_id, activity_date
