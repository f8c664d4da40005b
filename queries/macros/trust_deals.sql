-- Each won deal naming a partner, as of a day: whether the CRM, its registration and its touchpoints agree, and the partners involved (attribution_trust_deals.sql, attribution_trust_by_quarter.sql).
-- Params:
--   on_day (date, NULL = data_as_of): deals closed, registrations decided and touches made after this day do not count
-- Grain: one row per won opportunity naming a partner in at least one source
--
-- Partner revenue: won deals naming a partner in at least one source: the CRM sourced partner,
-- the earliest approved registration, or a touchpoint on or before the close date. A deal is
--   agreed:      all three sources name a partner, the CRM and the registration name the same
--                one, and it has a touchpoint;
--   partial:     one or two sources name a partner and none contradicts another;
--   conflicting: the CRM and the registration name different partners, or either names a
--                partner with no touchpoint on a deal that has touchpoints.
create or replace macro trust_deals(on_day) as table
with

meta as (
    select coalesce(on_day, data_as_of) as as_of
    from (select max(case when key = 'data_as_of' then try_cast(value as date) end) as data_as_of from load_meta)
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
)

select opportunity_id, amount, fiscal_quarter, agreement, partners
from classified
