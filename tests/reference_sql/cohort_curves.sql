-- Do recent cohorts do better? Activation (first won partner deal) and survival (not yet dormant) by join quarter and months since joining, Kaplan-Meier.
-- Params:
--   $as_of (date, NULL = data_as_of): follow-up ends on this day; partners joined later are left out
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
-- Grain: one row per join quarter x curve (activation, survival) x months since joining
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        coalesce(cast(json_extract(max(value) filter (where key = 'settings_json'), '$.dormancy_days') as integer), 90)
            as dormancy_days
    from load_meta
),

cohort_partners as (
    select p.partner_id, p.joined_at, fiscal_quarter(p.joined_at) as cohort, fiscal_quarter_start(p.joined_at) as cohort_start
    from partners as p, meta
    where p.joined_at <= meta.as_of
        and ($managers is null or list_contains($managers, p.partner_manager))
        and ($regions is null or list_contains($regions, p.region))
        and ($tiers is null or list_contains($tiers, p.tier))
        and ($partner_types is null or len(list_intersect(p.partner_types, $partner_types)) > 0)
),

-- A partner is involved in a deal it sourced, touched on or before close, or registered (approved).
involvement as (
    select opportunity_id, sourced_partner_id as partner_id from opportunities where sourced_partner_id is not null
    union
    select t.opportunity_id, t.partner_id
    from touchpoints as t
    inner join opportunities as o using (opportunity_id)
    where cast(t.occurred_at as date) <= o.close_date
    union
    select opportunity_id, partner_id from deal_registrations where status = 'approved' and opportunity_id is not null
),

work_days as (
    select distinct a.partner_id, cast(a.occurred_at as date) as active_on
    from partner_activities as a
    inner join cohort_partners as c using (partner_id)
    cross join meta
    where a.activity_type <> 'portal_login' and cast(a.occurred_at as date) between c.joined_at and meta.as_of
),

-- Logic --------------------------------------------------------------------------------------

first_wins as (
    select i.partner_id, min(o.close_date) as first_won_on
    from involvement as i
    inner join opportunities as o using (opportunity_id)
    inner join cohort_partners as c using (partner_id)
    cross join meta
    where o.is_won and o.close_date between c.joined_at and meta.as_of
    group by i.partner_id
),

-- Dormant from the first day of a gap of dormancy_days without activity, counting from joining.
timeline as (
    select partner_id, joined_at as day_on from cohort_partners
    union all
    select partner_id, active_on from work_days
),

gaps as (
    select
        t.partner_id,
        t.day_on,
        coalesce(lead(t.day_on) over (partition by t.partner_id order by t.day_on), meta.as_of) as next_on
    from timeline as t, meta
),

first_dormancy as (
    select g.partner_id, min(g.day_on + meta.dormancy_days) as dormant_on
    from gaps as g, meta
    where datediff('day', g.day_on, g.next_on) >= meta.dormancy_days
    group by g.partner_id
),

-- Time to event (or to censoring at as_of) in whole months of 30.4375 days.
durations as (
    select
        c.cohort,
        c.cohort_start,
        'activation' as curve,
        f.first_won_on is not null as event,
        floor(datediff('day', c.joined_at, coalesce(f.first_won_on, meta.as_of)) / 30.4375) as months
    from cohort_partners as c
    cross join meta
    left join first_wins as f using (partner_id)
    union all
    select
        c.cohort,
        c.cohort_start,
        'survival',
        d.dormant_on is not null,
        floor(datediff('day', c.joined_at, coalesce(d.dormant_on, meta.as_of)) / 30.4375)
    from cohort_partners as c
    cross join meta
    left join first_dormancy as d using (partner_id)
),

grid as (
    select cohort, cohort_start, curve, count(*) as partners, cast(m.month as integer) as months_since_joining
    from durations, generate_series(0, 600) as m(month)
    group by cohort, cohort_start, curve, m.month
    having m.month <= max(months)
),

life_table as (
    select
        g.cohort,
        g.cohort_start,
        g.curve,
        g.partners,
        g.months_since_joining,
        count(*) filter (where d.months >= g.months_since_joining) as at_risk,
        count(*) filter (where d.months = g.months_since_joining and d.event) as events
    from grid as g
    inner join durations as d using (cohort, curve)
    group by g.cohort, g.cohort_start, g.curve, g.partners, g.months_since_joining
),

kaplan_meier as (
    select
        *,
        product(1 - events / at_risk) over (
            partition by cohort, curve order by months_since_joining rows between unbounded preceding and current row
        ) as not_yet
    from life_table
),

final as (
    select
        cohort,
        cohort_start,
        curve,
        partners,
        months_since_joining,
        at_risk,
        events,
        cast(case when curve = 'activation' then 1 - not_yet else not_yet end as double) as share
    from kaplan_meier
)

select cohort, cohort_start, curve, partners, months_since_joining, at_risk, events, share
from final
order by curve, cohort_start, months_since_joining
