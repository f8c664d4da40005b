-- Each opportunity as it was known at the end of a day: stage, amount, close date and forecast category rebuilt from opportunity_history, and its partner involvement then.
-- Params:
--   $as_of (date, NULL = data_as_of from load_meta): the day whose end the state is known at
--   $snapshot_dates (date[], NULL = just $as_of): several days at once, one set of rows per day
--   $include_closed (boolean, NULL = false): also return deals already closed on that day (their final state)
--   $include_closed_on (date, NULL = none): also return the deals already closed on this one of the days (the build's single pass over every quarter's eve and data_as_of)
--   $won_since (date, NULL = none): also return the deals closed won with a close date on or after this day (forecast history: what was won so far, without every other closed deal)
--   $regions (varchar[], NULL = all): in_scope only for deals in these regions (the region of the deal, else of its partner)
--   $tiers (varchar[], NULL = all): in_scope only for deals whose partner has one of these tiers (direct deals drop out)
--   $partner_types (varchar[], NULL = all): in_scope only for deals whose partner has one of these types (direct deals drop out)
--   $managers (varchar[], NULL = all): in_scope only for deals whose partner is managed by one of these (direct deals drop out)
-- probability: the stage map's, else (closed) 1 or 0, else the deal's own CRM probability, else 0; probability_source says which ('stage_map', 'closed', 'deal', 'none').
-- Grain: one row per snapshot day x opportunity created on or before it (open on that day, plus closed ones when $include_closed)
-- Money: none
-- Scope: partner
with meta as (
    select try_cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date) as data_as_of
    from load_meta
),

snapshots as (
    select distinct
        cast(snapshot_date as date) as snapshot_date,
        cast(snapshot_date as date) + 1 as snapshot_end
    from (
        select unnest(coalesce($snapshot_dates, [coalesce($as_of, meta.data_as_of)])) as snapshot_date
        from meta
    )
    where snapshot_date is not null
),

-- Open stages, in order: a deal whose stage on a past day is unknown is taken to be at the first.
first_open_stage as (
    select stage
    from stage_map
    where not is_closed
    order by stage_order, stage
    limit 1
),

-- History with the last known amount, close date and category carried forward, and how often
-- the close date had moved later so far.
history_filled as (
    select
        opportunity_id,
        changed_at,
        stage,
        last_value(amount ignore nulls) over carried as amount,
        last_value(close_date ignore nulls) over carried as close_date,
        last_value(forecast_category ignore nulls) over carried as forecast_category,
        first_value(close_date ignore nulls) over carried as first_close_date
    from opportunity_history
    window carried as (partition by opportunity_id order by changed_at rows between unbounded preceding and current row)
),

history as (
    select
        *,
        sum(
            case when close_date > previous_close_date then 1 else 0 end
        ) over (partition by opportunity_id order by changed_at rows between unbounded preceding and current row) as times_slipped
    from (
        select
            *,
            lag(close_date) over (partition by opportunity_id order by changed_at) as previous_close_date
        from history_filled
    )
),

-- A deal created before its first recorded change is taken to be as that change first recorded it.
first_history as (
    select opportunity_id, arg_min(stage, changed_at) as stage, arg_min(amount, changed_at) as amount,
        arg_min(close_date, changed_at) as close_date, arg_min(forecast_category, changed_at) as forecast_category
    from history
    group by opportunity_id
),

-- Touches at the same moment in docs/design.md's path order (occurred_at, touchpoint_id, partner_id),
-- so a tie names the same partner on every run.
first_touch as (
    select opportunity_id, arg_min(partner_id, (occurred_at, touchpoint_id, partner_id)) as partner_id,
        min(occurred_at) as occurred_at
    from touchpoints
    group by opportunity_id
),

-- Approved registrations count from the day they were decided (or registered, when undated).
approved_registrations as (
    select opportunity_id, partner_id, registration_id, claimed_role, coalesce(decided_at, registered_at) as known_at
    from deal_registrations
    where status = 'approved' and opportunity_id is not null
),

