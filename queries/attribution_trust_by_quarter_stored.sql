-- How much partner revenue the sources agree on, by fiscal quarter of the close, as of data_as_of: from the deals the build classified.
-- Params:
--   $regions (varchar[], NULL = all): keep deals involving a partner in these regions
--   $tiers (varchar[], NULL = all): keep deals involving a partner in these tiers
--   $partner_types (varchar[], NULL = all): keep deals involving a partner of these types
--   $managers (varchar[], NULL = all): keep deals involving a partner of these managers
-- Grain: one row per fiscal quarter with partner revenue
-- Money: none
-- Scope: program
--
-- attribution_trust_by_quarter as of data_as_of (the same columns, rows and order), summing
-- attribution_trust_deals_stored (attribution_trust_deals.sql, stored at build time).
with

classified as (
    select opportunity_id, amount, fiscal_quarter, agreement, partners
    from attribution_trust_deals_stored
),

partners_in_scope as (
    select partner_id
    from partners as p
    where ($regions is null or list_contains($regions, p.region))
        and ($tiers is null or list_contains($tiers, p.tier))
        and ($partner_types is null or len(list_intersect(p.partner_types, $partner_types)) > 0)
        and ($managers is null or list_contains($managers, p.partner_manager))
),

deals_in_scope as (
    select distinct involved.opportunity_id
    from (select opportunity_id, unnest(partners) as partner_id from classified) as involved
    inner join partners_in_scope using (partner_id)
),

in_scope as (
    select classified.*
    from classified
    inner join deals_in_scope using (opportunity_id)
),

final as (
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
from final
order by fiscal_quarter
