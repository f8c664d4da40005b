-- One partner's stored health scores (default weights) on the given stored days, computed once at build time by health_score.store_health.
-- Params:
--   $partner_id (varchar): the partner
--   $days (date[]): the days scored (ones listed by health_stored_days)
-- Grain: one row per stored day the partner was on the books
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
where partner_id = $partner_id and list_contains($days, scored_on)
order by row_number
