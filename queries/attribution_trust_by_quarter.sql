-- How much partner revenue the CRM, deal registrations and touchpoints agree on, by fiscal quarter of the close.
-- Params:
--   $as_of (date, NULL = data_as_of): deals closed, registrations decided and touches made after this day do not count
--   $regions (varchar[], NULL = all): keep deals involving a partner in these regions
--   $tiers (varchar[], NULL = all): keep deals involving a partner in these tiers
--   $partner_types (varchar[], NULL = all): keep deals involving a partner of these types
--   $managers (varchar[], NULL = all): keep deals involving a partner of these managers
-- Grain: one row per fiscal quarter with partner revenue
-- Money: none
-- Scope: program
-- Stored: attribution_trust_by_quarter_stored (as of data_as_of, read by the runner)
--
-- Partner revenue: won deals naming a partner in at least one source: the CRM sourced partner,
-- the earliest approved registration, or a touchpoint on or before the close date. A deal is
--   agreed:      all three sources name a partner, the CRM and the registration name the same
--                one, and it has a touchpoint;
--   partial:     one or two sources name a partner and none contradicts another;
--   conflicting: the CRM and the registration name different partners, or either names a
--                partner with no touchpoint on a deal that has touchpoints.
with

meta as (
    select coalesce($as_of, max(case when key = 'data_as_of' then try_cast(value as date) end)) as as_of
    from load_meta
),

won as (
    select o.opportunity_id, cast(o.amount as decimal(18, 2)) as amount, o.close_date, o.sourced_partner_id
    from opportunities as o, meta
    where o.is_won and o.close_date <= meta.as_of
),

approved as (
    select r.opportunity_id, arg_min(r.partner_id, (r.registered_at, r.registration_id)) as partner_id
    from deal_registrations as r, meta
    where r.status = 'approved'
        and r.opportunity_id is not null
        and coalesce(cast(r.decided_at as date), cast(r.registered_at as date)) <= meta.as_of
    group by r.opportunity_id
),

touched as (
    select t.opportunity_id, list(distinct t.partner_id order by t.partner_id) as partners
    from touchpoints as t
    inner join won using (opportunity_id)
    where cast(t.occurred_at as date) <= won.close_date
    group by t.opportunity_id
),

sources as (
    select
        won.opportunity_id,
        won.amount,
        fiscal_quarter(won.close_date) as fiscal_quarter,
        won.sourced_partner_id as crm_partner,
        approved.partner_id as registration_partner,
        coalesce(touched.partners, []) as touch_partners
    from won
    left join approved using (opportunity_id)
    left join touched using (opportunity_id)
),

classified as (
    select
        *,
        case
            when (crm_partner is not null and registration_partner is not null and crm_partner != registration_partner)
                or (crm_partner is not null and len(touch_partners) > 0 and not list_contains(touch_partners, crm_partner))
                or (
                    registration_partner is not null
                    and len(touch_partners) > 0
                    and not list_contains(touch_partners, registration_partner)
                )
                then 'conflicting'
            when crm_partner is not null and registration_partner is not null and len(touch_partners) > 0 then 'agreed'
            else 'partial'
        end as agreement,
        list_distinct(
            list_concat(touch_partners, list_filter([crm_partner, registration_partner], lambda x: x is not null))
        ) as partners
    from sources
    where crm_partner is not null or registration_partner is not null or len(touch_partners) > 0
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
