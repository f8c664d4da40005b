-- How much partner revenue the sources agree on, by fiscal quarter of the close, from classified deals (trust_deals, or the rows the build stored of it): attribution_trust_by_quarter.sql and its stored reader.
-- Params:
--   deals_table (varchar): the name of a table or CTE with trust_deals' columns (opportunity_id, amount, fiscal_quarter, agreement, partners)
--   keep_regions, keep_tiers, keep_types, keep_managers (varchar[], NULL = all): keep deals involving a partner that passes these filters
-- Grain: one row per fiscal quarter with partner revenue, in quarter order
create or replace macro trust_by_quarter(deals_table, keep_regions, keep_tiers, keep_types, keep_managers) as table
with

trusted as (
    select opportunity_id, amount, fiscal_quarter, agreement, partners
    from query_table(deals_table)
),

deals_in_scope as (
    select distinct involved.opportunity_id
    from (select opportunity_id, unnest(partners) as partner_id from trusted) as involved
    inner join partners as p using (partner_id)
    where partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, keep_regions, keep_tiers, keep_types, keep_managers)
),

in_scope as (
    select trusted.*
    from trusted
    inner join deals_in_scope using (opportunity_id)
),

quarters as (
    select
        fiscal_quarter,
        count(*) as partner_deals,
        cast(sum(amount) as decimal(18, 2)) as partner_revenue,
        cast(coalesce(sum(amount) filter (where agreement = 'agreed'), 0) as decimal(18, 2)) as agreed_revenue,
        cast(coalesce(sum(amount) filter (where agreement = 'partial'), 0) as decimal(18, 2)) as partial_revenue,
        cast(coalesce(sum(amount) filter (where agreement = 'conflicting'), 0) as decimal(18, 2)) as conflicting_revenue
    from in_scope
    group by fiscal_quarter
)

select
    fiscal_quarter,
    partner_deals,
    partner_revenue,
    agreed_revenue,
    partial_revenue,
    conflicting_revenue,
    cast(agreed_revenue / nullif(partner_revenue, 0) as double) as agreed_share,
    cast(conflicting_revenue / nullif(partner_revenue, 0) as double) as conflicting_share
from quarters
order by fiscal_quarter
