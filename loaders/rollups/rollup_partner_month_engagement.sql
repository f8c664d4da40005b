-- Build-time rollup: each partner's decayed weighted activity on the last day of every month since its first activity (the engagement score's raw value).
-- Params: none
-- Grain: one row per partner x month, from the partner's first active month to the last month with activity
-- Money: none
-- Scope: partner
with

meta as (
    select
        coalesce(
            cast(json_extract(max(value) filter (where key = 'settings_json'), '$.engagement_half_life_days') as double), 30
        ) as half_life_days
    from load_meta
),

days as (
    select partner_id, activity_date, month, weight from rollup_partner_days
),

-- Logic --------------------------------------------------------------------------------------

-- Each month's activity, decayed to the month's last day.
month_sums as (
    select
        d.partner_id,
        d.month,
        coalesce(
            sum(d.weight * pow(0.5, datediff('day', d.activity_date, cast(d.month + interval 1 month as date) - 1) / m.half_life_days)),
            0
        ) as month_raw
    from days as d
    cross join meta as m
    group by d.partner_id, d.month
),

spans as (
    select partner_id, min(month) as first_month, (select max(month) from days) as last_month
    from days
    group by partner_id
),

month_ends as (
    select s.partner_id, cast(t.month as date) as month, cast(t.month + interval 1 month as date) - 1 as month_end
    from spans as s, lateral (select unnest(generate_series(s.first_month, s.last_month, interval 1 month)) as month) as t
),

final as (
    select
        e.partner_id,
        e.month,
        e.month_end,
        coalesce(sum(s.month_raw * pow(0.5, datediff('day', cast(s.month + interval 1 month as date) - 1, e.month_end) / m.half_life_days)), 0)
            as raw_engagement
    from month_ends as e
    cross join meta as m
    left join month_sums as s on s.partner_id = e.partner_id and s.month <= e.month
    group by e.partner_id, e.month, e.month_end
)

select partner_id, month, month_end, cast(raw_engagement as double) as raw_engagement
from final
order by partner_id, month
