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
        ($regions is null or list_contains($regions, region)) as in_region
    from partners
    where ($tiers is null or list_contains($tiers, tier))
        and ($partner_types is null or len(list_intersect(partner_types, $partner_types)) > 0)
        and ($managers is null or list_contains($managers, partner_manager))
),

partner_groups as materialized (
    select partner_id, group_name, tier, in_region, joined_at, terminated_on
    from (
        select
            *,
            unnest(case $dimension
                when 'partner_type' then partner_types
                when 'tier' then [tier]
                when 'region' then [coalesce(region, '(none)')]
                when 'partner_manager' then [coalesce(partner_manager, '(none)')]
                else ['All partners']
            end) as group_name
        from partner_rows
    )
    where $dimension is distinct from 'partner_type' or $partner_types is null
        or list_contains($partner_types, group_name)
),

groups as (
    select distinct group_name from partner_groups
    union
    select 'All partners' where $dimension is null
),

-- Deals a period can see: created or closed in the span, or won in the year before it (activation).
span as (
    select min(period_start) as first_start, max(period_end) as last_end from periods
),

deals as materialized (
    select
        o.opportunity_id,
        cast(o.amount as decimal(18, 2)) as amount,
        o.created_at,
        o.close_date,
        coalesce(o.is_closed, false) as is_closed,
        coalesce(o.is_won, false) as is_won,
        o.sourced_partner_id,
        coalesce(o.region, sp.region) as deal_region
    from opportunities as o
    cross join span
    left join partners as sp on sp.partner_id = o.sourced_partner_id
    where o.created_at between span.first_start and span.last_end
        or o.close_date between span.first_start - 366 and span.last_end
),

approved_registrations as (
    select partner_id, opportunity_id, claimed_role, registered_at
    from deal_registrations
    where status = 'approved' and opportunity_id is not null
),

deal_sourced as (
    select
        d.opportunity_id,
        coalesce(
            d.sourced_partner_id,
            (
                select arg_min(r.partner_id, r.registered_at)
                from approved_registrations as r
                where r.opportunity_id = d.opportunity_id and r.claimed_role = 'sourced'
            )
        ) as sourced_partner_id
    from deals as d
),

-- Partner-involved: a touchpoint on or before close, the sourced partner, or an approved registration.
involvement as materialized (
    select t.opportunity_id, t.partner_id
    from touchpoints as t
    inner join deals as d using (opportunity_id)
    where cast(t.occurred_at as date) <= d.close_date
    union
    select opportunity_id, sourced_partner_id from deal_sourced where sourced_partner_id is not null
    union
    select opportunity_id, partner_id from approved_registrations
),

deal_flags as materialized (
    select
        d.*,
        s.sourced_partner_id is not null as has_sourced,
        exists (select 1 from involvement as i where i.opportunity_id = d.opportunity_id) as has_partner
    from deals as d
    inner join deal_sourced as s using (opportunity_id)
    where $regions is null or list_contains($regions, d.deal_region)
),

deal_periods as materialized (
    select
        p.period_index,
        f.*,
        f.created_at between p.period_start and p.period_end as created_in,
        f.is_closed and f.close_date between p.period_start and p.period_end as closed_in
    from periods as p
    inner join deal_flags as f
        on f.created_at between p.period_start and p.period_end
        or f.close_date between p.period_start and p.period_end
),

deal_groups as (
    select distinct i.opportunity_id, g.group_name, bool_or(s.sourced_partner_id = i.partner_id) as sourced_here
    from involvement as i
    inner join partner_groups as g using (partner_id)
    inner join deal_sourced as s using (opportunity_id)
    group by i.opportunity_id, g.group_name
),

partner_deal_measures as (
    select
        dp.period_index,
        dg.group_name,
        sum(dp.amount) filter (where dp.created_in and dg.sourced_here) as sourced_pipeline,
        sum(dp.amount) filter (where dp.closed_in and dp.is_won and dg.sourced_here) as sourced_revenue,
        sum(dp.amount) filter (where dp.closed_in and dp.is_won and not dp.has_sourced) as influenced_revenue,
        count(*) filter (where dp.closed_in and dp.is_won) as won,
        count(*) filter (where dp.closed_in) as closed,
        avg(dp.amount) filter (where dp.closed_in and dp.is_won) as deal_size,
        median(dp.close_date - dp.created_at) filter (where dp.closed_in and dp.is_won) as cycle_days
    from deal_periods as dp
    inner join deal_groups as dg using (opportunity_id)
    group by all
),

