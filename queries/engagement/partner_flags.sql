-- Which partners are dormant, overdue against their own rhythm, back from a gap, or burning out, as of a date.
-- Params:
--   $as_of (date, NULL = data_as_of): the day to judge on; events after it are ignored
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
-- Grain: one row per partner joined by $as_of and not terminated by then
-- Money: none
-- Scope: partner
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        max(value) filter (where key = 'settings_json') as settings_json
    from load_meta
),

settings as (
    select
        as_of,
        coalesce(cast(json_extract(settings_json, '$.dormancy_days') as integer), 90) as dormancy_days,
        coalesce(cast(json_extract(settings_json, '$.overdue_factor') as double), 2.0) as overdue_factor,
        coalesce(cast(json_extract(settings_json, '$.overdue_min_gaps') as integer), 3) as overdue_min_gaps,
        coalesce(cast(json_extract(settings_json, '$.overdue_min_days') as integer), 30) as overdue_min_days,
        coalesce(cast(json_extract(settings_json, '$.burnout.recent_days') as integer), 90) as recent_days,
        coalesce(cast(json_extract(settings_json, '$.burnout.baseline_days') as integer), 180) as baseline_days,
        coalesce(cast(json_extract(settings_json, '$.burnout.activity_drop') as double), 0.5) as activity_drop,
        coalesce(cast(json_extract(settings_json, '$.burnout.registration_drop') as double), 0.5) as registration_drop,
        coalesce(cast(json_extract(settings_json, '$.burnout.win_rate_drop') as double), 0.5) as win_rate_drop,
        coalesce(cast(json_extract(settings_json, '$.burnout.breadth_drop') as double), 0.34) as breadth_drop,
        coalesce(cast(json_extract(settings_json, '$.burnout.support_ticket_rise') as double), 1.0) as ticket_rise,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_signals') as integer), 3) as min_signals,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_baseline_activities') as integer), 6) as min_activities,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_baseline_registrations') as integer), 4) as min_registrations,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_baseline_closed') as integer), 6) as min_closed,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_recent_closed') as integer), 3) as min_recent_closed,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_baseline_breadth') as double), 3) as min_breadth,
        coalesce(cast(json_extract(settings_json, '$.burnout.min_support_tickets') as integer), 3) as min_tickets,
        coalesce(cast(json_extract(settings_json, '$.burnout.significance') as double), 0.01) as significance
    from meta
),

scoped_partners as (
    select p.partner_id, p.partner_name, p.partner_manager, p.tier, p.region, p.partner_types, p.joined_at, p.status
    from partners as p, settings as s
    where p.joined_at <= s.as_of
        and not (coalesce(p.status = 'terminated', false) and coalesce(p.terminated_at, p.joined_at) <= s.as_of)
        and partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
),

-- Only the burnout windows (recent and baseline) read single activities; longer histories come from rollups.
activities as (
    select a.partner_id, a.activity_type, a.occurred_at, cast(a.occurred_at as date) as activity_date
    -- Every partner's: the measures keep the scoped ones (left joins from scoped_partners).
    from partner_activities as a
    cross join settings as s
    where cast(a.occurred_at as date) <= s.as_of
        and cast(a.occurred_at as date) > s.as_of - s.recent_days - s.baseline_days
),

-- Registrations from their own extract when it is loaded, else from deal_registered activities.
registrations_loaded as (
    select coalesce(max(rows_loaded), 0) > 0 as loaded from load_report where table_name = 'deal_registrations'
),

registrations as (
    select r.partner_id, cast(r.registered_at as date) as registered_on
    from deal_registrations as r, registrations_loaded as l
    where l.loaded
    union all
    select a.partner_id, a.activity_date
    from activities as a, registrations_loaded as l
    where not l.loaded and a.activity_type = 'deal_registered'
),

-- Logic --------------------------------------------------------------------------------------

-- Effort days (any activity other than portal_login) with the gap since the previous one, built
-- once per build (loaders/rollups/); a day's gap only looks back, so it holds as of any later day.
work_days as (
    select d.partner_id, d.activity_date, d.work_gap_days as gap_days, d.last_work_at
    from rollup_partner_days as d
    cross join settings as s
    where d.is_work_day and d.activity_date <= s.as_of
),

gaps as (
    select partner_id, activity_date, gap_days from work_days
),

