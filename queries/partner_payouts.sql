-- The payouts made or owed to one partner.
-- Params:
--   $partner_id (varchar): the partner
-- Grain: one row per payout
with

final as (
    select
        payout_id,
        payout_type,
        period,
        cast(amount as decimal(18, 2)) as amount,
        status,
        paid_at,
        opportunity_id
    from payouts
    where partner_id = $partner_id
)

select payout_id, payout_type, period, amount, status, paid_at, opportunity_id
from final
order by period desc, payout_id
