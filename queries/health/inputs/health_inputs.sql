-- The raw inputs of the partner health score per partner as of a date: revenue, pipeline, enablement, relationship, history.
-- Params:
--   $as_of (date, NULL = data_as_of): the day to score on; events after it are ignored
-- Grain: one row per partner joined by $as_of and not terminated by then (all partners: the ranking population)
-- Money: none
-- Scope: partner
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        coalesce(json_extract_string(max(value) filter (where key = 'settings_json'), '$.commission_plan.model'), 'linear')
            as credit_model
    from load_meta
),

population as (
    select
        p.partner_id,
        p.partner_name,
        p.partner_manager,
        p.region,
        p.tier,
        p.partner_types,
        p.partner_types[1] as partner_type,
        p.joined_at
    from partners as p, meta as m
    where p.joined_at <= m.as_of
        and not (coalesce(p.status = 'terminated', false) and coalesce(p.terminated_at, p.joined_at) <= m.as_of)
),

-- One row per partner x deal (credit is decimal: summing first is exact), so deals count without distinct.
credit as (
    select c.partner_id, c.opportunity_id, sum(c.credit) as credit, min(c.close_date) as close_date
    from attribution_credit_default as c, meta as m
    where c.model = m.credit_model and c.close_date <= m.as_of
    group by c.partner_id, c.opportunity_id
),

-- The trailing 12 months of activities (certifications, counted over all time, come from a rollup).
activities as (
    select a.partner_id, a.activity_type, cast(a.occurred_at as date) as activity_date
    from partner_activities as a, meta as m
    where cast(a.occurred_at as date) <= m.as_of and cast(a.occurred_at as date) > m.as_of - 365
),

registrations as (
    select r.partner_id, r.status, cast(coalesce(r.decided_at, r.registered_at) as date) as decided_on
    from deal_registrations as r, meta as m
    where cast(r.registered_at as date) <= m.as_of
),

-- Logic --------------------------------------------------------------------------------------

revenue as (
    select
        c.partner_id,
        sum(c.credit) filter (where c.close_date > m.as_of - 365) as revenue_12m,
        count(*) filter (where c.close_date > m.as_of - 365) as won_deals_12m,
        count(*) filter (where c.close_date > m.as_of - 91) as won_deals_90d,
        max(c.close_date) as last_won_on
    from credit as c, meta as m
    group by c.partner_id
),

-- A partner is involved in a deal it sourced, touched by the day, or registered (approved) by the day:
-- rollup_deal_partners.sql keeps each pair's earliest touch and approved registration day.
involvement as (
    select p.opportunity_id, p.partner_id
    from rollup_deal_partners as p, meta as m
    where p.is_crm_sourced or p.first_touch_on <= m.as_of or p.first_approved_registration_on <= m.as_of
),

-- Open as of the day: created by then and not yet closed then (deals closed later were still open).
pipeline as (
    select i.partner_id, sum(o.amount) as open_pipeline, count(*) as open_deals
    from involvement as i
    inner join opportunities as o using (opportunity_id)
    cross join meta as m
    where o.created_at <= m.as_of and (not o.is_closed or o.close_date > m.as_of)
    group by i.partner_id
),

-- Certifications held and current: earned minus expired by the day, never below zero (rollup_certification_days.sql).
certifications as (
    select c.partner_id, cast(greatest(sum(c.earned) - sum(c.expired), 0) as bigint) as certifications_current
    from rollup_certification_days as c, meta as m
    where c.activity_date <= m.as_of
    group by c.partner_id
),

enablement as (
    select
        a.partner_id,
        count(*) filter (where a.activity_type = 'training_completed' and a.activity_date > m.as_of - 365) as trainings_12m,
        count(*) filter (where a.activity_type = 'business_review' and a.activity_date > m.as_of - 365)
            as business_reviews_12m,
        count(*) filter (where a.activity_type = 'deal_registered' and a.activity_date > m.as_of - 91)
            as registrations_90d,
        count(*) filter (where a.activity_type <> 'portal_login' and a.activity_date > m.as_of - 91) as activities_90d
    from activities as a, meta as m
    group by a.partner_id
),

-- Decided registrations in the trailing 12 months (submitted ones are not decided yet).
approvals as (
    select
        r.partner_id,
        count(*) filter (where r.status in ('approved', 'rejected')) as registrations_decided_12m,
        count(*) filter (where r.status = 'approved') as registrations_approved_12m
    from registrations as r, meta as m
    where r.decided_on > m.as_of - 365 and r.decided_on <= m.as_of
    group by r.partner_id
),

final as (
    select
        p.partner_id,
        p.partner_name,
        p.partner_manager,
        p.region,
        p.tier,
        p.partner_types,
        p.partner_type,
        p.joined_at,
        -- Whole months of history in the trailing 12-month window (0-12).
        least(datediff('day', p.joined_at, m.as_of) / 30.4375, 12.0) as months_of_history,
        cast(coalesce(r.revenue_12m, 0) as decimal(18, 2)) as revenue_12m,
        coalesce(r.won_deals_12m, 0) as won_deals_12m,
        coalesce(r.won_deals_90d, 0) as won_deals_90d,
        datediff('day', r.last_won_on, m.as_of) as days_since_won,
        cast(coalesce(pl.open_pipeline, 0) as decimal(18, 2)) as open_pipeline,
        coalesce(pl.open_deals, 0) as open_deals,
        coalesce(c.certifications_current, 0) as certifications_current,
        coalesce(e.trainings_12m, 0) as trainings_12m,
        coalesce(e.business_reviews_12m, 0) as business_reviews_12m,
        coalesce(e.registrations_90d, 0) as registrations_90d,
        coalesce(e.activities_90d, 0) as activities_90d,
        coalesce(ap.registrations_decided_12m, 0) as registrations_decided_12m,
        coalesce(ap.registrations_approved_12m, 0) as registrations_approved_12m,
        cast(ap.registrations_approved_12m as double) / nullif(ap.registrations_decided_12m, 0)
            as registration_approval_rate,
        m.as_of
    from population as p
    cross join meta as m
    left join revenue as r using (partner_id)
    left join pipeline as pl using (partner_id)
    left join enablement as e using (partner_id)
    left join certifications as c using (partner_id)
    left join approvals as ap using (partner_id)
)

select
    partner_id,
    partner_name,
    partner_manager,
    region,
    tier,
    partner_types,
    partner_type,
    joined_at,
    months_of_history,
    revenue_12m,
    won_deals_12m,
    won_deals_90d,
    days_since_won,
    open_pipeline,
    open_deals,
    certifications_current,
    trainings_12m,
    business_reviews_12m,
    registrations_90d,
    activities_90d,
    registrations_decided_12m,
    registrations_approved_12m,
    registration_approval_rate,
    as_of
from final
order by partner_id
