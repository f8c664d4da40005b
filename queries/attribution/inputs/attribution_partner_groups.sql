-- The partner group (partner type x tier x region) of every partner with a touchpoint: the states of the grouped Markov chain.
-- Params: none
-- Grain: one row per partner in touchpoints
-- Money: none
-- Scope: partner
--
-- A partner of several types is in the group of all of them together ("referral, reseller"), as
-- the Attribution page's "partner type" shows it; a missing tier or region is a group of its own.
with

touched as (
    select distinct partner_id from touchpoints where partner_id is not null
),

final as (
    select
        touched.partner_id,
        coalesce(nullif(array_to_string(list_sort(p.partner_types), ', '), ''), '(no type)') as partner_type,
        coalesce(p.tier, '(no tier)') as tier,
        coalesce(p.region, '(no region)') as region
    from touched
    left join partners as p on p.partner_id = touched.partner_id
)

select partner_id, partner_type, tier, region from final order by partner_id
