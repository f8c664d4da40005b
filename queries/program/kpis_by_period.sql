-- The Program health KPIs for any list of periods, optionally split by a partner dimension (the one KPI core behind program_kpis, kpi_trend_by_quarter and kpi_breakdown).
-- Params:
--   $period_starts (date[]): first day of each period
--   $period_ends (date[]): last day of each period, same length as $period_starts
--   $regions (varchar[], NULL = all): deal KPIs keep deals of these regions (the deal region, else the sourced partner region); partner KPIs keep partners of these regions
--   $tiers (varchar[], NULL = all): partners of these tiers count as partners (others neither partner nor direct)
--   $partner_types (varchar[], NULL = all): partners with one of these types count as partners
--   $managers (varchar[], NULL = all): partners managed by these partner managers count as partners
--   $dimension (varchar, NULL = no split): partner_type, tier, region or partner_manager, one group per value
--   $model (varchar, NULL = linear): attribution model of the partner-attributed revenue (cost of channel, ROI)
-- Grain: one row per period x group x KPI (value NULL and `needs` set when an extract it needs is absent)
-- Money: none
-- Scope: program
-- Stored: kpis_stored_by_period (every partner, linear model), or computed when it has no rows (a period not stored)
with

loaded as (
    select coalesce(list(table_name) filter (where status = 'loaded'), []) as tables from load_report
),

periods as (
    select
        cast(i as integer) as period_index,
        $period_starts[i] as period_start,
        $period_ends[i] as period_end
    from range(1, len($period_starts) + 1) as t (i)
),

partner_rows as (
    select
        partner_id,
        partner_types,
        tier,
        region,
        partner_manager,
        joined_at,
        case when status = 'terminated' then coalesce(terminated_at, date '1900-01-01') end as terminated_on,
        -- The region filter is kept apart: it keeps partners for the partner KPIs only (in_region); deal
        -- KPIs keep deals by the deal's region (closed_deals, group_deals), whatever the partners' regions.
        partner_in_scope(region, null, null, null, $regions, null, null, null) as in_region
    from partners
    where partner_in_scope(null, tier, partner_types, partner_manager, null, $tiers, $partner_types, $managers)
),

-- Each partner's group under the dimension (rollup_partner_groups.sql: one per partner type, tier,
-- region, partner manager, or 'All partners').
partner_groups as materialized (
    select p.partner_id, g.group_name, p.tier, p.in_region, p.joined_at, p.terminated_on
    from partner_rows as p
    inner join rollup_partner_groups as g
        on g.partner_id = p.partner_id and g.dimension = coalesce($dimension, 'all')
    where $dimension is distinct from 'partner_type' or $partner_types is null
        or list_contains($partner_types, g.group_name)
),

groups as (
    select distinct group_name from partner_groups
    union
    select 'All partners' where $dimension is null
),

-- The days any period covers.
span as (
    select min(period_start) as first_day, max(period_end) as last_day from periods
),

-- Every day of every period, so events meet their periods through an equality join on the day
-- (periods may overlap: a day in two periods counts in both).
period_days as materialized (
    select p.period_index, cast(unnest(generate_series(p.period_start, p.period_end, interval 1 day)) as date) as day_on
    from periods as p
),

-- Each deal's amount, dates and partner involvement, built once per build (rollup_deals.sql,
-- ordered by close date); deal KPIs keep deals of the selected regions.
closed_deals as (
    select
        pd.period_index,
        d.amount,
        d.is_won,
        d.has_partner,
        d.close_date - d.created_at as cycle_days
    from rollup_deals as d
    inner join period_days as pd on pd.day_on = d.close_date
    where d.is_closed and ($regions is null or list_contains($regions, d.deal_region))
),

-- A deal belongs to a group when one of its partner-involved partners (a touchpoint on or before
-- close, the sourced partner, or an approved registration) is in the group; sourced_here when the
-- group holds its sourced partner. With every partner counted (no partner filter) this is built
-- once per build (rollup_deal_groups.sql); otherwise it is grouped here from the deal x partner
-- pairs (rollup_deal_involvement.sql) by the same macro, deals_by_group. Only one of the two
-- branches runs.
group_members as (
    select coalesce($dimension, 'all') as dimension, group_name, partner_id from partner_groups
),

deal_groups as (
    select g.* exclude (dimension)
    from rollup_deal_groups as g
    where g.dimension = coalesce($dimension, 'all') and $tiers is null and $partner_types is null and $managers is null
    union all
    select g.* exclude (dimension)
    from deals_by_group('group_members', 'rollup_deal_involvement') as g
    cross join span
    where not ($tiers is null and $partner_types is null and $managers is null)
        and (g.close_date between span.first_day and span.last_day or g.created_at between span.first_day and span.last_day)
),

group_deals as (
    select * from deal_groups where $regions is null or list_contains($regions, deal_region)
),

closed_group_deals as (
    select pd.period_index, d.group_name, d.sourced_here, d.amount, d.is_won, d.has_sourced, d.close_date - d.created_at as cycle_days
    from group_deals as d
    inner join period_days as pd on pd.day_on = d.close_date
    where d.is_closed
),

