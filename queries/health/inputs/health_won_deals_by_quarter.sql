-- Partner-attributed won deals per partner and fiscal quarter (the plan's attribution model): what the win model predicts.
-- Params: none
-- Grain: one row per partner x fiscal quarter with at least one credited won deal
-- Money: none
-- Scope: partner
with

meta as (
    select
        coalesce(json_extract_string(max(value) filter (where key = 'settings_json'), '$.commission_plan.model'), 'linear')
            as credit_model
    from load_meta
),

credit as (
    select c.partner_id, c.opportunity_id, c.credit, c.close_date
    from attribution_credit_default as c, meta as m
    where c.model = m.credit_model
),

-- Logic --------------------------------------------------------------------------------------

final as (
    select
        partner_id,
        fiscal_quarter_start(close_date) as quarter_start,
        count(distinct opportunity_id) as won_deals,
        cast(sum(credit) as decimal(18, 2)) as revenue
    from credit
    group by partner_id, fiscal_quarter_start(close_date)
)

select partner_id, quarter_start, won_deals, revenue
from final
order by partner_id, quarter_start
