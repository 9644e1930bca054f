//! Live updates for the members of a plan's circle: which plan changed, what kind of thing,
//! in which domain. Subscribers reload what changed with their own rights, so an update
//! carries no plan content. A subscription on another replica sees changes made through that
//! replica only, as for referrals.

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use tokio::sync::broadcast;

use entity::support_plan_member::{self, MemberStatus};

/// Updates a slow subscriber may fall behind by before it misses some.
const BACKLOG: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanChange {
    Step,
    Goal,
    Actor,
    DomainNote,
    Meeting,
    /// An invitation was sent, answered or withdrawn, or a member removed.
    Invitation,
    Transfer,
    Closed,
}

#[derive(Clone, Debug)]
pub struct PlanUpdate {
    pub plan_id: String,
    pub change: PlanChange,
    /// The life domain it concerns; none for what every member sees.
    pub domain: Option<String>,
    /// The id of what changed (step, goal, actor, invitation, meeting, transfer).
    pub subject_id: String,
    /// An organization outside the circle the update is for too: the one invited, or
    /// offered the plan.
    pub addressee: Option<String>,
}

#[derive(Clone)]
pub struct PlanFeed(broadcast::Sender<PlanUpdate>);

impl Default for PlanFeed {
    fn default() -> Self {
        PlanFeed(broadcast::channel(BACKLOG).0)
    }
}

impl PlanFeed {
    pub fn publish(&self, update: PlanUpdate) {
        // No subscriber is not an error.
        let _ = self.0.send(update);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<PlanUpdate> {
        self.0.subscribe()
    }
}

/// Whether `organization` should hear of `update`: it is addressed to it, or the
/// organization is in the plan's circle now and sees the domain.
pub async fn concerns(db: &DatabaseConnection, update: &PlanUpdate, organization: &str) -> Result<bool, DbErr> {
    if update.addressee.as_deref() == Some(organization) {
        return Ok(true);
    }
    let member = support_plan_member::Entity::find()
        .filter(support_plan_member::Column::PlanId.eq(update.plan_id.as_str()))
        .filter(support_plan_member::Column::OrganizationId.eq(organization))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Active))
        .one(db)
        .await?;
    Ok(member.is_some_and(|m| {
        m.coordinator
            || update.domain.as_ref().is_none_or(|domain| {
                serde_json::from_str::<Vec<String>>(&m.domains)
                    .unwrap_or_default()
                    .contains(domain)
            })
    }))
}
