-- Where the CRM, deal registrations, attributed credit and payouts disagree, as of a date, and the money at stake.
-- Params:
--   $as_of (date, NULL = data_as_of): nothing registered, decided, paid, accrued or closed after this day counts
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner matches on any of its types)
--   $managers (varchar[], NULL = all): partner managers to keep
-- Grain: one row per disagreement: a registration (crm_vs_registration, registration_conflict, channel_conflict), a payout (payout_without_credit, duplicate_payout), or a deal x partner (credit_without_payout, payout_amount_mismatch)
-- Money: amount_at_stake, detail
-- Scope: partner
-- Stored: attribution_disagreements_stored (as of data_as_of, read by the runner)
--
-- The kinds (docs/design.md, "Disagreements") and what amount_at_stake is, in the reporting currency.
-- The plan (model, rates, payment terms, tolerance, credit payout types) is commission_plan in the
-- settings, read from load_meta. "Counted" payouts: period and paid_at on or before
-- as_of, not clawed back. Credit: table attribution_credit_default under the model of the plan.
-- Expected payout = credit x rate, the rate being the most specific commission rule matching the
-- tier of the partner, any of its partner types and any of its touch types on the deal (earlier rule
-- on a tie), else the default rate of the plan. A deal lost by as_of puts 0 at stake. The three
-- credit kinds are left out when the extract the model of the plan reads (touchpoints, for the
-- touch models) was not loaded: without it no payout could be matched to credit.
--   crm_vs_registration: the CRM sourced partner is not the partner of the earliest
--       approved registration of the deal. Partner = the registrant; at stake: the deal amount.
--   registration_conflict: a partner registered a deal (or, without a deal, its account) that
--       a registration of another partner still held: not expired or rejected before it. One row
--       per later registration. Partner = the later registrant; at stake: the deal amount.
--   payout_without_credit: a counted credit-paying payout on a deal where its partner has no
--       credit as of as_of. At stake: the payout amount.
--   credit_without_payout: credit whose expected payout exceeds the tolerance, with no counted
--       credit-paying payout, and close_date + payment terms before as_of. At stake: the expected payout.
--   payout_amount_mismatch: counted credit-paying payouts of a deal x partner that differ from the
--       expected payout by more than the tolerance (pct of expected, at least the minimum).
--       At stake: |paid - expected|.
--   duplicate_payout: a payout repeating one of an earlier period (or, in the same period, of a
--       smaller payout_id) with the same partner, deal, type and amount.
--       At stake: the amount of the duplicate. A duplicate is left out of the other payout kinds.
--   channel_conflict: an approved registration on a deal the CRM records as direct (no sourced
--       partner, and source direct or not given). At stake: the deal amount x the rate
--       of the registrant for a deal_registration touch.
with

meta as (
    select
        coalesce($as_of, max(case when key = 'data_as_of' then try_cast(value as date) end)) as as_of,
        max(case when key = 'settings_json' then value end) as settings_json,
        max(case when key = 'reporting_currency' then value end) as currency
    from load_meta
),

plan as (
    select
        as_of,
        json_extract_string(settings_json, '$.commission_plan.model') as model,
        cast(json_extract(settings_json, '$.commission_plan.default_rate') as double) as default_rate,
        cast(json_extract(settings_json, '$.commission_plan.payment_terms_days') as integer) as payment_terms_days,
        cast(json_extract(settings_json, '$.commission_plan.amount_tolerance_pct') as double) as tolerance_pct,
        cast(json_extract(settings_json, '$.commission_plan.amount_tolerance_min') as double) as tolerance_min,
        coalesce(
            cast(json_extract(settings_json, '$.commission_plan.credit_payout_types') as varchar[]),
            ['commission', 'referral_fee']
        ) as credit_payout_types,
        -- Amounts in the evidence are written as queries/formatting.py writes them: $1,234 or 1,234 EUR.
        case when currency = 'USD' or currency is null then '$' else '' end as prefix,
        case when currency = 'USD' or currency is null then '' else ' ' || currency end as suffix,
        -- Credit can only be judged when the extract read by the model of the plan was loaded.
        coalesce(
            (
                select bool_or(rows_loaded > 0)
                from load_report
                where table_name = case json_extract_string(settings_json, '$.commission_plan.model')
                    when 'crm_sourced' then 'opportunities'
                    when 'registration' then 'deal_registrations'
                    else 'touchpoints'
                end
            ),
            false
        ) as credit_judged
    from meta
),

