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

weighted as (
    select
        a.partner_id,
        cast(a.occurred_at as date) as activity_date,
        -- Types missing from the settings count 1, so new activity kinds are not silently ignored.
        coalesce(w.weight, 1.0) as weight
    from partner_activities as a
    left join activity_weights as w using (activity_type)
    cross join meta
    where cast(a.occurred_at as date) <= meta.as_of and coalesce(w.weight, 1.0) > 0
),

-- Logic --------------------------------------------------------------------------------------

raw_scores as (
    select
        pop.partner_id,
        pop.month,
        coalesce(sum(w.weight * pow(0.5, datediff('day', w.activity_date, pop.scored_on) / meta.half_life_days)), 0)
            as raw_engagement
    from population as pop
    cross join meta
    left join weighted as w on w.partner_id = pop.partner_id and w.activity_date <= pop.scored_on
    group by pop.partner_id, pop.month
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
