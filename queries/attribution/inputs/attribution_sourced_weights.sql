-- Won opportunities credited whole to one partner: the CRM sourced partner, or the earliest approved registration.
-- Params: none
-- Grain: one row per model (crm_sourced, registration) x won opportunity that has such a partner
-- Money: none
-- Scope: partner
with

won as (
    select opportunity_id, cast(amount as decimal(18, 2)) as amount, created_at, close_date, sourced_partner_id
    from opportunities
    where is_won
),

crm_sourced as (
    select
        'crm_sourced' as model,
        opportunity_id,
        sourced_partner_id as partner_id,
        cast(null as varchar) as touch_type,
        created_at as touch_date,
        close_date,
        amount,
        1.0 as weight
    from won
    where sourced_partner_id is not null
),

registration as (
    select
        'registration' as model,
        won.opportunity_id,
        arg_min(r.partner_id, (r.registered_at, r.registration_id)) as partner_id,
        cast(null as varchar) as touch_type,
        cast(min(r.registered_at) as date) as touch_date,
        any_value(won.close_date) as close_date,
        any_value(won.amount) as amount,
        1.0 as weight
    from deal_registrations as r
    inner join won on won.opportunity_id = r.opportunity_id
    where r.status = 'approved'
    group by won.opportunity_id
),

final as (
    select * from crm_sourced
    union all
    select * from registration
)

select model, opportunity_id, partner_id, touch_type, touch_date, close_date, amount, cast(weight as double) as weight
from final
