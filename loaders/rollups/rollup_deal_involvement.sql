-- Build-time rollup: every partner involved in a deal in the KPIs' sense (sourced partner, a touch on or before close, an approved registration), with the deal's columns copied in so readers need no join; ordered by close date.
-- Params: none
-- Grain: one row per opportunity x involved partner (opportunities in the extract only)
-- Money: none
-- Scope: partner
with

pairs as (
    select opportunity_id, partner_id, is_sourced from rollup_deal_partners where is_involved
),

deals as (
    select opportunity_id, amount, created_at, close_date, is_closed, is_won, deal_region, has_sourced from rollup_deals
),

-- Logic --------------------------------------------------------------------------------------

final as (
    select
        p.opportunity_id,
        p.partner_id,
        p.is_sourced,
        d.amount,
        d.created_at,
        d.close_date,
        d.is_closed,
        d.is_won,
        d.deal_region,
        d.has_sourced
    from pairs as p
    inner join deals as d using (opportunity_id)
)

select
    opportunity_id, partner_id, is_sourced, amount, created_at, close_date, is_closed, is_won, deal_region, has_sourced
from final
order by close_date, opportunity_id, partner_id