deals as (
    select
        o.opportunity_id,
        o.account_name,
        o.sourced_partner_id,
        o.source,
        o.close_date,
        cast(o.amount as decimal(18, 2)) as amount,
        o.is_won and o.close_date <= plan.as_of as is_won,
        o.is_closed and not o.is_won and o.close_date <= plan.as_of as is_lost,
        case
            when o.is_won and o.close_date <= plan.as_of then 'won'
            when o.is_closed and not o.is_won and o.close_date <= plan.as_of then 'lost'
            else 'open'
        end as outcome
    from opportunities as o, plan
    where o.created_at <= plan.as_of
),

-- A registration as it stood on as_of: a decision taken later had not happened yet.
registrations as (
    select
        r.registration_id,
        r.partner_id,
        r.opportunity_id,
        r.registered_at,
        r.decided_at,
        lower(trim(coalesce(r.account_name, o.account_name))) as account_key,
        case
            when r.status != 'submitted' and cast(r.decided_at as date) > plan.as_of then 'submitted'
            else r.status
        end as status
    from deal_registrations as r
    cross join plan
    left join opportunities as o on o.opportunity_id = r.opportunity_id
    where cast(r.registered_at as date) <= plan.as_of
),

-- When an expired or rejected registration stopped holding its deal (without a decision
-- date, from the start: it never blocked anyone).
registration_spans as (
    select
        *,
        case when status in ('expired', 'rejected') then coalesce(decided_at, registered_at) end as ended_at
    from registrations
),

earliest_approved as (
    select
        opportunity_id,
        arg_min(registration_id, (registered_at, registration_id)) as registration_id,
        arg_min(partner_id, (registered_at, registration_id)) as partner_id,
        min(registered_at) as registered_at
    from registrations
    where status = 'approved' and opportunity_id is not null
    group by opportunity_id
),

payouts_as_of as (
    select
        p.payout_id,
        p.partner_id,
        p.opportunity_id,
        p.payout_type,
        p.period,
        cast(p.amount as decimal(18, 2)) as amount,
        list_contains(plan.credit_payout_types, p.payout_type) as pays_credit,
        row_number() over (
            partition by p.partner_id, p.opportunity_id, p.payout_type, p.amount
            order by p.period, p.payout_id
        ) as copy_number,
        first_value(p.payout_id) over (
            partition by p.partner_id, p.opportunity_id, p.payout_type, p.amount
            order by p.period, p.payout_id
        ) as original_payout_id
    from payouts as p, plan
    where p.period <= plan.as_of
        and coalesce(p.paid_at, p.period) <= plan.as_of
        and p.status is distinct from 'clawed_back'
),

-- Payouts that pay credit, duplicates left out (they are their own kind).
credit_payouts as (
    select *
    from payouts_as_of
    where pays_credit and opportunity_id is not null and copy_number = 1
),

credit as (
    select c.opportunity_id, c.partner_id, sum(c.credit) as credit, min(c.close_date) as close_date
    from attribution_credit_default as c, plan
    where c.model = plan.model and c.close_date <= plan.as_of
    group by c.opportunity_id, c.partner_id
    having sum(c.credit) > 0
),

-- Each deal x partner's touch types (any day), built once per build (rollup_deal_partners.sql).
touch_types as (
    select opportunity_id, partner_id, touch_types
    from rollup_deal_partners
    where touch_types is not null
),

-- The deal x partner pairs that need a rate: credited partners, and registrants on direct deals.
rate_inputs as (
    select 'credit' as basis, credit.opportunity_id, credit.partner_id, coalesce(t.touch_types, []) as touch_types
    from credit
    left join touch_types as t on t.opportunity_id = credit.opportunity_id and t.partner_id = credit.partner_id
    union all
    select
        'registration' as basis,
        a.opportunity_id,
        a.partner_id,
        list_distinct(list_append(coalesce(t.touch_types, []), 'deal_registration')) as touch_types
    from earliest_approved as a
    left join touch_types as t on t.opportunity_id = a.opportunity_id and t.partner_id = a.partner_id
),

