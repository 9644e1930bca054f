//! The GraphQL schema: the capabilities' query roots merged, the Relay `node` entry point,
//! and the limits every request runs under.

use std::sync::Arc;

use async_graphql::{Context, ID, Interface, MergedObject, MergedSubscription, Object, Schema};

use crate::auth::{AuthMutation, AuthQuery, LoginLimiter};
use crate::error::ApiResult;
use crate::hsds::import::HsdsMutation;
use sea_orm::DatabaseConnection;

use crate::listings::{
    self, CoverageQuery, ListingsMutation, ListingsQuery, Location, Organization, Service, SuggestionLimiter,
    SuggestionsMutation, SuggestionsQuery,
};
use crate::metrics::Metrics;
use crate::plans::types::{PlansMutation, PlansQuery, PlansSubscription};
use crate::reference::{Language, LifeDomain, Municipality, ReferenceData, ReferenceQuery};
use crate::referrals::types::{ReferralSubscription, ReferralsMutation, ReferralsQuery};
use crate::referrals::{Keyring, ReferralFeed};
use crate::relay::{self, NodeKind};
use crate::search::{SearchIndex, SearchQuery};
use crate::server::{MAX_COMPLEXITY, MAX_DEPTH};

pub type AppSchema = Schema<Query, Mutation, Subscription>;

#[derive(MergedObject, Default)]
pub struct Query(
    NodeQuery,
    ReferenceQuery,
    ListingsQuery,
    SearchQuery,
    AuthQuery,
    ReferralsQuery,
    SuggestionsQuery,
    CoverageQuery,
    PlansQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AuthMutation,
    ListingsMutation,
    SuggestionsMutation,
    ReferralsMutation,
    HsdsMutation,
    PlansMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(ReferralSubscription, PlansSubscription);

/// Anything with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Municipality(Municipality),
    LifeDomain(LifeDomain),
    Language(Language),
    Organization(Organization),
    Service(Service),
    Location(Location),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null if it does not exist.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let (kind, key) = relay::parse_global_id(&id)?;
        let reference = ctx.data_unchecked::<Arc<ReferenceData>>();
        let db = ctx.data_unchecked::<DatabaseConnection>();
        Ok(match kind {
            NodeKind::Municipality => Municipality::by_code(reference, &key).map(Node::Municipality),
            NodeKind::LifeDomain => LifeDomain::by_code(reference, &key).map(Node::LifeDomain),
            NodeKind::Language => Language::by_code(reference, &key).map(Node::Language),
            NodeKind::Organization => listings::organization(db, &key)
                .await?
                .map(|o| Node::Organization(Organization(o))),
            NodeKind::Service => listings::service(db, &key).await?.map(|s| Node::Service(Service(s))),
            NodeKind::Location => listings::location(db, &key).await?.map(|l| Node::Location(Location(l))),
        })
    }
}

/// The schema with its shared data and the complexity and depth every request is held to.
/// Per-request data (the viewer, the client's address, the DataLoader) is added by the
/// request pipeline, which also counts searches and times requests. No schema extension:
/// with one, async-graphql runs every field of every answer through its hooks.
pub fn build_schema(
    db: DatabaseConnection,
    reference: Arc<ReferenceData>,
    search: Arc<SearchIndex>,
    keyring: Arc<Keyring>,
    feed: ReferralFeed,
    metrics: Arc<Metrics>,
    introspection: bool,
) -> AppSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), Subscription::default())
        .limit_complexity(MAX_COMPLEXITY)
        .limit_depth(MAX_DEPTH)
        .data(metrics);
    let builder = if introspection {
        builder
    } else {
        builder.disable_introspection()
    };
    builder
        .data(db)
        .data(reference)
        .data(search)
        .data(keyring)
        .data(feed)
        .data(Arc::new(LoginLimiter::default()))
        .data(Arc::new(SuggestionLimiter::default()))
        .data(Arc::new(crate::plans::FamilyLimiter::default()))
        .data(crate::plans::PlanFeed::default())
        .finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
        .finish()
        .sdl()
}
