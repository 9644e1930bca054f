//! GraphQL over HTTP: `POST /graphql` with a JSON body (one operation or a batch), and
//! GraphiQL on `GET /graphql`. What the body may be is checked here; every operation then
//! goes through the pipeline.

use std::net::SocketAddr;

use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchResponse, Request};
use async_graphql_axum::GraphQLResponse;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use super::client::client_address;
use super::pipeline::{Credential, parse_request as request, refused};
use crate::error::{ApiError, Reason};

pub(super) async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match answer(&state, peer, &headers, body).await {
        Ok(response) => response,
        Err(error) => refusal(error),
    }
}

async fn answer(state: &AppState, peer: SocketAddr, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let pipeline = &state.pipeline;
    let limits = &pipeline.limits;
    // A browser sends `text/plain` and form bodies cross-origin without asking first; only
    // a JSON body proves the caller could set its headers.
    if !is_json(headers) {
        return Err(ApiError::new(
            Reason::UnsupportedContentType,
            "send the GraphQL request as JSON, with `Content-Type: application/json`",
        ));
    }
    let bytes = axum::body::to_bytes(body, limits.max_body_bytes).await.map_err(|_| {
        ApiError::new(
            Reason::BodyTooLarge,
            format!("the request body is larger than {} bytes", limits.max_body_bytes),
        )
    })?;
    let (batched, requests) = parse_body(&bytes)?;
    if batched && !(1..=limits.max_batch).contains(&requests.len()) {
        return Err(ApiError::new(
            Reason::BatchSize,
            format!(
                "a batch holds 1 to {} operations, got {}",
                limits.max_batch,
                requests.len()
            ),
        ));
    }
    let authorization =
        match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| {
                ApiError::new(Reason::MalformedCredentials, "`Authorization` must be `Bearer <token>`")
            })?),
        };
    let credential = Credential::parse(authorization)?;
    let address = client_address(peer.ip(), headers, &limits.trusted_proxies);
    let operations = u32::try_from(requests.len()).unwrap_or(u32::MAX);
    let caller = pipeline.caller(credential, address, operations).await?;
    let mut responses =
        futures_util::future::join_all(requests.into_iter().map(|request| pipeline.execute(&caller, request))).await;
    let response = if batched {
        BatchResponse::Batch(responses)
    } else {
        BatchResponse::Single(responses.remove(0))
    };
    Ok(GraphQLResponse::from(response).into_response())
}

/// `application/json` or `application/graphql-response+json`, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.eq_ignore_ascii_case("application/graphql-response+json")
}

/// The body's requests, and whether they came as a batch, with what is wrong said in the
/// client's terms.
fn parse_body(bytes: &[u8]) -> Result<(bool, Vec<Request>), ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            Reason::MalformedRequest,
            format!(
                "the request body is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })?;
    match value {
        Value::Array(items) => Ok((
            true,
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    request(item).map_err(|error| {
                        ApiError::new(
                            Reason::MalformedRequest,
                            format!("operation {}: {}", i + 1, error.message()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        )),
        item => Ok((false, vec![request(item)?])),
    }
}

/// A refusal before any operation ran, with the status the error table gives it.
fn refusal(error: ApiError) -> Response {
    let status = error.reason().status();
    let retry_after = error.retry_after();
    let mut response = (status, GraphQLResponse::from(refused(error))).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if status == axum::http::StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

pub(super) async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("socialmap")
            .finish(),
    )
}
