-- The evidence on one deal, source by source: the sourced partner in the CRM, the registrations, the touchpoints, the credit under the plan and the payouts.
-- Params:
--   $opportunity_id (varchar): the deal
--   $as_of (date, NULL = data_as_of): evidence dated after this day is shown, marked as not counting yet
-- Grain: one row per piece of evidence (the CRM record, a registration, a touchpoint, a credit line, a payout)
-- Money: amount
-- Scope: partner
with

meta as (
    select
        coalesce($as_of, max(case when key = 'data_as_of' then try_cast(value as date) end)) as as_of,
        json_extract_string(max(case when key = 'settings_json' then value end), '$.commission_plan.model') as model
    from load_meta
),

deal as (
    select opportunity_id, account_name, amount, stage, close_date, sourced_partner_id, source
    from opportunities
    where opportunity_id = $opportunity_id
),

crm as (
    select
        'crm' as source,
        1 as source_order,
        deal.sourced_partner_id as partner_id,
        deal.opportunity_id as reference,
        deal.close_date as on_date,
        deal.stage as status,
        cast(deal.amount as decimal(18, 2)) as amount,
        cast(null as date) as counts_from,
        case
            when deal.sourced_partner_id is null then 'No sourced partner (direct); source: ' || coalesce(deal.source, 'not given')
            else 'Sourced partner in the CRM; source: ' || coalesce(deal.source, 'not given')
        end as note
    from deal
),

registrations as (
    select
        'registration' as source,
        2 as source_order,
        r.partner_id,
        r.registration_id as reference,
        cast(r.registered_at as date) as on_date,
        r.status,
        cast(null as decimal(18, 2)) as amount,
        cast(r.registered_at as date) as counts_from,
        concat_ws(
            '; ',
            'claimed ' || r.claimed_role,
            case when r.decided_at is not null then r.status || ' on ' || strftime(r.decided_at, '%Y-%m-%d') end,
            case when r.opportunity_id is null then 'registered on the account ' || r.account_name end
        ) as note
    from deal_registrations as r
    left join deal on true
    where r.opportunity_id = $opportunity_id
        or (r.opportunity_id is null and lower(trim(r.account_name)) = lower(trim(deal.account_name)))
),

touches as (
    select
        'touchpoint' as source,
        3 as source_order,
        t.partner_id,
        t.touchpoint_id as reference,
        cast(t.occurred_at as date) as on_date,
        t.touch_type as status,
        cast(null as decimal(18, 2)) as amount,
        cast(t.occurred_at as date) as counts_from,
        case when cast(t.occurred_at as date) > deal.close_date then 'after the close date: earns no credit' end as note
    from touchpoints as t
    left join deal on deal.opportunity_id = t.opportunity_id
    where t.opportunity_id = $opportunity_id
),

credit as (
    select
        'credit' as source,
        4 as source_order,
        c.partner_id,
        meta.model as reference,
        c.close_date as on_date,
        printf('weight %.1f%%', c.weight * 100) as status,
        cast(c.credit as decimal(18, 2)) as amount,
        c.close_date as counts_from,
        'Credit under the plan''s model' as note
    from attribution_credit_default as c, meta
    where c.opportunity_id = $opportunity_id and c.model = meta.model
),

paid as (
    select
        'payout' as source,
        5 as source_order,
        p.partner_id,
        p.payout_id as reference,
        p.period as on_date,
        concat_ws(', ', p.payout_type, p.status) as status,
        cast(p.amount as decimal(18, 2)) as amount,
        greatest(p.period, coalesce(p.paid_at, p.period)) as counts_from,
        case when p.paid_at is not null then 'paid ' || strftime(p.paid_at, '%Y-%m-%d') end as note
    from payouts as p
    where p.opportunity_id = $opportunity_id
),

evidence as (
    select * from crm
    union all select * from registrations
    union all select * from touches
    union all select * from credit
    union all select * from paid
),

final as (
    select
        e.source,
        e.partner_id,
        p.partner_name,
        e.reference,
        e.on_date,
        e.status,
        e.amount,
        e.note,
        e.counts_from is null or e.counts_from <= meta.as_of as counts_as_of,
        e.source_order
    from evidence as e
    cross join meta
    left join partners as p on p.partner_id = e.partner_id
)

select source, partner_id, partner_name, reference, on_date, status, amount, note, counts_as_of
from final
order by source_order, on_date, reference, partner_id
