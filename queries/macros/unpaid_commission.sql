-- Commission owed on partners' credit and not yet paid, per partner, as of a day: unpaid_credit_by_partner.sql (linear credit computed) and unpaid_credit_by_partner_from_attribution.sql (the credit the build stored).
-- Params:
--   credit_table (varchar): the name of a table or CTE with columns opportunity_id, partner_id, credit (won deals closed by the day)
--   on_day (date, NULL = data_as_of): payouts paid by this day count as paid
-- Grain: one row per partner with credit, in partner order
create or replace macro unpaid_commission(credit_table, on_day) as table
with

plan as (
    select coalesce(on_day, data_as_of) as as_of, default_rate, credit_payout_types
    from (
        select
            cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date) as data_as_of,
            coalesce(
                cast(json_extract(max(value) filter (where key = 'settings_json'), '$.commission_plan.default_rate') as double),
                0.10
            ) as default_rate,
            coalesce(
                from_json(
                    json_extract(max(value) filter (where key = 'settings_json'), '$.commission_plan.credit_payout_types'),
                    '["VARCHAR"]'
                ),
                ['commission', 'referral_fee']
            ) as credit_payout_types
        from load_meta
    )
),

credited as (
    select opportunity_id, partner_id, credit
    from query_table(credit_table)
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
            plan.default_rate
        ) as rate
    from partners as p, plan
),

paid as (
    select partner_id, opportunity_id, sum(amount) as paid
    from payouts, plan
    where status = 'paid'
        and list_contains(plan.credit_payout_types, payout_type)
        and opportunity_id is not null
        and coalesce(paid_at, period) <= plan.as_of
    group by partner_id, opportunity_id
),

owed as (
    select
        c.partner_id,
        c.opportunity_id,
        -- In decimals: a float product summed in parallel lands on either side of a half cent, run to run.
        cast(c.credit as decimal(18, 2)) * cast(r.rate as decimal(9, 6)) as commission,
        coalesce(p.paid, 0) as paid
    from credited as c
    inner join rates as r using (partner_id)
    left join paid as p using (partner_id, opportunity_id)
),

by_partner as (
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
from by_partner
order by partner_id