last_work as (
    select partner_id, max(last_work_at) as last_activity_at
    from work_days
    group by partner_id
),

rhythm as (
    select partner_id, median(gap_days) as usual_gap_days, count(*) as gap_count
    from gaps
    where gap_days is not null
    group by partner_id
),

returns as (
    select
        g.partner_id,
        max(g.activity_date) as returned_at,
        arg_max(g.gap_days, g.activity_date) as gap_before_return_days
    from gaps as g, settings as s
    where g.gap_days >= s.dormancy_days and g.activity_date > s.as_of - s.recent_days
    group by g.partner_id
),

-- Burnout windows: recent = (as_of - recent_days, as_of], baseline = the baseline_days before it.
windowed as (
    select
        a.partner_id,
        a.activity_type,
        a.activity_date,
        case
            when a.activity_date > s.as_of - s.recent_days then 'recent'
            when a.activity_date > s.as_of - s.recent_days - s.baseline_days then 'baseline'
        end as time_window,
        -- 0 = the baseline block just before the recent window, 1 = the one before, ...
        (s.as_of - s.recent_days - a.activity_date) // s.recent_days as baseline_block
    from activities as a, settings as s
    -- Only the recent and baseline windows count (older rows had no window and were not counted).
    where a.activity_date > s.as_of - s.recent_days - s.baseline_days
),

-- Engagement activity for rate and breadth: not logins, tickets or expiries (those are not effort).
effort as (
    select * from windowed
    where time_window is not null
        and activity_type not in ('portal_login', 'support_ticket', 'certification_expired')
),

activity_rates as (
    select
        e.partner_id,
        count(*) filter (where e.time_window = 'recent') as recent_activities,
        count(*) filter (where e.time_window = 'baseline') as baseline_activities,
        count(distinct e.activity_type) filter (where e.time_window = 'recent') as recent_breadth
    from effort as e
    group by e.partner_id
),

breadth_blocks as (
    select partner_id, baseline_block, count(distinct activity_type) as types
    from effort
    where time_window = 'baseline'
    group by partner_id, baseline_block
),

