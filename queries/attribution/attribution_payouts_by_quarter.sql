-- Payouts recorded per fiscal quarter of their period, by status (the forward payout liability as booked).
-- Params:
--   $start_date (date, NULL = from the start): first payout period
--   $end_date (date, NULL = to the end): last payout period
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner of any of them)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per fiscal quarter
-- Money: accrued, approved, paid, clawed_back
-- Scope: program
with

payouts_kept as (
    select po.period, po.amount, coalesce(po.status, 'accrued') as status
    from payouts as po
    inner join partners as p on p.partner_id = po.partner_id
    where ($start_date is null or po.period >= $start_date)
        and ($end_date is null or po.period <= $end_date)
        and partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
),

final as (
    select
        fiscal_quarter(period) as fiscal_quarter,
        cast(coalesce(sum(amount) filter (where status = 'accrued'), 0) as decimal(18, 2)) as accrued,
        cast(coalesce(sum(amount) filter (where status = 'approved'), 0) as decimal(18, 2)) as approved,
        cast(coalesce(sum(amount) filter (where status = 'paid'), 0) as decimal(18, 2)) as paid,
        cast(coalesce(sum(amount) filter (where status = 'clawed_back'), 0) as decimal(18, 2)) as clawed_back
    from payouts_kept
    group by fiscal_quarter(period)
)

select fiscal_quarter, accrued, approved, paid, clawed_back from final order by fiscal_quarter
