//! The floor: the HTTP stack our server is built on (axum, async-graphql, hyper, tokio, the
//! same runtime) answering `searchServices` with a constant page of the same shape and size
//! as a real answer. Its throughput is what the stack allows on this machine; search figures
//! are read as a share of it.

use std::net::SocketAddr;

use async_graphql::{EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};
use async_graphql_axum::GraphQL;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use api::search::ServiceSearchInput;

/// A constant answer: the edges of one real answer.
#[derive(SimpleObject, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Edge {
    score: f64,
    distance_km: Option<f64>,
    node: Node,
}

#[derive(SimpleObject, Clone, Deserialize)]
struct Node {
    id: ID,
    name: String,
}

#[derive(SimpleObject)]
struct Connection {
    edges: Vec<Edge>,
}

struct FloorQuery {
    edges: Vec<Edge>,
}

#[Object]
impl FloorQuery {
    /// Takes the real search's input, and answers the same page whatever it says.
    async fn search_services(&self, input: ServiceSearchInput, #[graphql(default = 20)] first: i32) -> Connection {
        let _ = input;
        Connection {
            edges: self.edges.iter().take(first.max(0) as usize).cloned().collect(),
        }
    }
}

/// A floor server on a free port of 127.0.0.1.
pub struct Floor {
    pub address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Floor {
    /// Serves the edges of `answer`, a real `searchServices` answer to the result-list query
    /// (`{"data":{"searchServices":{"edges":[…]}}}`).
    pub async fn start(answer: &serde_json::Value) -> anyhow::Result<Floor> {
        let edges: Vec<Edge> = serde_json::from_value(answer["data"]["searchServices"]["edges"].clone())?;
        anyhow::ensure!(!edges.is_empty(), "the floor needs a real answer with hits");
        let schema = Schema::build(FloorQuery { edges }, EmptyMutation, EmptySubscription).finish();
        let app = axum::Router::new().route_service("/graphql", GraphQL::new(schema));
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Floor { address, stop, task })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}
