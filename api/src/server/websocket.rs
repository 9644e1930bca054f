//! GraphQL over WebSocket on `/graphql/ws`: the graphql-transport-ws protocol (graphql-ws's;
//! GraphiQL speaks it), and the older subscriptions-transport-ws (subprotocol `graphql-ws`)
//! for clients that still use it. Queries, mutations and subscriptions all run; each goes
//! through the same pipeline as HTTP. The connection's `connection_init` names its client
//! once; every operation after it counts against that client's rate limit.
//!
//! Close codes, as graphql-transport-ws has them: 4400 a message that is not the
//! protocol's, 4401 `subscribe` before `connection_init`, 4403 a refused credential, 4408 no
//! `connection_init` in time, 4409 an id already running, 4429 a second `connection_init` (or
//! the rate limit at init); 1009 a message above the body limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_graphql::{Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::AppState;
use super::client::client_address;
use super::pipeline::{Caller, Credential, Pipeline, parse_request, refused};
use crate::error::{ErrorCode, Reason};

/// Operation ids are the client's names for its operations; longer ones are refused.
const MAX_ID_CHARS: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// graphql-transport-ws.
    TransportWs,
    /// subscriptions-transport-ws, whose subprotocol is called `graphql-ws`.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    /// The one the client offers, graphql-transport-ws first; it is also the default.
    fn offered(headers: &HeaderMap) -> Protocol {
        let offered: Vec<String> = headers
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|p| p.trim().to_ascii_lowercase())
            .collect();
        if offered.iter().any(|p| p == "graphql-ws") && !offered.iter().any(|p| p == "graphql-transport-ws") {
            Protocol::Legacy
        } else {
            Protocol::TransportWs
        }
    }

    fn next(self) -> &'static str {
        match self {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        }
    }
}

pub(super) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    let pipeline = state.pipeline.clone();
    let protocol = Protocol::offered(&headers);
    let address = client_address(peer.ip(), &headers, &pipeline.limits.trusted_proxies);
    let max = pipeline.limits.max_body_bytes;
    upgrade
        .protocols([protocol.name()])
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| serve(socket, pipeline, protocol, address))
}

/// What an operation's task hands the connection to send.
enum Outgoing {
    Message(String),
    /// The operation's last message; its id is free again once it is sent.
    Last {
        id: String,
        message: String,
    },
}

/// Why the server closes a connection.
struct Close(u16, String);

struct Connection {
    pipeline: Arc<Pipeline>,
    protocol: Protocol,
    address: IpAddr,
    caller: Option<Caller>,
    operations: HashMap<String, AbortHandle>,
    outgoing: mpsc::UnboundedSender<Outgoing>,
}

async fn serve(socket: WebSocket, pipeline: Arc<Pipeline>, protocol: Protocol, address: IpAddr) {
    let (mut sink, mut incoming) = socket.split();
    let (outgoing, mut queued) = mpsc::unbounded_channel();
    let init_timeout = tokio::time::sleep(pipeline.limits.connection_init_timeout);
    tokio::pin!(init_timeout);
    let max = pipeline.limits.max_body_bytes;
    let mut connection = Connection {
        pipeline,
        protocol,
        address,
        caller: None,
        operations: HashMap::new(),
        outgoing,
    };
    let close = loop {
        tokio::select! {
            () = &mut init_timeout, if connection.caller.is_none() => {
                break Some(Close(4408, "Connection initialisation timeout".to_owned()));
            }
            Some(out) = queued.recv() => {
                let text = match out {
                    Outgoing::Message(text) => text,
                    Outgoing::Last { id, message } => {
                        connection.operations.remove(&id);
                        message
                    }
                };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break None;
                }
            }
            message = incoming.next() => match message {
                None | Some(Ok(Message::Close(_))) => break None,
                Some(Err(error)) => {
                    // Reading failed: a message above the limit, or a broken connection.
                    let too_big = error.to_string().to_ascii_lowercase().contains("too long")
                        || error.to_string().to_ascii_lowercase().contains("too big")
                        || error.to_string().to_ascii_lowercase().contains("size");
                    break too_big.then(|| Close(1009, format!("a message may be at most {max} bytes")));
                }
                Some(Ok(Message::Binary(_))) => {
                    break Some(Close(4400, "messages are JSON text, not binary".to_owned()));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Text(text))) => match connection.receive(text.as_str()).await {
                    Ok(Some(reply)) => {
                        if sink.send(Message::Text(reply.into())).await.is_err() {
                            break None;
                        }
                    }
                    Ok(None) => {}
                    Err(close) => break close,
                },
            }
        }
    };
    for operation in connection.operations.values() {
        operation.abort();
    }
    if let Some(Close(code, reason)) = close {
        if protocol == Protocol::Legacy {
            let error = json!({ "type": "connection_error", "payload": { "message": reason } });
            let _ = sink.send(Message::Text(error.to_string().into())).await;
        }
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
}

