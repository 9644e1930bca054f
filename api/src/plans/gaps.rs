//! Where the map and the plan meet: the domains with an open goal or a "missing" note and nobody
//! helping, and for each the services that cover the family's municipality and speak its
//! languages (staff or interpreter), ranked by the search module as `searchServices` ranks.

use std::collections::HashMap;
use std::sync::Arc;

use entity::support_plan_goal::GoalStatus;
use entity::{service, support_plan_actor, support_plan_domain_note, support_plan_goal};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Intent, Keyring, PLAN, PlansError, access, helps, log_read, own_domains};
use crate::auth::Viewer;
use crate::reference::ReferenceData;
use crate::relay::PageRequest;
use crate::search::{Near, SearchIndex, SearchRequest, Shown};

/// How many services a gap suggests.
const SUGGESTIONS: usize = 5;

/// Why a domain is a gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapReason {
    /// The action plan has a goal there and the network map nobody who helps.
    GoalWithoutActor,
    /// The network map notes something missing there, and nobody helps.
    MissingWithoutActor,
}

#[derive(Clone, Debug)]
pub struct Gap {
    pub domain: String,
    /// The name of a domain of the family's own.
    pub own_name: Option<String>,
    pub reason: GapReason,
    /// Suggested services, best first.
    pub services: Vec<service::Model>,
}

/// Why `domain` is a gap, if it is: an open goal or a "missing" note there, and no actor who
/// helps. `notes` are those with something missing.
pub(super) fn gap_reason(
    domain: &str,
    goals: &[support_plan_goal::Model],
    notes: &[support_plan_domain_note::Model],
    actors: &[support_plan_actor::Model],
    on_map: &[service::Model],
) -> Option<GapReason> {
    if actors.iter().any(|a| a.domain == domain && helps(a, on_map)) {
        return None;
    }
    if goals.iter().any(|g| g.domain == domain && g.status == GoalStatus::Open) {
        Some(GapReason::GoalWithoutActor)
    } else if notes.iter().any(|n| n.domain == domain && n.missing.is_some()) {
        Some(GapReason::MissingWithoutActor)
    } else {
        None
    }
}

/// The gaps in the domains the viewer sees, in the order of the life domains and then the
/// plan's own (whose suggestions are found by the domain's name). A read of the plan, and
/// logged as one.
pub async fn gaps(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    search: &Arc<SearchIndex>,
    viewer: &Viewer,
    plan_id: &str,
) -> Result<Vec<Gap>, PlansError> {
    let (plan, access) = access(db, viewer, plan_id, Intent::Read, PLAN, plan_id).await?;
    log_read(db, plan_id, &access).await?;
    let goals = support_plan_goal::Entity::find()
        .filter(support_plan_goal::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    let notes = support_plan_domain_note::Entity::find()
        .filter(support_plan_domain_note::Column::PlanId.eq(plan_id))
        .filter(support_plan_domain_note::Column::Missing.is_not_null())
        .all(db)
        .await?;
    let actors = support_plan_actor::Entity::find()
        .filter(support_plan_actor::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    let service_ids: Vec<String> = actors.iter().filter_map(|a| a.service_id.clone()).collect();
    let on_map = service::Entity::find()
        .filter(service::Column::Id.is_in(service_ids))
        .all(db)
        .await?;
    let languages: Vec<String> = serde_json::from_str(&plan.languages).unwrap_or_default();

    // The life domains first, then the family's own, each searched by its name.
    let mut domains: Vec<(String, Option<String>)> = reference.top_domains().map(|d| (d.code.clone(), None)).collect();
    domains.extend(
        own_domains(db, keyring, plan_id)
            .await?
            .into_iter()
            .map(|own| (own.code, Some(own.name))),
    );
    let mut found = Vec::new();
    for (code, own_name) in domains.into_iter().filter(|(code, _)| access.sees(code)) {
        let Some(reason) = gap_reason(&code, &goals, &notes, &actors, &on_map) else {
            continue;
        };
        let request = SearchRequest {
            near: Some(Near::Municipality(plan.municipality_code.clone())),
            domains: if own_name.is_none() {
                vec![code.clone()]
            } else {
                Vec::new()
            },
            text: own_name.clone(),
            languages: languages.clone(),
            include_interpreted: true,
            shown: Shown::HITS,
            ..SearchRequest::default()
        };
        let page = PageRequest {
            offset: 0,
            limit: SUGGESTIONS,
        };
        let results = search.search_in_turn(request, page).await?;
        let ids: Vec<String> = results.hits.iter().map(|h| h.service_id.clone()).collect();
        let mut services: HashMap<String, service::Model> = service::Entity::find()
            .filter(service::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        found.push(Gap {
            domain: code,
            own_name,
            reason,
            // In the search's order; a service deleted since the index caught up is left out.
            services: ids.iter().filter_map(|id| services.remove(id)).collect(),
        });
    }
    Ok(found)
}
