-- Engagement score (0-100) per partner and month: type-weighted activity decayed with a half-life, ranked against all partners.
-- Params:
--   $as_of (date, NULL = data_as_of): the last day counted; the current month is scored on this day, past months on their last day
--   $months (integer, NULL = 12): how many months to score, ending with the month of $as_of
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
-- Grain: one row per partner x month (partners joined and not terminated by the scoring day of the month)
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        coalesce(
            cast(json_extract(max(value) filter (where key = 'settings_json'), '$.engagement_half_life_days') as double), 30
        ) as half_life_days
    from load_meta
),

months as (
    select
        cast(date_trunc('month', m.as_of) - to_months(cast(i as integer)) as date) as month,
        least(cast(date_trunc('month', m.as_of) - to_months(cast(i as integer) - 1) as date) - 1, m.as_of) as scored_on
    from meta as m, generate_series(0, coalesce($months, 12) - 1) as t(i)
),

-- Ranking population: every partner on the books that day, whatever the filters.
population as (
    select p.partner_id, p.partner_name, p.partner_manager, p.region, p.tier, p.partner_types, m.month, m.scored_on
    from partners as p, months as m
    where p.joined_at <= m.scored_on
        and not (coalesce(p.status = 'terminated', false) and coalesce(p.terminated_at, p.joined_at) <= m.scored_on)
),

-- Built once per build (queries/rollups.py): each partner's raw value on every month's last day,
-- and its weighted activity per day.
month_ends as (
    select partner_id, month_end, raw_engagement from rollup_partner_month_engagement
),

days as (
    select partner_id, month, activity_date, weight from rollup_partner_days where weight > 0
),

-- Logic --------------------------------------------------------------------------------------

-- Raw value on the scoring day = sum of weight x 0.5^(days before the scoring day / half-life)
-- over activities up to that day: the value at the last month end on or before it, decayed to
-- the day, plus the activities of the days after that month end (only the scoring day's month).
anchored as (
    select pop.partner_id, pop.month, pop.scored_on, e.month_end as anchor_on, e.raw_engagement as anchor_raw
    from population as pop
    asof left join month_ends as e on e.partner_id = pop.partner_id and e.month_end <= pop.scored_on
),

partial_month as (
    select a.partner_id, a.month, sum(d.weight * pow(0.5, datediff('day', d.activity_date, a.scored_on) / meta.half_life_days)) as raw
    from anchored as a
    cross join meta
    inner join days as d
        on d.partner_id = a.partner_id
        and d.month = cast(date_trunc('month', a.scored_on) as date)
        and d.activity_date <= a.scored_on
        and d.activity_date > coalesce(a.anchor_on, date '0001-01-01')
    where a.anchor_on is distinct from a.scored_on
    group by a.partner_id, a.month
),

raw_scores as (
    select
        a.partner_id,
        a.month,
        coalesce(a.anchor_raw * pow(0.5, datediff('day', a.anchor_on, a.scored_on) / meta.half_life_days), 0)
            + coalesce(p.raw, 0) as raw_engagement
    from anchored as a
    cross join meta
    left join partial_month as p using (partner_id, month)
),

ranked as (
    select
        partner_id,
        month,
        raw_engagement,
        case when raw_engagement > 0 then 100 * cume_dist() over (partition by month order by raw_engagement) else 0 end
            as engagement_score
    from raw_scores
),

final as (
    select
        pop.partner_id,
        pop.partner_name,
        pop.partner_manager,
        pop.month,
        pop.scored_on,
        cast(r.raw_engagement as double) as raw_engagement,
        cast(round(r.engagement_score, 1) as double) as engagement_score
    from population as pop
    inner join ranked as r using (partner_id, month)
    where ($managers is null or list_contains($managers, pop.partner_manager))
        and ($regions is null or list_contains($regions, pop.region))
        and ($tiers is null or list_contains($tiers, pop.tier))
        and ($partner_types is null or len(list_intersect(pop.partner_types, $partner_types)) > 0)
)

select partner_id, partner_name, partner_manager, month, scored_on, raw_engagement, engagement_score
from final
order by partner_id, month
