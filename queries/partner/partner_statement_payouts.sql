-- One partner's payouts whose period falls in the statement's dates, with their status (a payout with no status is accrued).
-- Params:
--   $partner_id (varchar): the partner
--   $start_date (date, NULL = from the start): first payout period
--   $end_date (date, NULL = to the end): last payout period
-- Grain: one row per payout
-- Money: amount
-- Scope: partner
with

final as (
    select
        payout_id,
        payout_type,
        period,
        opportunity_id,
        coalesce(status, 'accrued') as status,
        paid_at,
        cast(amount as decimal(18, 2)) as amount
    from payouts
    where partner_id = $partner_id
        and ($start_date is null or period >= $start_date)
        and ($end_date is null or period <= $end_date)
)

select payout_id, payout_type, period, opportunity_id, status, paid_at, amount
from final
order by period, payout_id
