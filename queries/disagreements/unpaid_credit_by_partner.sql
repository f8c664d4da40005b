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
        ) as lookback_days
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
)

-- Rates, payouts and what is owed: the macro unpaid_commission (queries/macros/unpaid_commission.sql).
select partner_id, commission_earned, commission_paid, unpaid_credit, unpaid_deals
from unpaid_commission('credit', $as_of)
order by partner_id