rates as (
    select
        i.basis,
        i.opportunity_id,
        i.partner_id,
        coalesce(
            arg_max(
                r.rate,
                (
                    (r.partner_type is not null)::int + (r.tier is not null)::int + (r.touch_type is not null)::int,
                    -r.rule_order
                )
            ),
            any_value(plan.default_rate)
        ) as rate
    from rate_inputs as i
    cross join plan
    inner join partners as p on p.partner_id = i.partner_id
    left join commission_rules as r
        on (r.partner_type is null or list_contains(p.partner_types, r.partner_type))
        and (r.tier is null or r.tier = p.tier)
        and (r.touch_type is null or list_contains(i.touch_types, r.touch_type))
    group by i.basis, i.opportunity_id, i.partner_id
),

expected as (
    select
        credit.opportunity_id,
        credit.partner_id,
        credit.close_date,
        cast(credit.credit as decimal(18, 2)) as credit,
        rates.rate,
        cast(credit.credit * rates.rate as decimal(18, 2)) as expected_payout,
        greatest(credit.credit * rates.rate * plan.tolerance_pct / 100, plan.tolerance_min) as tolerance
    from credit
    cross join plan
    inner join rates on rates.opportunity_id = credit.opportunity_id and rates.partner_id = credit.partner_id
    where rates.basis = 'credit'
),

paid as (
    select
        opportunity_id,
        partner_id,
        sum(amount) as paid,
        count(*) as payouts,
        min(payout_id) as payout_id,
        string_agg(payout_id, ', ' order by period, payout_id) as payout_ids
    from credit_payouts
    group by opportunity_id, partner_id
),

-- ---- the kinds -----------------------------------------------------------------------

crm_vs_registration as (
    select
        'crm_vs_registration' as kind,
        d.opportunity_id,
        a.partner_id,
        cast(null as varchar) as payout_id,
        a.registration_id,
        d.sourced_partner_id as other_partner_id,
        case when d.is_lost then 0 else d.amount end as amount_at_stake,
        printf(
            'Deal %s (%s, %s) is sourced to %s in the CRM, but %s''s registration %s, approved, came first',
            d.opportunity_id, d.outcome, plan.prefix || format('{:,.0f}', d.amount) || plan.suffix,
            crm.partner_name, reg.partner_name, a.registration_id
        ) as detail
    from deals as d
    cross join plan
    inner join earliest_approved as a on a.opportunity_id = d.opportunity_id
    inner join partners as crm on crm.partner_id = d.sourced_partner_id
    inner join partners as reg on reg.partner_id = a.partner_id
    where d.sourced_partner_id != a.partner_id
),

-- Registrations of the same deal, or of the same account where one of them names no deal
-- (two equi-joins: an "or" in one join condition would compare every pair of registrations).
same_target as (
    select later.registration_id as later_id, earlier.registration_id as earlier_id
    from registration_spans as later
    inner join registration_spans as earlier on earlier.opportunity_id = later.opportunity_id
    union all
    select later.registration_id as later_id, earlier.registration_id as earlier_id
    from registration_spans as later
    inner join registration_spans as earlier on earlier.account_key = later.account_key
    where earlier.opportunity_id is null or later.opportunity_id is null
),

registration_pairs as (
    select
        later.registration_id,
        later.partner_id,
        coalesce(later.opportunity_id, earlier.opportunity_id) as opportunity_id,
        later.registered_at,
        earlier.registration_id as other_registration_id,
        earlier.partner_id as other_partner_id,
        earlier.registered_at as other_registered_at,
        earlier.status as other_status
    from same_target
    inner join registration_spans as later on later.registration_id = same_target.later_id
    inner join registration_spans as earlier on earlier.registration_id = same_target.earlier_id
    where earlier.partner_id != later.partner_id
        and (
            earlier.registered_at < later.registered_at
            or (earlier.registered_at = later.registered_at and earlier.registration_id < later.registration_id)
        )
        and (earlier.ended_at is null or earlier.ended_at >= later.registered_at)
),

