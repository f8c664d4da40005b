-- Which partners qualify for a higher or lower tier than the one they hold, why, and what their held tier changes in payouts.
-- Params:
--   $as_of (date, NULL = data_as_of): the trailing 12 months end on this day
--   $partner_id (varchar, NULL = every partner): only this partner
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): held tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per partner not terminated (rules from the settings, tier_rules: the lowest tier needs nothing, a higher tier without a rule is never reached)
-- Money: credit_12m, held_rate, qualified_rate, payout_difference
-- Scope: partner
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        max(value) filter (where key = 'settings_json') as settings_json
    from load_meta
),

trailing_year as (
    select as_of, cast(as_of - interval 12 month as date) as since, settings_json from meta
),

rules as (
    select unnest(
        from_json(
            json_extract(settings_json, '$.tier_rules'),
            '[{"tier":"VARCHAR","min_won_deals":"BIGINT","min_sourced_revenue":"DOUBLE","min_certifications":"BIGINT"}]'
        ),
        recursive := true
    )
    from trailing_year
),

plan as (
    select
        coalesce(cast(json_extract(settings_json, '$.commission_plan.default_rate') as double), 0.10) as default_rate,
        coalesce(json_extract_string(settings_json, '$.commission_plan.model'), 'linear') as model
    from trailing_year
),

ladder as (
    select
        t.tier,
        t.tier_rank,
        r.min_won_deals,
        r.min_sourced_revenue,
        coalesce(r.min_certifications, 0) as min_certifications,
        r.tier is not null or t.tier_rank = (select min(tier_rank) from tier_order) as judged
    from tier_order as t
    left join rules as r using (tier)
),

partner_rows as (
    select p.partner_id, p.partner_name, p.partner_types, p.tier, p.region, p.partner_manager, p.joined_at
    from partners as p
    where coalesce(p.status, 'active') <> 'terminated'
        and ($partner_id is null or p.partner_id = $partner_id)
        and partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
),

-- Won deals with their sourced partner (CRM, else an approved registration claimed as sourced), built once per build.
won_deals as (
    select d.opportunity_id, d.amount, d.close_date, d.sourced_partner_id
    from rollup_deals as d, trailing_year
    where d.is_won and d.close_date > trailing_year.since and d.close_date <= trailing_year.as_of
),

