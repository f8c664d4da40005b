-- Where the CRM, deal registrations, attributed credit and payouts disagree as of data_as_of: the ledger the build stored, filtered.
-- Params:
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner matches on any of its types)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per disagreement (see attribution_disagreements.sql)
-- Money: amount_at_stake, detail
-- Scope: partner
--
-- attribution_disagreements as of data_as_of (the same columns, rows and order): the build ran it
-- without filters into attribution_disagreements_stored; the filters apply to the row's partner.
with

ledger as (
    select
        row_number,
        kind,
        opportunity_id,
        partner_id,
        partner_name,
        partner_manager,
        payout_id,
        registration_id,
        other_partner_id,
        fiscal_quarter,
        amount_at_stake,
        detail
    from attribution_disagreements_stored
),

final as (
    select l.*
    from ledger as l
    inner join partners as p on p.partner_id = l.partner_id
    where ($regions is null or list_contains($regions, p.region))
        and ($tiers is null or list_contains($tiers, p.tier))
        and ($partner_types is null or len(list_intersect(p.partner_types, $partner_types)) > 0)
        and ($managers is null or list_contains($managers, p.partner_manager))
)

select
    kind,
    opportunity_id,
    partner_id,
    partner_name,
    partner_manager,
    payout_id,
    registration_id,
    other_partner_id,
    fiscal_quarter,
    amount_at_stake,
    detail
from final
order by row_number
