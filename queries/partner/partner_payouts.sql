-- The payouts made or owed to one partner.
-- Params:
--   $partner_id (varchar): the partner
--   $managers (varchar[], NULL = all): the viewer's partner managers; another manager's partner gives no rows
-- Grain: one row per payout
-- Money: amount
-- Scope: partner
with

-- The partner, when it is one of the managers' (a partner lead sees only their own).
the_partner as (
    select partner_id from partners
    where partner_id = $partner_id and partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)
),

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
    where partner_id in (select partner_id from the_partner)
)

select payout_id, payout_type, period, amount, status, paid_at, opportunity_id
from final
order by period desc, payout_id
