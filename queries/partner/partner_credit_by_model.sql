-- A partner's attributed credit under every attribution model (settings' default parameters).
-- Params:
--   $partner_id (varchar): the partner
--   $managers (varchar[], NULL = all): the viewer's partner managers; another manager's partner gives no rows
--   $start_date (date, NULL = from the start): first close date to count
--   $end_date (date, NULL = to the end): last close date to count
-- Grain: one row per attribution model
-- Money: none
-- Scope: partner
with

-- The partner, when it is one of the managers' (a partner lead sees only their own).
the_partner as (
    select partner_id from partners
    where partner_id = $partner_id and partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)
),

models as (
    select unnest([
        'crm_sourced', 'registration', 'first_touch', 'last_touch', 'linear', 'time_decay',
        'position_based', 'w_shaped', 'touch_value', 'markov', 'shapley'
    ]) as model,
    generate_subscripts([
        'crm_sourced', 'registration', 'first_touch', 'last_touch', 'linear', 'time_decay',
        'position_based', 'w_shaped', 'touch_value', 'markov', 'shapley'
    ], 1) as model_order
),

credit as (
    select model, sum(credit) as credit, count(distinct opportunity_id) as deals
    from attribution_credit_default
    where partner_id in (select partner_id from the_partner)
        and ($start_date is null or close_date >= $start_date)
        and ($end_date is null or close_date <= $end_date)
    group by model
),

final as (
    select
        models.model,
        cast(coalesce(credit.credit, 0) as decimal(18, 2)) as credit,
        coalesce(credit.deals, 0) as deals,
        models.model_order
    from models
    left join credit on credit.model = models.model
    where exists (select 1 from the_partner)
)

select model, credit, deals from final order by model_order