-- Partner-involved, as in the KPIs: a touchpoint on or before close, the sourced partner, or an approved
-- registration (rollup_deal_involvement.sql: the involved pairs with the deal's columns, ordered by close date).
deal_counts as (
    select i.partner_id, count(*) as won_deals
    from rollup_deal_involvement as i, trailing_year
    where i.is_won and i.close_date > trailing_year.since and i.close_date <= trailing_year.as_of
    group by i.partner_id
),

sourced as (
    select d.sourced_partner_id as partner_id, sum(d.amount) as sourced_revenue
    from won_deals as d
    where d.sourced_partner_id is not null
    group by all
),

-- A certification counts until a later certification_expired of the same name (detail) lapses it.
certification_events as (
    select
        c.partner_id,
        c.certification,
        sum(c.earned) as earned,
        sum(c.expired) as expired
    from rollup_certification_days as c, trailing_year
    where c.activity_date <= trailing_year.as_of
    group by all
),

certifications as (
    select partner_id, sum(greatest(earned - expired, 0)) as certifications
    from certification_events
    group by partner_id
),

credit as (
    select c.partner_id, sum(c.credit) as credit
    from attribution_credit_default as c, trailing_year, plan
    where c.model = plan.model and c.close_date > trailing_year.since and c.close_date <= trailing_year.as_of
    group by c.partner_id
),

standing as (
    select
        p.*,
        held.tier_rank as held_rank,
        held.judged as held_judged,
        coalesce(dc.won_deals, 0) as won_deals,
        cast(coalesce(s.sourced_revenue, 0) as decimal(18, 2)) as sourced_revenue,
        cast(coalesce(ce.certifications, 0) as bigint) as certifications,
        cast(coalesce(cr.credit, 0) as decimal(18, 2)) as credit
    from partner_rows as p
    left join ladder as held on held.tier = p.tier
    left join deal_counts as dc using (partner_id)
    left join sourced as s using (partner_id)
    left join certifications as ce using (partner_id)
    left join credit as cr using (partner_id)
),

checks as (
    select
        s.partner_id,
        l.tier,
        l.tier_rank,
        l.min_won_deals,
        l.min_sourced_revenue,
        l.min_certifications,
        l.judged and (
            (l.min_won_deals is null and l.min_sourced_revenue is null)
            or s.won_deals >= l.min_won_deals
            or s.sourced_revenue >= l.min_sourced_revenue
        ) as meets_business,
        s.certifications >= l.min_certifications as meets_certifications
    from standing as s
    cross join ladder as l
),

qualified as (
    select partner_id, arg_max(tier, tier_rank) as qualified_tier, max(tier_rank) as qualified_rank
    from checks
    where meets_business and meets_certifications
    group by partner_id
),

explained as (
    select
        c.partner_id,
        c.tier,
        concat_ws(
            '; ',
            case
                when c.min_won_deals is not null or c.min_sourced_revenue is not null then concat_ws(
                    ' or ',
                    case when c.min_won_deals is not null then format('{} won deal{} (needs {})', s.won_deals, case when s.won_deals = 1 then '' else 's' end, c.min_won_deals) end,
                    case
                        when c.min_sourced_revenue is not null
                            then format('${:,.0f} sourced (needs ${:,.0f})', cast(s.sourced_revenue as double), c.min_sourced_revenue)
                    end
                )
            end,
            case
                when c.min_certifications > 0
                    then format('{} certifications (needs {})', s.certifications, c.min_certifications)
            end
        ) as evidence,
        c.meets_business,
        c.meets_certifications
    from checks as c
    inner join standing as s using (partner_id)
    left join qualified as q using (partner_id)
    -- Only the evidence the reason quotes: for the held tier, and for a higher tier it qualifies for.
    where c.tier = s.tier or (c.tier = q.qualified_tier and q.qualified_rank > s.held_rank)
),

rates as (
    select
        s.partner_id,
        l.tier,
        coalesce(
            (
                select arg_max(r.rate, (r.tier is not null)::int * 2 + (r.partner_type is not null)::int * 1 - r.rule_order / 1e6)
                from commission_rules as r
                where r.touch_type is null
                    and (r.tier is null or r.tier = l.tier)
                    and (r.partner_type is null or list_contains(s.partner_types, r.partner_type))
            ),
            plan.default_rate
        ) as rate
    from standing as s
    cross join ladder as l
    cross join plan
    left join qualified as q using (partner_id)
    -- Only the held and the qualified tier's rates are shown.
    where l.tier = s.tier or l.tier = q.qualified_tier
),

final as (
    select
        s.partner_id,
        s.partner_name,
        s.partner_types,
        s.region,
        s.partner_manager,
        s.tier as held_tier,
        q.qualified_tier,
        case
            when s.held_rank is null then 'unknown tier'
            when not s.held_judged and q.qualified_rank < s.held_rank then 'not judged'
            when q.qualified_rank > s.held_rank then 'higher'
            when q.qualified_rank is null or q.qualified_rank < s.held_rank then 'lower'
            else 'as held'
        end as standing,
        s.won_deals as won_deals_12m,
        s.sourced_revenue as sourced_revenue_12m,
        s.certifications,
        case
            when s.held_rank is null then 'Tier ' || s.tier || ' is not in the settings'' tier order.'
            when not s.held_judged and q.qualified_rank < s.held_rank
                then 'Tier ' || s.tier || ' has no rule in the settings (tier_rules); the rules reach ' || q.qualified_tier || '.'
            when q.qualified_rank > s.held_rank then 'Qualifies for ' || q.qualified_tier || ': ' || eq.evidence || '.'
            when q.qualified_rank is null or q.qualified_rank < s.held_rank then 'Misses ' || s.tier || ': ' || eh.evidence
                || case
                    when not eh.meets_business and not eh.meets_certifications then ' (both short).'
                    when not eh.meets_business then ' (deals and revenue short).'
                    else ' (certifications short).'
                end
            else 'Meets ' || s.tier || coalesce(': ' || nullif(eh.evidence, ''), '') || '.'
        end as reason,
        s.credit as credit_12m,
        held_rate.rate as held_rate,
        qualified_rate.rate as qualified_rate,
        cast(s.credit * (held_rate.rate - qualified_rate.rate) as decimal(18, 2)) as payout_difference,
        s.held_rank,
        q.qualified_rank
    from standing as s
    left join qualified as q using (partner_id)
    left join explained as eq on eq.partner_id = s.partner_id and eq.tier = q.qualified_tier
    left join explained as eh on eh.partner_id = s.partner_id and eh.tier = s.tier
    left join rates as held_rate on held_rate.partner_id = s.partner_id and held_rate.tier = s.tier
    left join rates as qualified_rate on qualified_rate.partner_id = s.partner_id and qualified_rate.tier = q.qualified_tier
)

select
    partner_id,
    partner_name,
    partner_types,
    region,
    partner_manager,
    held_tier,
    qualified_tier,
    standing,
    won_deals_12m,
    sourced_revenue_12m,
    certifications,
    reason,
    credit_12m,
    held_rate,
    qualified_rate,
    payout_difference
from final
order by
    case standing when 'higher' then 1 when 'lower' then 2 when 'as held' then 4 else 3 end,
    abs(payout_difference) desc,
    partner_name