-- Sourced pipeline counts the deals created in the period.
sourced_pipeline_measures as (
    select pd.period_index, d.group_name, sum(d.amount) as sourced_pipeline
    from group_deals as d
    inner join period_days as pd on pd.day_on = d.created_at
    where d.sourced_here
    group by all
),

closed_group_measures as (
    select
        period_index,
        group_name,
        sum(amount) filter (where is_won and sourced_here) as sourced_revenue,
        sum(amount) filter (where is_won and not has_sourced) as influenced_revenue,
        count(*) filter (where is_won) as won,
        count(*) as closed,
        avg(amount) filter (where is_won) as deal_size,
        median(cycle_days) filter (where is_won) as cycle_days
    from closed_group_deals
    group by all
),

all_deal_measures as (
    select
        period_index,
        sum(amount) filter (where is_won) as revenue,
        count(*) filter (where is_won) as won,
        count(*) as closed,
        avg(amount) filter (where is_won) as deal_size,
        median(cycle_days) filter (where is_won) as cycle_days,
        count(*) filter (where is_won and not has_partner) as direct_won,
        count(*) filter (where not has_partner) as direct_closed,
        avg(amount) filter (where is_won and not has_partner) as direct_deal_size,
        median(cycle_days) filter (where is_won and not has_partner) as direct_cycle_days
    from closed_deals
    group by period_index
),

-- Partner-level KPIs keep partners of the selected regions.
partner_periods as materialized (
    select p.period_index, p.period_start, p.period_end, g.*
    from periods as p
    inner join partner_groups as g
        on g.in_region and g.joined_at <= p.period_end
        and (g.terminated_on is null or g.terminated_on > p.period_end)
),

-- Active on the period's last day: inside one of the partner's active spells (rollup_partner_active_spells.sql:
-- an activity other than portal_login, or a touchpoint, in the 90 days up to the day).
activity_measures as (
    select
        pp.period_index,
        pp.group_name,
        count(*) as partners,
        count(s.partner_id) as active
    from partner_periods as pp
    left join rollup_partner_active_spells as s
        on s.partner_id = pp.partner_id and pp.period_end between s.active_from and s.active_through
    group by all
),

-- Joined in the 12 months up to the period's end; the first win (rollup_partner_first_wins.sql:
-- the first won deal the partner was involved in, closed on or after joining) counts when it
-- closed by the period's end.
newcomers as (
    select
        pp.period_index,
        pp.group_name,
        pp.partner_id,
        min(case when w.first_won_on <= pp.period_end then w.first_won_on - pp.joined_at end) as days_to_first_win
    from partner_periods as pp
    left join rollup_partner_first_wins as w on w.partner_id = pp.partner_id
    where pp.joined_at > cast(pp.period_end - interval 12 month as date)
    group by all
),

activation_measures as (
    select
        period_index,
        group_name,
        count(*) as joined,
        count(*) filter (where days_to_first_win <= 180) as activated,
        median(days_to_first_win) as median_days_to_first_win
    from newcomers
    group by all
),

-- Registrations with their outcome and conflict flag, built once per build (rollup_registrations.sql).
registration_measures as (
    select
        pd.period_index,
        g.group_name,
        count(*) as submitted,
        count(*) filter (where r.status in ('approved', 'rejected', 'expired')) as outcomes,
        count(*) filter (where r.status = 'approved') as approved,
        median(r.days_to_decision) filter (where r.days_to_decision is not null and r.status in ('approved', 'rejected'))
            as days_to_decision,
        count(*) filter (where r.is_conflicted) as conflicted
    from rollup_registrations as r
    inner join period_days as pd on pd.day_on = r.registered_on
    inner join partner_groups as g on g.partner_id = r.partner_id and g.in_region
    group by all
),

payout_measures as (
    select pd.period_index, g.group_name, sum(po.amount) as payouts
    from payouts as po
    inner join period_days as pd on pd.day_on = po.period
    inner join partner_groups as g on g.partner_id = po.partner_id and g.in_region
    where po.status is null or po.status <> 'clawed_back'
    group by all
),

attributed_measures as (
    select pd.period_index, g.group_name, sum(c.credit) as attributed
    from attribution_credit_default as c
    inner join period_days as pd on pd.day_on = c.close_date
    inner join partner_groups as g on g.partner_id = c.partner_id and g.in_region
    where c.model = coalesce($model, 'linear')
    group by all
),

cells as (
    select p.period_index, g.group_name
    from periods as p
    cross join groups as g
),

tier_measures as (
    select c.period_index, c.group_name, t.tier, t.tier_rank, count(pp.partner_id) as partners
    from cells as c
    cross join (
        select tier, tier_rank from tier_order
        union
        select distinct tier, 99 from partners where tier not in (select tier from tier_order)
    ) as t
    left join partner_periods as pp
        on pp.tier = t.tier and pp.period_index = c.period_index and pp.group_name = c.group_name
    group by all
),