first_registration as (
    select opportunity_id, arg_min(partner_id, (known_at, registration_id, partner_id)) as partner_id, min(known_at) as known_at
    from approved_registrations
    group by opportunity_id
),

first_sourced_registration as (
    select opportunity_id, arg_min(partner_id, (known_at, registration_id, partner_id)) as partner_id, min(known_at) as known_at
    from approved_registrations
    where claimed_role = 'sourced'
    group by opportunity_id
),

visible as (
    select
        snapshots.snapshot_date,
        snapshots.snapshot_end,
        snapshots.snapshot_date >= meta.data_as_of as is_current,
        opportunities.*
    from snapshots
    cross join meta
    inner join opportunities on opportunities.created_at <= snapshots.snapshot_date
),

known as (
    select
        visible.*,
        history.changed_at as history_changed_at,
        history.stage as history_stage,
        history.amount as history_amount,
        history.close_date as history_close_date,
        history.forecast_category as history_forecast_category,
        history.first_close_date,
        history.times_slipped
    from visible
    asof left join history
        on visible.opportunity_id = history.opportunity_id
        and visible.snapshot_end > history.changed_at
),

rebuilt as (
    select
        known.snapshot_date,
        known.snapshot_end,
        known.opportunity_id,
        known.account_name,
        known.owner,
        known.created_at,
        known.region,
        known.sourced_partner_id,
        known.first_close_date,
        coalesce(known.times_slipped, 0) as times_slipped,
        case
            when known.is_current then 'current'
            when known.history_changed_at is not null or first_history.opportunity_id is not null then 'history'
            else 'created_close_dates'
        end as basis,
        case
            when known.is_current then known.stage
            when known.history_changed_at is not null then known.history_stage
            when first_history.opportunity_id is not null then first_history.stage
            when known.is_closed and known.close_date <= known.snapshot_date then known.stage
            else (select stage from first_open_stage)
        end as stage,
        case
            when known.is_current then known.amount
            when known.history_changed_at is not null then coalesce(known.history_amount, known.amount)
            when first_history.opportunity_id is not null then coalesce(first_history.amount, known.amount)
            else known.amount
        end as amount,
        case
            when known.is_current then known.close_date
            when known.history_changed_at is not null then coalesce(known.history_close_date, known.close_date)
            when first_history.opportunity_id is not null then coalesce(first_history.close_date, known.close_date)
            else known.close_date
        end as close_date,
        case
            when known.is_current then known.forecast_category
            when known.history_changed_at is not null then known.history_forecast_category
            when first_history.opportunity_id is not null then first_history.forecast_category
        end as forecast_category,
        -- Closed flags from the stage map; a final stage outside it keeps the flags of the CRM.
        case when known.is_current or (uses_final and known.is_closed) then known.is_closed end as crm_is_closed,
        case when known.is_current or (uses_final and known.is_closed) then known.is_won end as crm_is_won,
        -- The deal's own CRM probability (a share 0..1; other values are ignored), for a stage the
        -- stage map gives none. On a past day it holds only while the deal is still open today
        -- and was then in the stage it is in today (a closed deal's 0 or 1 would leak the outcome).
        case when known.probability between 0 and 1 then known.probability end as own_probability,
        known.is_current or not coalesce(known.is_closed, false) as own_probability_open,
        known.stage as stage_now
    from (
        select
            known.*,
            -- No history for this deal: a deal closed by then is in its final state.
            known.history_changed_at is null
            and not exists (select 1 from first_history where first_history.opportunity_id = known.opportunity_id)
            and known.close_date <= known.snapshot_date as uses_final
        from known
    ) as known
    left join first_history on first_history.opportunity_id = known.opportunity_id
),

staged as (
    select
        *,
        case
            when stage_probability is not null then 'stage_map'
            when is_closed then 'closed'
            when deal_probability is not null then 'deal'
            else 'none'
        end as probability_source,
        coalesce(stage_probability, case when is_closed then (case when is_won then 1.0 else 0.0 end) end, deal_probability, 0.0)
            as probability
    from (
        select
            rebuilt.*,
            stage_map.stage_order,
            coalesce(rebuilt.crm_is_closed, stage_map.is_closed, false) as is_closed,
            coalesce(rebuilt.crm_is_won, stage_map.is_won, false) as is_won,
            stage_map.probability as stage_probability,
            case when rebuilt.own_probability_open and rebuilt.stage = rebuilt.stage_now then rebuilt.own_probability end
                as deal_probability
        from rebuilt
        left join stage_map using (stage)
    )
),

-- Partner involvement as known then: touches and registrations up to the day (or the close, if earlier).
involved as (
    select
        staged.*,
        case
            when staged.is_closed then least(cast(staged.close_date + 1 as timestamp), cast(staged.snapshot_end as timestamp))
            else cast(staged.snapshot_end as timestamp)
        end as touch_cutoff
    from staged
    where $include_closed or not staged.is_closed or staged.snapshot_date = $include_closed_on
        or (staged.is_won and staged.close_date >= $won_since)
),

attributed as (
    select
        involved.*,
        coalesce(
            involved.sourced_partner_id,
            case when first_sourced_registration.known_at < involved.touch_cutoff then first_sourced_registration.partner_id end
        ) as sourcing_partner_id,
        coalesce(
            case when first_touch.occurred_at < involved.touch_cutoff then first_touch.partner_id end,
            case when first_registration.known_at < involved.touch_cutoff then first_registration.partner_id end
        ) as influencing_partner_id
    from involved
    left join first_touch on first_touch.opportunity_id = involved.opportunity_id
    left join first_registration on first_registration.opportunity_id = involved.opportunity_id
    left join first_sourced_registration on first_sourced_registration.opportunity_id = involved.opportunity_id
),

final as (
    select
        attributed.snapshot_date,
        fiscal_quarter(attributed.snapshot_date) as snapshot_quarter,
        attributed.opportunity_id,
        attributed.account_name,
        attributed.owner,
        attributed.created_at,
        attributed.stage,
        attributed.stage_order,
        cast(attributed.probability as double) as probability,
        attributed.probability_source,
        attributed.is_closed,
        attributed.is_won,
        cast(attributed.amount as decimal(18, 2)) as amount,
        attributed.close_date,
        coalesce(
            attributed.forecast_category,
            case when attributed.is_closed and attributed.is_won then 'closed' when attributed.is_closed then 'omitted' end
        ) as forecast_category,
        attributed.first_close_date,
        cast(attributed.times_slipped as integer) as times_slipped,
        cast(attributed.snapshot_date - attributed.created_at as integer) as age_days,
        case
            when attributed.sourcing_partner_id is not null then 'partner_sourced'
            when attributed.influencing_partner_id is not null then 'partner_influenced'
            else 'direct'
        end as segment,
        partners.partner_id,
        partners.partner_name,
        coalesce(partners.partner_types[1], 'direct') as partner_type,
        partners.tier,
        partners.partner_manager,
        attributed.basis,
        partner_in_scope(
            coalesce(attributed.region, partners.region), partners.tier, partners.partner_types, partners.partner_manager,
            $regions, $tiers, $partner_types, $managers
        ) as in_scope,
        -- What in_scope is decided on, so states stored at build time can be scoped later.
        coalesce(attributed.region, partners.region) as scope_region,
        partners.partner_types
    from attributed
    left join partners on partners.partner_id = coalesce(attributed.sourcing_partner_id, attributed.influencing_partner_id)
)

select
    snapshot_date,
    snapshot_quarter,
    opportunity_id,
    account_name,
    owner,
    created_at,
    stage,
    stage_order,
    probability,
    probability_source,
    is_closed,
    is_won,
    amount,
    close_date,
    forecast_category,
    first_close_date,
    times_slipped,
    age_days,
    segment,
    partner_id,
    partner_name,
    partner_type,
    tier,
    partner_manager,
    basis,
    in_scope,
    scope_region,
    partner_types
from final
order by snapshot_date, opportunity_id
