//! Live updates for front ends: every new referral, status change and note is published to
//! the subscriptions of this server. A subscription on another replica sees changes made
//! through that replica only.

use entity::referral;
use tokio::sync::broadcast;

/// Updates a slow subscriber may fall behind by before it misses some.
const BACKLOG: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferralChange {
    Created,
    StatusChanged,
    NoteAdded,
}

/// Which referral changed and how; subscribers load it themselves, with their own rights.
#[derive(Clone, Debug)]
pub struct ReferralUpdate {
    pub referral_id: String,
    pub from_organization_id: String,
    pub to_organization_id: String,
    pub change: ReferralChange,
}

#[derive(Clone)]
pub struct ReferralFeed(broadcast::Sender<ReferralUpdate>);

impl Default for ReferralFeed {
    fn default() -> Self {
        ReferralFeed(broadcast::channel(BACKLOG).0)
    }
}

impl ReferralFeed {
    pub fn publish(&self, referral: &referral::Model, change: ReferralChange) {
        // No subscriber is not an error.
        let _ = self.0.send(ReferralUpdate {
            referral_id: referral.id.clone(),
            from_organization_id: referral.from_organization_id.clone(),
            to_organization_id: referral.to_organization_id.clone(),
            change,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ReferralUpdate> {
        self.0.subscribe()
    }
}
