-- Build-time rollup: every partner a deal names (CRM sourced partner, a touchpoint, an approved registration), with the dates that decide "involved as of a day" (touches and registrations on any day: consumers filter them).
-- Params: none
-- Grain: one row per opportunity x partner named by at least one source (opportunities in the extract only); touch_types = the pair's distinct touch types on any day (NULL without touches)
-- Money: none
-- Scope: partner
with

deals as (
    select opportunity_id, sourced_partner_id, close_date from opportunities
),

approved_registrations as (
    select r.opportunity_id, r.partner_id, r.claimed_role, r.registered_at
    from deal_registrations as r
    where r.status = 'approved' and r.opportunity_id is not null
),

-- Logic --------------------------------------------------------------------------------------

-- The deal's sourced partner: the CRM field, else the earliest approved registration claimed as sourced.
registration_sourced as (
    select opportunity_id, arg_min(partner_id, registered_at) as sourced_partner_id
    from approved_registrations
    where claimed_role = 'sourced'
    group by opportunity_id
),

-- The earliest touch is enough: "a touch on or before X" holds exactly when the earliest one is.
touches as (
    select
        t.opportunity_id,
        t.partner_id,
        min(cast(t.occurred_at as date)) as first_touch_on,
        list(distinct t.touch_type order by t.touch_type) as touch_types
    from touchpoints as t
    inner join deals as d using (opportunity_id)
    group by t.opportunity_id, t.partner_id
),

registrations as (
    select r.opportunity_id, r.partner_id, min(cast(r.registered_at as date)) as first_approved_registration_on
    from approved_registrations as r
    inner join deals as d using (opportunity_id)
    group by r.opportunity_id, r.partner_id
),

pairs as (
    select opportunity_id, sourced_partner_id as partner_id from deals where sourced_partner_id is not null
    union
    select opportunity_id, partner_id from touches
    union
    select opportunity_id, partner_id from registrations
),

final as (
    select
        p.opportunity_id,
        p.partner_id,
        coalesce(d.sourced_partner_id = p.partner_id, false) as is_crm_sourced,
        coalesce(coalesce(d.sourced_partner_id, rs.sourced_partner_id) = p.partner_id, false) as is_sourced,
        t.first_touch_on,
        t.touch_types,
        r.first_approved_registration_on,
        -- Partner-involved as the Program health KPIs count it (not "as of" a day): the sourced
        -- partner, a touch on or before close, or an approved registration.
        coalesce(
            coalesce(coalesce(d.sourced_partner_id, rs.sourced_partner_id) = p.partner_id, false)
            or t.first_touch_on <= d.close_date
            or r.first_approved_registration_on is not null,
            false
        ) as is_involved
    from pairs as p
    inner join deals as d using (opportunity_id)
    left join registration_sourced as rs using (opportunity_id)
    left join touches as t using (opportunity_id, partner_id)
    left join registrations as r using (opportunity_id, partner_id)
)

select
    opportunity_id, partner_id, is_crm_sourced, is_sourced, is_involved, first_touch_on, touch_types,
    first_approved_registration_on
from final
order by opportunity_id, partner_id