all_deal_measures as (
    select
        period_index,
        sum(amount) filter (where closed_in and is_won) as revenue,
        count(*) filter (where closed_in and is_won) as won,
        count(*) filter (where closed_in) as closed,
        avg(amount) filter (where closed_in and is_won) as deal_size,
        median(close_date - created_at) filter (where closed_in and is_won) as cycle_days,
        count(*) filter (where closed_in and is_won and not has_partner) as direct_won,
        count(*) filter (where closed_in and not has_partner) as direct_closed,
        avg(amount) filter (where closed_in and is_won and not has_partner) as direct_deal_size,
        median(close_date - created_at) filter (where closed_in and is_won and not has_partner) as direct_cycle_days
    from deal_periods
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

engagement_events as (
    select partner_id, occurred_at from partner_activities where activity_type <> 'portal_login'
    union all
    select partner_id, occurred_at from touchpoints
),

active_partners as (
    select distinct p.period_index, e.partner_id
    from periods as p
    inner join engagement_events as e
        on e.occurred_at >= p.period_end - 89 and e.occurred_at < p.period_end + 1
),

activity_measures as (
    select
        pp.period_index,
        pp.group_name,
        count(*) as partners,
        count(a.partner_id) as active
    from partner_periods as pp
    left join active_partners as a using (period_index, partner_id)
    group by all
),

partner_wins as (
    select i.partner_id, d.close_date
    from involvement as i
    inner join deals as d using (opportunity_id)
    where d.is_won
),

newcomers as (
    select
        pp.period_index,
        pp.group_name,
        pp.partner_id,
        min(w.close_date - pp.joined_at) as days_to_first_win
    from partner_periods as pp
    left join partner_wins as w
        on w.partner_id = pp.partner_id and w.close_date >= pp.joined_at and w.close_date <= pp.period_end
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

registration_keys as (
    select
        r.registration_id,
        r.partner_id,
        r.opportunity_id,
        nullif(lower(trim(coalesce(r.account_name, o.account_name))), '') as account_key
    from deal_registrations as r
    left join opportunities as o using (opportunity_id)
),

contested_opportunities as (
    select opportunity_id from registration_keys
    where opportunity_id is not null
    group by opportunity_id
    having count(distinct partner_id) >= 2
),

contested_accounts as (
    select account_key from registration_keys
    where account_key is not null
    group by account_key
    having count(distinct partner_id) >= 2
),

conflicts as (
    select registration_id from registration_keys
    where opportunity_id in (select opportunity_id from contested_opportunities)
        or account_key in (select account_key from contested_accounts)
),

registration_measures as (
    select
        p.period_index,
        g.group_name,
        count(*) as submitted,
        count(*) filter (where r.status in ('approved', 'rejected', 'expired')) as outcomes,
        count(*) filter (where r.status = 'approved') as approved,
        median(date_diff('day', cast(r.registered_at as date), cast(r.decided_at as date)))
            filter (where r.decided_at is not null and r.status in ('approved', 'rejected')) as days_to_decision,
        count(c.registration_id) as conflicted
    from periods as p
    inner join deal_registrations as r on cast(r.registered_at as date) between p.period_start and p.period_end
    inner join partner_groups as g on g.partner_id = r.partner_id and g.in_region
    left join conflicts as c using (registration_id)
    group by all
),

payout_measures as (
    select p.period_index, g.group_name, sum(po.amount) as payouts
    from periods as p
    inner join payouts as po on po.period between p.period_start and p.period_end
    inner join partner_groups as g on g.partner_id = po.partner_id and g.in_region
    where po.status is null or po.status <> 'clawed_back'
    group by all
),

attributed_measures as (
    select p.period_index, g.group_name, sum(c.credit) as attributed
    from periods as p
    inner join attribution_credit_default as c on c.close_date between p.period_start and p.period_end
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
        pd.sourced_pipeline,
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
    left join partner_deal_measures as pd using (period_index, group_name)
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
order by period_index, group_name, sort_order