measures as (
    select
        c.period_index,
        c.group_name,
        am.partners,
        am.active,
        act.joined,
        act.activated,
        act.median_days_to_first_win,
        sp.sourced_pipeline,
        pd.sourced_revenue,
        pd.influenced_revenue,
        pd.won as partner_won,
        pd.closed as partner_closed,
        pd.deal_size as partner_deal_size,
        pd.cycle_days as partner_cycle_days,
        ad.revenue,
        ad.won,
        ad.closed,
        ad.deal_size,
        ad.cycle_days,
        ad.direct_won,
        ad.direct_closed,
        ad.direct_deal_size,
        ad.direct_cycle_days,
        po.payouts,
        cr.attributed,
        rm.submitted,
        rm.outcomes,
        rm.approved,
        rm.days_to_decision,
        rm.conflicted
    from cells as c
    left join activity_measures as am using (period_index, group_name)
    left join activation_measures as act using (period_index, group_name)
    left join sourced_pipeline_measures as sp using (period_index, group_name)
    left join closed_group_measures as pd using (period_index, group_name)
    left join all_deal_measures as ad using (period_index)
    left join payout_measures as po using (period_index, group_name)
    left join attributed_measures as cr using (period_index, group_name)
    left join registration_measures as rm using (period_index, group_name)
),

kpi_values as (
    select
        m.period_index,
        m.group_name,
        k.kpi,
        k.sort_order,
        k.value,
        k.partner_value,
        k.direct_value,
        k.requires
    from measures as m
    cross join lateral (
        values
            (1, 'active_partners', cast(coalesce(m.active, 0) as double), null::double, null::double,
                ['partners', 'partner_activities|touchpoints']),
            (2, 'active_partner_rate', m.active / nullif(m.partners, 0), null, null,
                ['partners', 'partner_activities|touchpoints']),
            (3, 'activation_rate', m.activated / nullif(m.joined, 0), null, null, ['partners', 'opportunities']),
            (4, 'median_days_to_first_win', m.median_days_to_first_win, null, null, ['partners', 'opportunities']),
            (5, 'sourced_pipeline', coalesce(m.sourced_pipeline, 0), null, null, ['partners', 'opportunities']),
            (6, 'sourced_revenue', coalesce(m.sourced_revenue, 0), null, null, ['partners', 'opportunities']),
            (7, 'influenced_revenue', coalesce(m.influenced_revenue, 0), null, null, ['partners', 'opportunities']),
            (8, 'partner_revenue_share',
                (coalesce(m.sourced_revenue, 0) + coalesce(m.influenced_revenue, 0)) / nullif(m.revenue, 0), null, null,
                ['partners', 'opportunities']),
            (9, 'win_rate', m.won / nullif(m.closed, 0), m.partner_won / nullif(m.partner_closed, 0),
                m.direct_won / nullif(m.direct_closed, 0), ['opportunities']),
            (10, 'avg_deal_size', m.deal_size, m.partner_deal_size, m.direct_deal_size, ['opportunities']),
            (11, 'median_cycle_days', m.cycle_days, m.partner_cycle_days, m.direct_cycle_days, ['opportunities']),
            (12, 'cost_of_channel', coalesce(m.payouts, 0) / nullif(m.attributed, 0), null, null,
                ['partners', 'opportunities', 'payouts']),
            (13, 'partner_roi', m.attributed / nullif(m.payouts, 0), null, null, ['partners', 'opportunities', 'payouts']),
            (14, 'registration_approval_rate', m.approved / nullif(m.outcomes, 0), null, null,
                ['partners', 'deal_registrations']),
            (15, 'registration_days_to_decision', m.days_to_decision, null, null, ['partners', 'deal_registrations']),
            (16, 'registration_conflict_rate', m.conflicted / nullif(m.submitted, 0), null, null,
                ['partners', 'deal_registrations'])
    ) as k (sort_order, kpi, value, partner_value, direct_value, requires)
    union all
    select
        tm.period_index,
        tm.group_name,
        'tier_' || tm.tier,
        100 + tm.tier_rank,
        tm.partners,
        null,
        null,
        ['partners']
    from tier_measures as tm
),

with_needs as (
    select
        v.*,
        nullif(array_to_string(list_filter(
            v.requires,
            lambda req: not list_has_any(loaded.tables, string_split(req, '|'))
        ), ', '), '') as needs_text,
        not list_contains(loaded.tables, 'partners') as partners_absent
    from kpi_values as v
    cross join loaded
),

final as (
    select
        period_index,
        group_name,
        kpi,
        sort_order,
        case when needs_text is null then value end as value,
        case when needs_text is null and not partners_absent then partner_value end as partner_value,
        case when needs_text is null and not partners_absent then direct_value end as direct_value,
        replace(needs_text, '|', ' or ') as needs
    from with_needs
)

select period_index, group_name, kpi, sort_order, value, partner_value, direct_value, needs
from final
order by period_index, group_name, sort_order, kpi