impl Connection {
    /// Handles one message; answers it directly, or closes with `Err` (`Err(None)`: the
    /// client ended the connection).
    async fn receive(&mut self, text: &str) -> Result<Option<String>, Option<Close>> {
        let bad = |message: String| Err(Some(Close(4400, message)));
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return bad("a message must be a JSON object with a `type`".to_owned());
        };
        let kind = message.get("type").and_then(Value::as_str).unwrap_or_default();
        match (self.protocol, kind) {
            (_, "connection_init") => self.init(message.get("payload")).await.map(Some).map_err(Some),
            (Protocol::TransportWs, "ping") => Ok(Some(json!({ "type": "pong" }).to_string())),
            (Protocol::TransportWs, "pong") => Ok(None),
            (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start") => {
                self.start(message.get("id"), message.get("payload")).map(|()| None)
            }
            (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => {
                let id = message.get("id").and_then(Value::as_str).unwrap_or_default();
                let Some(operation) = self.operations.remove(id) else {
                    return Ok(None);
                };
                operation.abort();
                Ok((self.protocol == Protocol::Legacy).then(|| json!({ "type": "complete", "id": id }).to_string()))
            }
            (Protocol::Legacy, "connection_terminate") => Err(None),
            _ => {
                let known = match self.protocol {
                    Protocol::TransportWs => "connection_init, ping, pong, subscribe and complete",
                    Protocol::Legacy => "connection_init, start, stop and connection_terminate",
                };
                let shown: String = kind.chars().take(40).collect();
                bad(format!(
                    "unknown message type `{shown}`: {} knows {known}",
                    self.protocol.name()
                ))
            }
        }
    }

    /// `connection_init`: once, with an optional payload naming the client's token.
    async fn init(&mut self, payload: Option<&Value>) -> Result<String, Close> {
        if self.caller.is_some() {
            return Err(Close(4429, "Too many initialisation requests".to_owned()));
        }
        let credential = Credential::from_init_payload(payload).map_err(|error| match error.reason() {
            Reason::MalformedRequest => Close(4400, error.message().to_owned()),
            _ => Close(4403, format!("Forbidden: {}", error.message())),
        })?;
        let caller = self
            .pipeline
            .caller(credential, self.address, 1)
            .await
            .map_err(|error| match error.reason().code() {
                ErrorCode::RateLimited => Close(4429, error.message().to_owned()),
                _ => Close(4403, format!("Forbidden: {}", error.message())),
            })?;
        self.caller = Some(caller);
        if self.protocol == Protocol::Legacy {
            let _ = self
                .outgoing
                .send(Outgoing::Message(json!({ "type": "ka" }).to_string()));
        }
        Ok(json!({ "type": "connection_ack" }).to_string())
    }

    /// `subscribe`: runs the operation in a task of its own, which reports back through
    /// `outgoing`; errors of the operation are the operation's, not the connection's.
    fn start(&mut self, id: Option<&Value>, payload: Option<&Value>) -> Result<(), Option<Close>> {
        let Some(caller) = self.caller.clone() else {
            return Err(Some(Close(4401, "Unauthorized: send connection_init first".to_owned())));
        };
        let id = match id.and_then(Value::as_str) {
            Some(id) if !id.is_empty() && id.chars().count() <= MAX_ID_CHARS => id.to_owned(),
            _ => {
                return Err(Some(Close(
                    4400,
                    format!("`subscribe` needs an `id`: a string of 1 to {MAX_ID_CHARS} characters"),
                )));
            }
        };
        if self.operations.contains_key(&id) {
            let shown: String = id.chars().take(40).collect();
            return Err(Some(Close(4409, format!("Subscriber for {shown} already exists"))));
        }
        let protocol = self.protocol;
        let outgoing = self.outgoing.clone();
        let pipeline = self.pipeline.clone();
        let request = parse_request(payload.cloned().unwrap_or(Value::Null))
            .and_then(|request| pipeline.admit_operation(&caller).map(|()| request));
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            let id = task_id;
            let send_last = |message: Value| {
                let _ = outgoing.send(Outgoing::Last {
                    id: id.clone(),
                    message: message.to_string(),
                });
            };
            let request: Request = match request {
                Ok(request) => request,
                Err(error) => return send_last(error_message(&id, refused(error))),
            };
            if pipeline.is_subscription(&request) {
                let (_slot, mut stream) = match pipeline.subscribe(&caller, request) {
                    Ok(started) => started,
                    Err(error) => return send_last(error_message(&id, refused(error))),
                };
                let mut first = true;
                while let Some(response) = stream.next().await {
                    if first && response.data == async_graphql::Value::Null && response.is_err() {
                        return send_last(error_message(&id, response));
                    }
                    first = false;
                    let _ = outgoing.send(Outgoing::Message(next_message(protocol, &id, &response)));
                }
            } else {
                let response = pipeline.execute(&caller, request).await;
                if response.data == async_graphql::Value::Null && response.is_err() {
                    return send_last(error_message(&id, response));
                }
                let _ = outgoing.send(Outgoing::Message(next_message(protocol, &id, &response)));
            }
            send_last(json!({ "type": "complete", "id": id }));
        });
        self.operations.insert(id, task.abort_handle());
        Ok(())
    }
}

fn next_message(protocol: Protocol, id: &str, response: &Response) -> String {
    json!({ "type": protocol.next(), "id": id, "payload": response }).to_string()
}

/// An operation that ran no resolver (refused, or its query invalid): `error`, with the
/// errors' codes and reasons as over HTTP.
fn error_message(id: &str, response: Response) -> Value {
    json!({ "type": "error", "id": id, "payload": response.errors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn the_client_picks_the_protocol_and_graphql_transport_ws_is_the_default() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("sec-websocket-protocol", value.parse().unwrap());
            Protocol::offered(&headers)
        };
        assert!(with("graphql-ws") == Protocol::Legacy);
        assert!(with("graphql-ws, graphql-transport-ws") == Protocol::TransportWs);
        assert!(Protocol::offered(&HeaderMap::new()) == Protocol::TransportWs);
    }

    #[test]
    fn refusals_keep_their_code_and_reason() {
        let response = refused(ApiError::new(crate::error::Reason::TooManyRequests, "slow down"));
        let message = error_message("1", response);
        assert_eq!(message["payload"][0]["extensions"]["reason"], "TOO_MANY_REQUESTS");
        assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    }
}
