//! Support-plan statistics for municipalities: how many plans are open, and per life domain
//! how many goals were set, how many reached, and how many open plans have a gap there
//! (a goal or a need and nobody helping). Counts only, never a count below five, so that no
//! family can be singled out; they survive erasure, which leaves domains and statuses.

use std::collections::{BTreeMap, HashMap};

use entity::support_plan_goal::GoalStatus;
use entity::{service, support_plan, support_plan_actor, support_plan_domain_note, support_plan_goal};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::PlansError;
use super::gaps::gap_reason;
use crate::auth::{StatisticsScope, Viewer};
use crate::reference::ReferenceData;
use crate::referrals::SMALLEST_SHOWN;

/// One municipality's plans.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanStatistics {
    pub municipality_code: String,
    /// `None` below five.
    pub plans_open: Option<u64>,
    pub domains: Vec<DomainStatistics>,
}

/// One life domain of a municipality's plans; counts `None` below five.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainStatistics {
    pub domain_code: String,
    pub goals: Option<u64>,
    pub goals_reached: Option<u64>,
    /// Reached over set, when both counts are shown.
    pub share_reached: Option<f64>,
    /// Open plans with a gap in this domain.
    pub unfilled_gaps: Option<u64>,
}

/// One plan's goals, "missing" notes and actors.
#[derive(Default)]
struct PlanRows {
    goals: Vec<support_plan_goal::Model>,
    notes: Vec<support_plan_domain_note::Model>,
    actors: Vec<support_plan_actor::Model>,
}

fn shown(n: u64) -> Option<u64> {
    (n >= SMALLEST_SHOWN).then_some(n)
}

/// Statistics per municipality, for admins (any or all municipalities) and municipality
/// editors (their own).
pub async fn statistics(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    municipality_code: Option<&str>,
) -> Result<Vec<PlanStatistics>, PlansError> {
    let Some(scope) = viewer.statistics_scope(municipality_code)? else {
        return Err(PlansError::Forbidden(
            "support-plan statistics are for admins and for the editors of that municipality".to_owned(),
        ));
    };
    if let Some(code) = municipality_code {
        reference.require_municipality(code)?;
    }
    let mut query = support_plan::Entity::find();
    if let StatisticsScope::Only(codes) = scope {
        query = query.filter(support_plan::Column::MunicipalityCode.is_in(codes));
    }
    let plans = query.all(db).await?;
    let ids: Vec<String> = plans.iter().map(|p| p.id.clone()).collect();
    let goals = support_plan_goal::Entity::find()
        .filter(support_plan_goal::Column::PlanId.is_in(ids.clone()))
        .all(db)
        .await?;
    let notes = support_plan_domain_note::Entity::find()
        .filter(support_plan_domain_note::Column::PlanId.is_in(ids.clone()))
        .filter(support_plan_domain_note::Column::Missing.is_not_null())
        .all(db)
        .await?;
    let actors = support_plan_actor::Entity::find()
        .filter(support_plan_actor::Column::PlanId.is_in(ids))
        .all(db)
        .await?;
    let on_map = service::Entity::find()
        .filter(service::Column::Id.is_in(actors.iter().filter_map(|a| a.service_id.clone())))
        .all(db)
        .await?;

    // Each plan's rows, grouped once: a gap is a plan's own matter.
    let mut of_plan: HashMap<&str, PlanRows> = HashMap::new();
    for goal in &goals {
        of_plan.entry(&goal.plan_id).or_default().goals.push(goal.clone());
    }
    for note in &notes {
        of_plan.entry(&note.plan_id).or_default().notes.push(note.clone());
    }
    for actor in &actors {
        of_plan.entry(&actor.plan_id).or_default().actors.push(actor.clone());
    }
    let none = PlanRows::default();
    let mut by_municipality: BTreeMap<&str, Vec<&support_plan::Model>> = BTreeMap::new();
    for plan in &plans {
        by_municipality.entry(&plan.municipality_code).or_default().push(plan);
    }
    let mut rows = Vec::new();
    for (municipality, plans) in by_municipality {
        let rows_of = |plan: &support_plan::Model| of_plan.get(plan.id.as_str()).unwrap_or(&none);
        let open: Vec<&PlanRows> = plans
            .iter()
            .filter(|p| p.closed_at.is_none())
            .map(|p| rows_of(p))
            .collect();
        let mut domains = Vec::new();
        for domain in reference.top_domains() {
            let code = domain.code.as_str();
            let set: Vec<_> = plans
                .iter()
                .flat_map(|p| rows_of(p).goals.iter())
                .filter(|g| g.domain == code)
                .collect();
            let reached = set.iter().filter(|g| g.status == GoalStatus::Reached).count() as u64;
            let unfilled = open
                .iter()
                .filter(|r| gap_reason(code, &r.goals, &r.notes, &r.actors, &on_map).is_some())
                .count() as u64;
            let (goals_shown, reached_shown) = (shown(set.len() as u64), shown(reached));
            if goals_shown.is_none() && shown(unfilled).is_none() {
                continue;
            }
            domains.push(DomainStatistics {
                domain_code: code.to_owned(),
                goals: goals_shown,
                goals_reached: reached_shown,
                share_reached: goals_shown
                    .zip(reached_shown)
                    .map(|(set, reached)| reached as f64 / set as f64),
                unfilled_gaps: shown(unfilled),
            });
        }
        rows.push(PlanStatistics {
            municipality_code: municipality.to_owned(),
            plans_open: shown(open.len() as u64),
            domains,
        });
    }
    Ok(rows)
}