baseline_breadth as (
    select b.partner_id, sum(b.types) / max(s.baseline_days // s.recent_days) as baseline_breadth
    from breadth_blocks as b, settings as s
    group by b.partner_id
),

tickets as (
    select
        partner_id,
        count(*) filter (where time_window = 'recent') as recent_tickets,
        count(*) filter (where time_window = 'baseline') as baseline_tickets
    from windowed
    where activity_type = 'support_ticket'
    group by partner_id
),

-- Earned minus expired, from the per partner x certification x day rollup (rollup_certification_days.sql).
certifications as (
    select
        c.partner_id,
        greatest(sum(c.earned - c.expired) filter (where c.activity_date <= s.as_of - s.recent_days), 0) as certs_before,
        greatest(sum(c.earned - c.expired), 0) as certs_now
    from rollup_certification_days as c, settings as s
    where c.activity_date <= s.as_of
    group by c.partner_id
),

registration_counts as (
    select
        r.partner_id,
        count(*) filter (where r.registered_on > s.as_of - s.recent_days) as recent_registrations,
        count(*) filter (
            where r.registered_on <= s.as_of - s.recent_days
                and r.registered_on > s.as_of - s.recent_days - s.baseline_days
        ) as baseline_registrations
    from registrations as r
    inner join scoped_partners using (partner_id)
    cross join settings as s
    where r.registered_on <= s.as_of
    group by r.partner_id
),

-- A partner is involved in a deal it sourced (CRM), touched (on or before close, and by the day), or
-- registered (approved, by the day). rollup_deal_partners.sql keeps each pair's earliest touch and
-- registration day, and "some touch on or before X" holds exactly when the earliest one does.
partner_deals as (
    select p.partner_id, o.opportunity_id, o.amount, o.created_at, o.close_date, o.is_closed, o.is_won
    from rollup_deal_partners as p
    inner join opportunities as o using (opportunity_id)
    inner join scoped_partners using (partner_id)
    cross join settings as s
    where p.is_crm_sourced
        or p.first_touch_on <= least(o.close_date, s.as_of)
        or (not o.is_closed and p.first_touch_on <= s.as_of)
        or p.first_approved_registration_on <= s.as_of
),

win_rates as (
    select
        d.partner_id,
        count(*) filter (where d.close_date > s.as_of - s.recent_days) as recent_closed,
        count(*) filter (where d.close_date > s.as_of - s.recent_days and d.is_won) as recent_won,
        count(*) filter (where d.close_date <= s.as_of - s.recent_days) as baseline_closed,
        count(*) filter (where d.close_date <= s.as_of - s.recent_days and d.is_won) as baseline_won
    from partner_deals as d, settings as s
    where d.is_closed
        and d.close_date <= s.as_of
        and d.close_date > s.as_of - s.recent_days - s.baseline_days
    group by d.partner_id
),

-- Open as of the day: created by then and not yet closed then (deals closed later were still open).
open_pipeline as (
    select d.partner_id, sum(d.amount) as open_pipeline, count(*) as open_deals
    from partner_deals as d, settings as s
    where d.created_at <= s.as_of and (not d.is_closed or d.close_date > s.as_of)
    group by d.partner_id
),

measures as (
    select
        p.*,
        s.*,
        w.last_activity_at,
        datediff('day', coalesce(cast(w.last_activity_at as date), p.joined_at), s.as_of) as quiet_days,
        r.usual_gap_days,
        coalesce(r.gap_count, 0) as gap_count,
        ret.returned_at,
        ret.gap_before_return_days,
        coalesce(ar.recent_activities, 0) as recent_activities,
        coalesce(ar.baseline_activities, 0) * s.recent_days / s.baseline_days as baseline_activities_per_window,
        coalesce(ar.baseline_activities, 0) as baseline_activities,
        coalesce(ar.recent_breadth, 0) as recent_breadth,
        coalesce(bb.baseline_breadth, 0) as baseline_breadth,
        coalesce(rc.recent_registrations, 0) as recent_registrations,
        coalesce(rc.baseline_registrations, 0) as baseline_registrations,
        coalesce(rc.baseline_registrations, 0) * s.recent_days / s.baseline_days as baseline_registrations_per_window,
        coalesce(wr.recent_closed, 0) as recent_closed,
        coalesce(wr.baseline_closed, 0) as baseline_closed,
        wr.recent_won / nullif(wr.recent_closed, 0) as recent_win_rate,
        wr.baseline_won / nullif(wr.baseline_closed, 0) as baseline_win_rate,
        coalesce(c.certs_before, 0) as certs_before,
        coalesce(c.certs_now, 0) as certs_now,
        coalesce(t.recent_tickets, 0) as recent_tickets,
        coalesce(t.baseline_tickets, 0) * s.recent_days / s.baseline_days as baseline_tickets_per_window,
        coalesce(op.open_pipeline, 0) as open_pipeline,
        coalesce(op.open_deals, 0) as open_deals
    from scoped_partners as p
    cross join settings as s
    left join last_work as w using (partner_id)
    left join rhythm as r using (partner_id)
    left join returns as ret using (partner_id)
    left join activity_rates as ar using (partner_id)
    left join baseline_breadth as bb using (partner_id)
    left join registration_counts as rc using (partner_id)
    left join win_rates as wr using (partner_id)
    left join certifications as c using (partner_id)
    left join tickets as t using (partner_id)
    left join open_pipeline as op using (partner_id)
),

-- Is a fall of the activity rate by at least activity_drop more than chance? A one-sided exact test of the
-- two Poisson counts: given n = recent + baseline activities and an unchanged rate, the recent count is
-- binomial(n, p) with p = recent_days / (recent_days + baseline_days); the p-value is P(X <= recent), the
-- sum of the binomial terms, each from log-gamma so large counts do not overflow.
halved as (
    select
        partner_id,
        recent_activities as k,
        recent_activities + baseline_activities as n,
        recent_days / (recent_days + baseline_days) as p
    from measures
    where baseline_activities > 0 and recent_activities <= baseline_activities_per_window * (1 - activity_drop)
),

activity_tests as (
    select
        partner_id,
        least(sum(exp(lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) + i * ln(p) + (n - i) * ln(1 - p))), 1.0)
            as activity_fall_p
    from (select partner_id, n, p, unnest(range(0, k + 1)) as i from halved)
    group by partner_id
),

