-- Do recent cohorts do better? Activation (first won partner deal) and survival (not yet dormant) by join quarter and months since joining, Kaplan-Meier.
-- Params:
--   $as_of (date, NULL = data_as_of): follow-up ends on this day; partners joined later are left out
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
-- Grain: one row per join quarter x curve (activation, survival) x months since joining
-- Money: none
-- Scope: program
with

meta as (
    select coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of
    from load_meta
),

cohort_partners as (
    select p.partner_id, p.joined_at, fiscal_quarter(p.joined_at) as cohort, fiscal_quarter_start(p.joined_at) as cohort_start
    from partners as p, meta
    where p.joined_at <= meta.as_of
        and partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
),

-- Logic --------------------------------------------------------------------------------------

-- The first won deal the partner was involved in, closed on or after joining (rollup_partner_first_wins.sql),
-- when it closed by as_of.
first_wins as (
    select w.partner_id, w.first_won_on
    from rollup_partner_first_wins as w
    cross join meta
    where w.first_won_on <= meta.as_of
),

-- Dormant from the first day of a gap of dormancy_days without activity, counting from joining:
-- rollup_partner_dormancy.sql gives the day the partner's first such gap is complete; as of
-- as_of the partner has turned dormant when that day is on or before it.
first_dormancy as (
    select d.partner_id, d.dormant_from as dormant_on
    from rollup_partner_dormancy as d
    cross join meta
    where d.dormant_from <= meta.as_of
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

cohort_sizes as (
    select cohort, cohort_start, curve, count(*) as partners, max(months) as max_months
    from durations
    group by cohort, cohort_start, curve
),

-- Months 0 .. the cohort's longest follow-up (at most 600).
grid as (
    select s.cohort, s.cohort_start, s.curve, s.partners, cast(m.month as integer) as months_since_joining
    from cohort_sizes as s, lateral (select unnest(generate_series(0, cast(least(s.max_months, 600) as bigint))) as month) as m
),

duration_counts as (
    select cohort, curve, months, count(*) as ended, count(*) filter (where event) as events
    from durations
    group by cohort, curve, months
),

-- At risk in month m: the cohort less those whose follow-up ended in an earlier month.
life_table as (
    select
        g.cohort,
        g.cohort_start,
        g.curve,
        g.partners,
        g.months_since_joining,
        cast(g.partners - coalesce(sum(c.ended) over (
            partition by g.cohort, g.curve order by g.months_since_joining rows between unbounded preceding and 1 preceding
        ), 0) as bigint) as at_risk,
        coalesce(c.events, 0) as events
    from grid as g
    left join duration_counts as c
        on c.cohort = g.cohort and c.curve = g.curve and c.months = g.months_since_joining
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
