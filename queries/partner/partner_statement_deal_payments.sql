-- What was paid to one partner against each of some deals, as of data_as_of: paid payouts of the types that pay credit.
-- Params:
--   $partner_id (varchar): the partner
--   $opportunity_ids (varchar[]): the deals to look up
-- Grain: one row per deal looked up that exists
-- Money: paid
-- Scope: partner
--
-- "Paid": status paid, a payout type that pays credit (settings commission_plan.credit_payout_types,
-- default commission and referral_fee), paid (or, without a paid date, of a period) on or before
-- data_as_of. Accrued and approved payouts are recorded but not paid yet, so they do not count.
with

meta as (
    select
        max(case when key = 'data_as_of' then try_cast(value as date) end) as as_of,
        coalesce(
            cast(json_extract(max(case when key = 'settings_json' then value end), '$.commission_plan.credit_payout_types') as varchar[]),
            ['commission', 'referral_fee']
        ) as credit_payout_types
    from load_meta
),

paid as (
    select po.opportunity_id, sum(po.amount) as paid
    from payouts as po, meta
    where po.partner_id = $partner_id
        and list_contains($opportunity_ids, po.opportunity_id)
        and po.status = 'paid'
        and list_contains(meta.credit_payout_types, po.payout_type)
        and (meta.as_of is null or coalesce(po.paid_at, po.period) <= meta.as_of)
    group by po.opportunity_id
),

final as (
    select
        o.opportunity_id,
        o.account_name,
        cast(coalesce(paid.paid, 0) as decimal(18, 2)) as paid
    from opportunities as o
    left join paid using (opportunity_id)
    where list_contains($opportunity_ids, o.opportunity_id)
)

select opportunity_id, account_name, paid from final order by opportunity_id
