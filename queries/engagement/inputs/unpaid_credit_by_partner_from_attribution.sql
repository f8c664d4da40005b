-- Commission owed on the precomputed linear credit (table attribution_credit_default) and not yet paid, per partner.
-- Params:
--   $as_of (date, NULL = data_as_of): deals closed and payouts paid by this day
-- Grain: one row per partner with linear credit on a won deal
-- Money: commission_earned, commission_paid, unpaid_credit
-- Scope: partner
with

meta as (
    select coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of
    from load_meta
),

-- Built at load time by the attribution step; only run when that table exists.
credit as (
    select c.opportunity_id, c.partner_id, sum(c.credit) as credit
    from attribution_credit_default as c, meta
    where c.model = 'linear' and c.close_date <= meta.as_of
    group by c.opportunity_id, c.partner_id
)

-- Rates, payouts and what is owed: the macro unpaid_commission (queries/macros/unpaid_commission.sql).
select partner_id, commission_earned, commission_paid, unpaid_credit, unpaid_deals
from unpaid_commission('credit', $as_of)
order by partner_id
