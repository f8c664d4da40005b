-- Partners' health scores with the default weights on stored days, computed once at build time by health_score.store_health.
-- Params:
--   $days (date[]): the days scored (ones listed by health_stored_days)
--   $partner_id (varchar, NULL = every partner): one partner only (Partner 360's history)
-- Grain: one row per stored day x partner joined by then and not terminated, by day and healthiest first
-- Money: none
-- Scope: partner
select
    scored_on,
    partner_id,
    partner_name,
    partner_manager,
    region,
    tier,
    partner_type,
    health_score,
    rank,
    history_share,
    observed_score,
    segment_score,
    revenue_component,
    pipeline_component,
    engagement_component,
    enablement_component,
    relationship_component,
    revenue_weight,
    pipeline_weight,
    engagement_weight,
    enablement_weight,
    relationship_weight,
    revenue_12m,
    open_pipeline,
    engagement_score,
    certifications_current,
    trainings_12m,
    business_reviews_12m,
    registration_approval_rate,
    months_of_history,
    p_won_next_quarter,
    as_of,
    partner_types
from health_scores_precomputed
where list_contains($days, scored_on) and ($partner_id is null or partner_id = $partner_id)
order by scored_on, row_number