registration_conflict as (
    select
        'registration_conflict' as kind,
        c.opportunity_id,
        c.partner_id,
        cast(null as varchar) as payout_id,
        c.registration_id,
        c.other_partner_id,
        case when d.is_lost then 0 else coalesce(d.amount, 0) end as amount_at_stake,
        printf(
            '%s registered %s on %s (%s) while %s''s registration %s of %s (%s) still held it%s',
            later.partner_name,
            coalesce('deal ' || c.opportunity_id || ' (' || plan.prefix || format('{:,.0f}', d.amount) || plan.suffix || ')', 'the same account'),
            strftime(c.registered_at, '%Y-%m-%d'), c.registration_id,
            earlier.partner_name, c.other_registration_id, strftime(c.other_registered_at, '%Y-%m-%d'), c.other_status,
            case when c.conflicts > 1 then printf(', and %d more', c.conflicts - 1) else '' end
        ) as detail
    from (
        select
            registration_id,
            any_value(partner_id) as partner_id,
            arg_min(opportunity_id, (other_registered_at, other_registration_id)) as opportunity_id,
            any_value(registered_at) as registered_at,
            arg_min(other_registration_id, (other_registered_at, other_registration_id)) as other_registration_id,
            arg_min(other_partner_id, (other_registered_at, other_registration_id)) as other_partner_id,
            min(other_registered_at) as other_registered_at,
            arg_min(other_status, (other_registered_at, other_registration_id)) as other_status,
            count(*) as conflicts
        from registration_pairs
        group by registration_id
    ) as c
    cross join plan
    left join deals as d on d.opportunity_id = c.opportunity_id
    inner join partners as later on later.partner_id = c.partner_id
    inner join partners as earlier on earlier.partner_id = c.other_partner_id
),

payout_without_credit as (
    select
        'payout_without_credit' as kind,
        p.opportunity_id,
        p.partner_id,
        p.payout_id,
        cast(null as varchar) as registration_id,
        cast(null as varchar) as other_partner_id,
        p.amount as amount_at_stake,
        printf(
            'Payout %s of %s (%s, %s) to %s for deal %s, where %s has no credit under the %s model%s',
            p.payout_id, plan.prefix || format('{:,.0f}', p.amount) || plan.suffix, p.payout_type, strftime(p.period, '%Y-%m-%d'),
            partner.partner_name, p.opportunity_id, partner.partner_name, plan.model,
            case
                when d.opportunity_id is null then ' (the deal is not in the CRM)'
                when d.outcome != 'won' then ' (the deal is ' || d.outcome || ')'
                else ''
            end
        ) as detail
    from credit_payouts as p
    cross join plan
    inner join partners as partner on partner.partner_id = p.partner_id
    left join credit as c on c.opportunity_id = p.opportunity_id and c.partner_id = p.partner_id
    left join deals as d on d.opportunity_id = p.opportunity_id
    where plan.credit_judged and c.opportunity_id is null
),

credit_without_payout as (
    select
        'credit_without_payout' as kind,
        e.opportunity_id,
        e.partner_id,
        cast(null as varchar) as payout_id,
        cast(null as varchar) as registration_id,
        cast(null as varchar) as other_partner_id,
        e.expected_payout as amount_at_stake,
        printf(
            '%s has %s of %s credit on deal %s (closed %s) and is owed %s at %s%%, unpaid %d days after close',
            partner.partner_name, plan.prefix || format('{:,.0f}', e.credit) || plan.suffix, plan.model, e.opportunity_id,
            strftime(e.close_date, '%Y-%m-%d'), plan.prefix || format('{:,.0f}', e.expected_payout) || plan.suffix,
            format('{:g}', round(e.rate * 100, 2)), date_diff('day', e.close_date, plan.as_of)
        ) as detail
    from expected as e
    cross join plan
    inner join partners as partner on partner.partner_id = e.partner_id
    left join paid on paid.opportunity_id = e.opportunity_id and paid.partner_id = e.partner_id
    where plan.credit_judged
        and paid.opportunity_id is null
        and e.expected_payout > e.tolerance
        and e.close_date + plan.payment_terms_days < plan.as_of
),

