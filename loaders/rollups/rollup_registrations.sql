-- Build-time rollup: each deal registration with its day, outcome, days to decision and whether it is in conflict (an opportunity or account registered by two or more partners).
-- Params: none
-- Grain: one row per deal registration
-- Money: none
-- Scope: partner
with

registration_keys as (
    select
        r.registration_id,
        r.partner_id,
        r.opportunity_id,
        r.status,
        r.registered_at,
        r.decided_at,
        nullif(lower(trim(coalesce(r.account_name, o.account_name))), '') as account_key
    from deal_registrations as r
    left join opportunities as o using (opportunity_id)
),

-- Logic --------------------------------------------------------------------------------------

contested_opportunities as (
    select opportunity_id from registration_keys
    where opportunity_id is not null
    group by opportunity_id
    having count(distinct partner_id) >= 2
),

contested_accounts as (
    select account_key from registration_keys
    where account_key is not null
    group by account_key
    having count(distinct partner_id) >= 2
),

final as (
    select
        k.registration_id,
        k.partner_id,
        cast(k.registered_at as date) as registered_on,
        k.status,
        date_diff('day', cast(k.registered_at as date), cast(k.decided_at as date)) as days_to_decision,
        coalesce(
            k.opportunity_id in (select opportunity_id from contested_opportunities)
            or k.account_key in (select account_key from contested_accounts),
            false
        ) as is_conflicted
    from registration_keys as k
)

select registration_id, partner_id, registered_on, status, days_to_decision, is_conflicted
from final
order by registration_id