signals as (
    select
        *,
        quiet_days >= dormancy_days as is_dormant,
        gap_count >= overdue_min_gaps and quiet_days >= overdue_min_days
            and quiet_days > overdue_factor * usual_gap_days as is_overdue,
        baseline_activities >= min_activities
            and recent_activities <= baseline_activities_per_window * (1 - activity_drop) as activity_fell,
        baseline_registrations >= min_registrations
            and recent_registrations <= baseline_registrations_per_window * (1 - registration_drop) as registrations_fell,
        coalesce(
            baseline_closed >= min_closed and recent_closed >= min_recent_closed and baseline_win_rate > 0
            and recent_win_rate <= baseline_win_rate * (1 - win_rate_drop),
            false
        ) as win_rate_fell,
        baseline_breadth >= min_breadth and recent_breadth <= baseline_breadth * (1 - breadth_drop) as breadth_shrank,
        certs_now < certs_before as certifications_lapsed,
        recent_tickets >= min_tickets and recent_tickets >= baseline_tickets_per_window * (1 + ticket_rise) as tickets_rose,
        coalesce(activity_fall_p < significance, false) as activity_fall_significant
    from measures
    left join activity_tests using (partner_id)
),

final as (
    select
        partner_id,
        partner_name,
        partner_manager,
        tier,
        region,
        array_to_string(partner_types, ', ') as partner_types,
        status,
        joined_at,
        as_of,
        last_activity_at,
        case when last_activity_at is not null then quiet_days end as days_since_activity,
        quiet_days,
        is_dormant,
        cast(usual_gap_days as double) as usual_gap_days,
        is_overdue,
        activity_fell,
        registrations_fell,
        win_rate_fell,
        breadth_shrank,
        certifications_lapsed,
        tickets_rose,
        cast(activity_fell as integer) + cast(registrations_fell as integer) + cast(win_rate_fell as integer)
            + cast(breadth_shrank as integer) + cast(certifications_lapsed as integer)
            + cast(tickets_rose as integer) as burnout_signal_count,
        activity_fall_p,
        activity_fall_significant,
        -- A significant halving of the activity rate alone, or min_signals signals; the signals give the severity.
        -- A dormant partner is already gone: burnout is the warning before that.
        (activity_fall_significant or burnout_signal_count >= min_signals) and not is_dormant as burnout_risk,
        concat_ws(
            '; ',
            -- "usual" is the partner's own rate per window of the same length (a mean, so it has a
            -- decimal); "last N days" is a count: written apart so "27.0 -> 9" does not read as a typo.
            case when activity_fell or activity_fall_significant then printf(
                'activities: %d in the last %d days, usual %.1f (%+.0f%%, %s, %s)', recent_activities, recent_days,
                baseline_activities_per_window,
                100.0 * (recent_activities - baseline_activities_per_window) / baseline_activities_per_window,
                case when activity_fall_p < 0.0001 then 'p < 0.0001' else printf('p = %.4f', activity_fall_p) end,
                case when activity_fall_significant then 'unlikely to be chance' else 'could be chance' end
            ) end,
            case when registrations_fell then printf(
                'deal registrations: %d in the last %d days, usual %.1f', recent_registrations, recent_days,
                baseline_registrations_per_window
            ) end,
            case when win_rate_fell then printf(
                'win rate: %.0f%% (%d closed) in the last %d days, before %.0f%% (%d closed)',
                100 * recent_win_rate, recent_closed, recent_days, 100 * baseline_win_rate, baseline_closed
            ) end,
            case when breadth_shrank then printf(
                'activity types: %d in the last %d days, usual %.1f', recent_breadth, recent_days, baseline_breadth
            ) end,
            case when certifications_lapsed then printf('active certifications: %d, were %d', certs_now, certs_before) end,
            case when tickets_rose then printf(
                'support tickets: %d in the last %d days, usual %.1f', recent_tickets, recent_days, baseline_tickets_per_window
            ) end
        ) as burnout_signals,
        returned_at is not null as returned,
        returned_at,
        gap_before_return_days,
        cast(open_pipeline as decimal(18, 2)) as open_pipeline,
        open_deals
    from signals
)

select
    partner_id, partner_name, partner_manager, tier, region, partner_types, status, joined_at, as_of,
    last_activity_at, days_since_activity, quiet_days, is_dormant, usual_gap_days, is_overdue,
    activity_fell, registrations_fell, win_rate_fell, breadth_shrank, certifications_lapsed, tickets_rose,
    activity_fall_p, activity_fall_significant, burnout_signal_count, burnout_risk, burnout_signals, returned, returned_at, gap_before_return_days,
    open_pipeline, open_deals
from final
order by partner_id