payout_amount_mismatch as (
    select
        'payout_amount_mismatch' as kind,
        e.opportunity_id,
        e.partner_id,
        paid.payout_id,
        cast(null as varchar) as registration_id,
        cast(null as varchar) as other_partner_id,
        cast(abs(paid.paid - e.expected_payout) as decimal(18, 2)) as amount_at_stake,
        printf(
            '%s was paid %s for deal %s (%s), expected %s = %s credit x %s%%: %s %s',
            partner.partner_name, plan.prefix || format('{:,.0f}', paid.paid) || plan.suffix, e.opportunity_id, paid.payout_ids,
            plan.prefix || format('{:,.0f}', e.expected_payout) || plan.suffix, plan.prefix || format('{:,.0f}', e.credit) || plan.suffix,
            format('{:g}', round(e.rate * 100, 2)),
            plan.prefix || format('{:,.0f}', abs(paid.paid - e.expected_payout)) || plan.suffix,
            case when paid.paid > e.expected_payout then 'over' else 'under' end
        ) as detail
    from expected as e
    cross join plan
    inner join paid on paid.opportunity_id = e.opportunity_id and paid.partner_id = e.partner_id
    inner join partners as partner on partner.partner_id = e.partner_id
    where plan.credit_judged and abs(paid.paid - e.expected_payout) > e.tolerance
),

duplicate_payout as (
    select
        'duplicate_payout' as kind,
        p.opportunity_id,
        p.partner_id,
        p.payout_id,
        cast(null as varchar) as registration_id,
        cast(null as varchar) as other_partner_id,
        p.amount as amount_at_stake,
        printf(
            'Payout %s of %s (%s, %s) to %s for deal %s repeats payout %s: same partner, deal, type and amount',
            p.payout_id, plan.prefix || format('{:,.0f}', p.amount) || plan.suffix, p.payout_type, strftime(p.period, '%Y-%m-%d'),
            partner.partner_name, p.opportunity_id, p.original_payout_id
        ) as detail
    from payouts_as_of as p
    cross join plan
    inner join partners as partner on partner.partner_id = p.partner_id
    where p.copy_number > 1 and p.opportunity_id is not null
),

channel_conflict as (
    select
        'channel_conflict' as kind,
        d.opportunity_id,
        a.partner_id,
        cast(null as varchar) as payout_id,
        a.registration_id,
        cast(null as varchar) as other_partner_id,
        case when d.is_lost then 0 else cast(d.amount * rates.rate as decimal(18, 2)) end as amount_at_stake,
        printf(
            'Deal %s (%s, %s) is direct in the CRM, but %s''s registration %s was approved: %s at %s%% if the registration stands',
            d.opportunity_id, d.outcome, plan.prefix || format('{:,.0f}', d.amount) || plan.suffix, partner.partner_name,
            a.registration_id, plan.prefix || format('{:,.0f}', d.amount * rates.rate) || plan.suffix,
            format('{:g}', round(rates.rate * 100, 2))
        ) as detail
    from deals as d
    cross join plan
    inner join earliest_approved as a on a.opportunity_id = d.opportunity_id
    inner join rates on rates.opportunity_id = a.opportunity_id and rates.partner_id = a.partner_id
    inner join partners as partner on partner.partner_id = a.partner_id
    where rates.basis = 'registration'
        and d.sourced_partner_id is null and (d.source is null or lower(d.source) = 'direct')
),

ledger as (
    select * from crm_vs_registration
    union all select * from registration_conflict
    union all select * from payout_without_credit
    union all select * from credit_without_payout
    union all select * from payout_amount_mismatch
    union all select * from duplicate_payout
    union all select * from channel_conflict
),

final as (
    select
        l.kind,
        l.opportunity_id,
        l.partner_id,
        p.partner_name,
        p.partner_manager,
        l.payout_id,
        l.registration_id,
        l.other_partner_id,
        fiscal_quarter(coalesce(d.close_date, po.period, cast(r.registered_at as date))) as fiscal_quarter,
        cast(l.amount_at_stake as decimal(18, 2)) as amount_at_stake,
        l.detail
    from ledger as l
    inner join partners as p on p.partner_id = l.partner_id
    left join opportunities as d on d.opportunity_id = l.opportunity_id
    left join payouts as po on po.payout_id = l.payout_id
    left join deal_registrations as r on r.registration_id = l.registration_id
    where partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
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
order by amount_at_stake desc, kind, opportunity_id, partner_id, payout_id, registration_id
