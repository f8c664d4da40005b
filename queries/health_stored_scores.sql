-- Every partner's health score with the default weights on one stored day, computed once at build time by health_score.store_health.
-- Params:
--   $scored_on (date): the day scored (one listed by health_stored_days)
-- Grain: one row per partner joined by $scored_on and not terminated by then, healthiest first
select
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
where scored_on = $scored_on
order by row_number
