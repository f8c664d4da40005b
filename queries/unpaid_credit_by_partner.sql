-- Commission owed on linear attribution credit (won deals closed by a date) and not yet paid, per partner.
-- Params:
--   $as_of (date, NULL = data_as_of): deals closed and payouts paid by this day
-- Grain: one row per partner with linear credit on a won deal
-- Money: commission_earned, commission_paid, unpaid_credit
-- Scope: partner
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        coalesce(
            cast(json_extract(max(value) filter (where key = 'settings_json'), '$.attribution.lookback_days') as integer), 365
        ) as lookback_days,
        coalesce(
            cast(json_extract(max(value) filter (where key = 'settings_json'), '$.commission_plan.default_rate') as double), 0.10
        ) as default_rate,
        coalesce(
            from_json(json_extract(max(value) filter (where key = 'settings_json'), '$.commission_plan.credit_payout_types'), '["VARCHAR"]'),
            ['commission', 'referral_fee']
        ) as credit_payout_types
    from load_meta
),

-- Linear credit (docs/design.md, Attribution): each eligible touchpoint of a won deal gets amount / n.
eligible as (
    select o.opportunity_id, o.amount, t.partner_id
    from opportunities as o
    inner join touchpoints as t using (opportunity_id)
    cross join meta
    where o.is_won
        and o.close_date <= meta.as_of
        and cast(t.occurred_at as date) <= o.close_date
        and datediff('day', cast(t.occurred_at as date), o.close_date) <= meta.lookback_days
),

credit as (
    select
        opportunity_id,
        partner_id,
        sum(amount) / any_value(touches) as credit
    from (select *, count(*) over (partition by opportunity_id) as touches from eligible)
    group by opportunity_id, partner_id
),

-- The commission rate of a partner: the most specific matching rule (partner type, tier), else the plan default.
-- Rules keyed on a touch type do not apply at this grain (opportunity x partner).
rates as (
    select
        p.partner_id,
        coalesce(
            (
                select r.rate
                from commission_rules as r
                where r.touch_type is null
                    and (r.partner_type is null or list_contains(p.partner_types, r.partner_type))
                    and (r.tier is null or r.tier = p.tier)
                order by (r.partner_type is not null)::integer + (r.tier is not null)::integer desc, r.rule_order
                limit 1
            ),
            meta.default_rate
        ) as rate
    from partners as p, meta
),

paid as (
    select partner_id, opportunity_id, sum(amount) as paid
    from payouts, meta
    where status = 'paid'
        and list_contains(meta.credit_payout_types, payout_type)
        and opportunity_id is not null
        and coalesce(paid_at, period) <= meta.as_of
    group by partner_id, opportunity_id
),

owed as (
    select
        c.partner_id,
        c.opportunity_id,
        c.credit * r.rate as commission,
        coalesce(p.paid, 0) as paid
    from credit as c
    inner join rates as r using (partner_id)
    left join paid as p using (partner_id, opportunity_id)
),

final as (
    select
        partner_id,
        cast(sum(commission) as decimal(18, 2)) as commission_earned,
        cast(sum(least(paid, commission)) as decimal(18, 2)) as commission_paid,
        cast(sum(greatest(commission - paid, 0)) as decimal(18, 2)) as unpaid_credit,
        count(*) filter (where commission - paid > 0.005) as unpaid_deals
    from owed
    group by partner_id
)

select partner_id, commission_earned, commission_paid, unpaid_credit, unpaid_deals
from final
order by partner_id
