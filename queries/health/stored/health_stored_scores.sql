-- Every partner's health score with the default weights on one day store_health scored, computed once at build time by health_score.store_health.
-- Params:
--   $as_of (date, NULL = data_as_of): the day scored (one health_stored_days lists; any other gives no rows)
-- Grain: one row per partner joined by the day and not terminated, healthiest first (partner_health_scores' rows)
-- Money: none
-- Scope: partner
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
where scored_on = coalesce($as_of, (select scored_on from health_days_precomputed where is_data_as_of))
order by row_number
