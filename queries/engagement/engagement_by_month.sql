-- Engagement score (0-100) per partner and month: type-weighted activity decayed with a half-life, ranked against all partners.
-- Params:
--   $as_of (date, NULL = data_as_of): the last day counted; the current month is scored on this day, past months on their last day
--   $months (integer, NULL = 12): how many months to score, ending with the month of $as_of
--   $managers (varchar[], NULL = all): partner managers to keep
--   $regions (varchar[], NULL = all): partner regions to keep
--   $tiers (varchar[], NULL = all): partner tiers to keep
--   $partner_types (varchar[], NULL = all): partner types to keep (a partner with any of them)
--   $partner_id (varchar, NULL = every partner): one partner only (still ranked against all)
-- Grain: one row per partner x month (partners joined and not terminated by the scoring day of the month)
-- Money: none
-- Scope: partner
with

meta as (
    select
        coalesce($as_of, cast(nullif(max(value) filter (where key = 'data_as_of'), '') as date)) as as_of,
        coalesce(
            cast(json_extract(max(value) filter (where key = 'settings_json'), '$.engagement_half_life_days') as double), 30
        ) as half_life_days
    from load_meta
),

months as (
    select
        cast(date_trunc('month', m.as_of) - to_months(cast(i as integer)) as date) as month,
        least(cast(date_trunc('month', m.as_of) - to_months(cast(i as integer) - 1) as date) - 1, m.as_of) as scored_on
    from meta as m, generate_series(0, coalesce($months, 12) - 1) as t(i)
),

-- A month scored on its last day does not depend on $as_of: its scores are stored once per build
-- (rollup_partner_month_scores, written by loaders/rollups/ from this query) for every month
-- from the first to the last with activity. Other months are scored here.
stored_scores as (
    select partner_id, month, scored_on, raw_engagement, engagement_score from rollup_partner_month_scores
),

stored_range as (
    select min(month) as first_month, max(month) as last_month from rollup_partner_month_scores
),

scored_months as (
    select
        m.month,
        m.scored_on,
        coalesce(m.scored_on = last_day(m.scored_on) and m.month between r.first_month and r.last_month, false) as stored
    from months as m
    cross join stored_range as r
),

-- Ranking population: every partner on the books that day, whatever the filters.
population as (
    select p.partner_id, m.month, m.scored_on
    from partners as p, scored_months as m
    where not m.stored
        and p.joined_at <= m.scored_on
        and not (coalesce(p.status = 'terminated', false) and coalesce(p.terminated_at, p.joined_at) <= m.scored_on)
),

-- Built once per build (loaders/rollups/): each partner's raw value on every month's last day
-- (every month from its first active one to the last month with activity of any partner), and
-- its weighted activity per day.
month_ends as (
    select partner_id, month_end, raw_engagement from rollup_partner_month_engagement
),

last_month_end as (
    select max(month_end) as month_end from rollup_partner_month_engagement
),

days as (
    select partner_id, month, activity_date, weight from rollup_partner_days where weight > 0
),

-- Logic --------------------------------------------------------------------------------------

-- Raw value on the scoring day = sum of weight x 0.5^(days before the scoring day / half-life)
-- over activities up to that day: the value at the last month end on or before it, decayed to
-- the day, plus the activities of the days after that month end (only the scoring day's month).
-- That month end is the scoring day itself or the last day of the month before (capped at the
-- rollup's last month end), and the partner has a row for it unless it had no activity by then.
anchor_days as (
    select
        pop.*,
        least(
            case
                when pop.scored_on = last_day(pop.scored_on) then pop.scored_on
                else cast(date_trunc('month', pop.scored_on) as date) - 1
            end,
            l.month_end
        ) as anchor_day
    from population as pop
    cross join last_month_end as l
),

anchored as (
    select a.* exclude (anchor_day), e.month_end as anchor_on, e.raw_engagement as anchor_raw
    from anchor_days as a
    left join month_ends as e on e.partner_id = a.partner_id and e.month_end = a.anchor_day
),

partial_month as (
    select a.partner_id, a.month, sum(d.weight * pow(0.5, datediff('day', d.activity_date, a.scored_on) / meta.half_life_days)) as raw
    from anchored as a
    cross join meta
    inner join days as d
        on d.partner_id = a.partner_id
        and d.month = cast(date_trunc('month', a.scored_on) as date)
        and d.activity_date <= a.scored_on
        and d.activity_date > coalesce(a.anchor_on, date '0001-01-01')
    -- A month scored on its last day is anchored on that day, or the partner had no activity by
    -- then: only a scoring day inside its month (the month of $as_of) adds days.
    where a.anchor_on is distinct from a.scored_on and a.scored_on <> last_day(a.scored_on)
    group by a.partner_id, a.month
),

raw_scores as (
    select
        a.* exclude (anchor_on, anchor_raw),
        coalesce(a.anchor_raw * pow(0.5, datediff('day', a.anchor_on, a.scored_on) / meta.half_life_days), 0)
            + coalesce(p.raw, 0) as raw_engagement
    from anchored as a
    cross join meta
    left join partial_month as p using (partner_id, month)
),

-- Ranked against every partner on the books; the filters apply after.
ranked as (
    select
        *,
        case when raw_engagement > 0 then 100 * cume_dist() over (partition by month order by raw_engagement) else 0 end
            as engagement_score
    from raw_scores
),

scores as (
    select
        partner_id,
        month,
        scored_on,
        cast(raw_engagement as double) as raw_engagement,
        cast(round(engagement_score, 1) as double) as engagement_score
    from ranked
    union all
    select s.partner_id, s.month, s.scored_on, s.raw_engagement, s.engagement_score
    from stored_scores as s
    inner join scored_months as m on m.month = s.month and m.stored
),

final as (
    select
        r.partner_id,
        p.partner_name,
        p.partner_manager,
        r.month,
        r.scored_on,
        r.raw_engagement,
        r.engagement_score
    from scores as r
    inner join partners as p using (partner_id)
    where ($partner_id is null or r.partner_id = $partner_id)
        and partner_in_scope(p.region, p.tier, p.partner_types, p.partner_manager, $regions, $tiers, $partner_types, $managers)
)

select partner_id, partner_name, partner_manager, month, scored_on, raw_engagement, engagement_score
from final
order by partner_id, month
