-- Build-time rollup: each partner's first won deal it was involved in (KPI sense), closed on or after the day it joined; "first win by day X" is then this day when it is on or before X.
-- Params: none
-- Grain: one row per partner with such a win (partners of the partners extract only)
-- Money: none
-- Scope: partner
with

partners_joined as (
    select partner_id, joined_at from partners
),

won as (
    select partner_id, close_date from rollup_deal_involvement where is_won
),

-- Logic --------------------------------------------------------------------------------------

final as (
    select p.partner_id, min(w.close_date) as first_won_on
    from partners_joined as p
    inner join won as w on w.partner_id = p.partner_id and w.close_date >= p.joined_at
    group by p.partner_id
)

select partner_id, first_won_on
from final
order by partner_id
