//! The HSDS 3.0 API under `/hsds/` (`schema/openapi.json` of the specification): read-only,
//! open to every origin, paged in the specification's `Page` shape, filters combined with
//! AND. Every error is `{"error": …}`, readable from any origin like every answer: a bad
//! parameter (or one given twice) is `400`, an unknown id or path `404`, a method other
//! than GET, HEAD or OPTIONS `405`. A CORS preflight (`OPTIONS`) is `204`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{location, organization, search_key, service, service_domain, service_location};
use sea_orm::sea_query::Query as Sql;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::HsdsError;
use super::documents::{self, Catalog, Form};
use crate::geo::{Position, distance_km};
use crate::reference::ReferenceData;
use crate::search::{SearchIndex, SearchRequest, Shown};

const DEFAULT_PER_PAGE: u64 = 50;
const MAX_PER_PAGE: u64 = 500;
/// The most search hits a `search` filter considers.
const MAX_SEARCH_HITS: usize = 1_000;
/// The widest `proximity`, in metres: from any Belgian postcode, further than the map
/// reaches.
const MAX_PROXIMITY_METRES: f64 = 500_000.0;
/// What the API answers to: it only reads.
const ALLOWED_METHODS: &str = "GET, HEAD, OPTIONS";
/// Request headers a browser may send cross-origin. `Authorization` is accepted (and ignored:
/// the API is public) so that clients that always send one are not refused.
const ALLOWED_HEADERS: &str = "Accept, Accept-Language, Authorization, Content-Type, If-Modified-Since, If-None-Match";
/// The published OpenAPI description of this API (the specification's, unchanged).
const OPENAPI: &str = include_str!("../../hsds-3.0/openapi.json");

#[derive(Clone)]
pub struct HsdsState {
    pub db: DatabaseConnection,
    pub reference: Arc<ReferenceData>,
    pub search: Arc<SearchIndex>,
}

/// The HSDS routes, all under `/hsds`. Any other path under `/hsds/` is the API's own JSON
/// `404`; the rest of the server keeps its own fallback.
pub fn router(state: HsdsState) -> Router {
    Router::new()
        .route("/hsds", endpoint(base))
        .route("/hsds/", endpoint(base))
        .route("/hsds/openapi.json", endpoint(openapi))
        .route("/hsds/services", endpoint(services))
        .route("/hsds/services/{id}", endpoint(service_by_id))
        .route("/hsds/organizations", endpoint(organizations))
        .route("/hsds/organizations/{id}", endpoint(organization_by_id))
        .route("/hsds/taxonomies", endpoint(taxonomies))
        .route("/hsds/taxonomies/{id}", endpoint(taxonomy_by_id))
        .route("/hsds/taxonomy_terms", endpoint(taxonomy_terms))
        .route("/hsds/taxonomy_terms/{id}", endpoint(taxonomy_term_by_id))
        .route("/hsds/service_at_locations", endpoint(service_at_locations))
        .route("/hsds/service_at_locations/{id}", endpoint(service_at_location_by_id))
        .route("/hsds/{*path}", any(unknown_path))
        .with_state(state)
}

/// An endpoint: `handler` for GET (and HEAD), the CORS preflight for OPTIONS, and `405` for
/// every other method.
fn endpoint<H, T>(handler: H) -> MethodRouter<HsdsState>
where
    H: Handler<T, HsdsState>,
    T: 'static,
{
    get(handler).options(preflight).fallback(method_not_allowed)
}

/// `{"error": message}` with `status`, readable from any origin.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    open(
        status,
        "application/json",
        json!({ "error": message.into() }).to_string(),
    )
}

/// The answer to a CORS preflight: any origin may read with GET.
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_HEADERS),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

async fn method_not_allowed(method: Method) -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("the HSDS API only reads: use GET (or HEAD, or OPTIONS for a preflight), not {method}"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
    response
}

/// A path under `/hsds/` that is no endpoint (a preflight for it is answered all the same).
async fn unknown_path(method: Method, uri: Uri) -> Response {
    if method == Method::OPTIONS {
        return preflight().await;
    }
    let path: String = uri.path().chars().take(200).collect();
    error(
        StatusCode::NOT_FOUND,
        format!(
            "`{path}` is no endpoint of this HSDS API: see /hsds/openapi.json for /services, /organizations, /taxonomies, /taxonomy_terms and /service_at_locations"
        ),
    )
}

/// The id in a path such as `/hsds/services/{id}`.
pub struct Id(String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = HsdsError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|_| {
                HsdsError::BadParameter(
                    "id",
                    "in the path is not text: its percent-encoding is not UTF-8".to_owned(),
                )
            })
    }
}

/// The query string, read by hand: each parameter once, each value as text. Parameters the
/// API does not define are left alone, as HSDS clients may send their own.
pub struct HsdsQuery(Params);

impl<S: Send + Sync> FromRequestParts<S> for HsdsQuery {
    type Rejection = HsdsError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query().unwrap_or_default()).map(HsdsQuery)
    }
}

/// The query parameters of the list endpoints; each endpoint reads those it defines.
#[derive(Debug, Default)]
pub struct Params {
    search: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    format: Option<String>,
    taxonomy_term_id: Option<String>,
    taxonomy_id: Option<String>,
    organization_id: Option<String>,
    modified_after: Option<String>,
    minimal: Option<String>,
    full: Option<String>,
    full_service: Option<String>,
    parent_id: Option<String>,
    top_only: Option<String>,
    postcode: Option<String>,
    proximity: Option<String>,
}

impl Params {
    /// Reads a query string (`application/x-www-form-urlencoded`).
    fn parse(query: &str) -> Result<Params, HsdsError> {
        let mut params = Params::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            // A name that is no text is none of ours.
            let Ok(key) = decode(key) else { continue };
            let (name, slot) = match key.as_str() {
                "search" => ("search", &mut params.search),
                "page" => ("page", &mut params.page),
                "per_page" => ("per_page", &mut params.per_page),
                "format" => ("format", &mut params.format),
                "taxonomy_term_id" => ("taxonomy_term_id", &mut params.taxonomy_term_id),
                "taxonomy_id" => ("taxonomy_id", &mut params.taxonomy_id),
                "organization_id" => ("organization_id", &mut params.organization_id),
                "modified_after" => ("modified_after", &mut params.modified_after),
                "minimal" => ("minimal", &mut params.minimal),
                "full" => ("full", &mut params.full),
                "full_service" => ("full_service", &mut params.full_service),
                "parent_id" => ("parent_id", &mut params.parent_id),
                "top_only" => ("top_only", &mut params.top_only),
                "postcode" => ("postcode", &mut params.postcode),
                "proximity" => ("proximity", &mut params.proximity),
                _ => continue,
            };
            if slot.is_some() {
                return Err(HsdsError::BadParameter(
                    name,
                    "is given more than once: give each parameter once".to_owned(),
                ));
            }
            let value = decode(value).map_err(|_| {
                HsdsError::BadParameter(name, "is not text: its percent-encoding is not UTF-8".to_owned())
            })?;
            *slot = Some(value);
        }
        Ok(params)
    }
}

/// A query-string part with `+` as a space and `%XX` as a byte; a `%` not followed by two
/// hex digits stays as it is, as browsers send it.
fn decode(part: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = part.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if hex(i + 1).is_some() && hex(i + 2).is_some() => {
                let (high, low) = (hex(i + 1).unwrap_or_default(), hex(i + 2).unwrap_or_default());
                decoded.push((high * 16 + low) as u8);
                i += 2;
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8(decoded)
}

/// A response any origin may read.
pub fn open(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

fn ok(document: Value) -> Response {
    open(StatusCode::OK, "application/json", document.to_string())
}

fn ndjson(documents: Vec<Value>) -> Response {
    let body: String = documents.iter().map(|d| format!("{d}\n")).collect();
    open(StatusCode::OK, "application/x-ndjson", body)
}

async fn base() -> Response {
    ok(json!({
        "version": "3.0",
        "profile": "https://docs.openreferral.org/en/latest/hsds/",
        "openapi_url": "/hsds/openapi.json",
    }))
}

async fn openapi() -> Response {
    open(StatusCode::OK, "application/json", OPENAPI.to_owned())
}

fn flag(name: &'static str, value: &Option<String>) -> Result<bool, HsdsError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(HsdsError::BadParameter(
            name,
            format!("must be true or false, got `{other}`"),
        )),
    }
}

fn number(name: &'static str, value: &Option<String>, default: u64, max: u64) -> Result<u64, HsdsError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(HsdsError::BadParameter(
                name,
                format!("must be a whole number from 1 to {max}, got `{text}`"),
            )),
        },
    }
}

/// Page number and size.
struct Paging {
    page: u64,
    per_page: u64,
}

impl Paging {
    fn of(params: &Params) -> Result<Paging, HsdsError> {
        Ok(Paging {
            page: number("page", &params.page, 1, u64::from(u32::MAX))?,
            per_page: number("per_page", &params.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
        })
    }

    fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }

    /// The specification's `Page` around `contents`.
    fn page(&self, total: u64, contents: Vec<Value>) -> Value {
        let total_pages = total.div_ceil(self.per_page).max(1);
        json!({
            "total_items": total,
            "total_pages": total_pages,
            "page_number": self.page,
            "size": contents.len(),
            "first_page": self.page == 1,
            "last_page": self.page >= total_pages,
            "empty": contents.is_empty(),
            "contents": contents,
        })
    }
}

fn wants_ndjson(params: &Params) -> Result<bool, HsdsError> {
    match params.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Ok(false),
        Some("ndjson") => Ok(true),
        Some(other) => Err(HsdsError::BadParameter(
            "format",
            format!("must be json or ndjson, got `{other}`"),
        )),
    }
}

fn modified_after(value: &Option<String>) -> Result<Option<DateTime<Utc>>, HsdsError> {
    let Some(text) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).map(|at| at.and_utc()));
    }
    Err(HsdsError::BadParameter(
        "modified_after",
        format!("must be a date (2026-11-01) or date-time (2026-11-01T09:00:00Z), got `{text}`"),
    ))
}

/// Our record id for an HSDS id: records keep the id they were imported with.
async fn record_id<E: EntityTrait>(
    db: &DatabaseConnection,
    hsds_id: &str,
    id_column: E::Column,
    external_column: E::Column,
) -> Result<Option<String>, HsdsError> {
    Ok(E::find()
        .select_only()
        .column(id_column)
        .filter(
            Condition::any()
                .add(id_column.eq(hsds_id))
                .add(external_column.eq(hsds_id)),
        )
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// The conditions on services that `/services` and `/service_at_locations` share, and the
/// ranked ids of a `search`, if any.
async fn service_filter(state: &HsdsState, params: &Params) -> Result<(Condition, Option<Vec<String>>), HsdsError> {
    let mut condition = Condition::all();
    if let Some(term) = params
        .taxonomy_term_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let code = state
            .reference
            .domains()
            .find(|d| documents::term_id(&d.code) == term || d.code == term)
            .map(|d| d.code.clone());
        let codes = match code {
            Some(code) => state.reference.expand_domains(&[code]).unwrap_or_default(),
            None => Vec::new(),
        };
        condition = condition.add(
            service::Column::Id.in_subquery(
                Sql::select()
                    .column(service_domain::Column::ServiceId)
                    .from(service_domain::Entity)
                    .and_where(service_domain::Column::DomainCode.is_in(codes))
                    .to_owned(),
            ),
        );
    }
    if let Some(taxonomy) = params.taxonomy_id.as_deref().map(str::trim).filter(|t| !t.is_empty())
        && taxonomy != documents::taxonomy_id()
    {
        // Ours is the only taxonomy: no service has a term of another.
        condition = condition.add(service::Column::Id.is_in(Vec::<String>::new()));
    }
    if let Some(organization) = params
        .organization_id
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        let id = record_id::<organization::Entity>(
            &state.db,
            organization,
            organization::Column::Id,
            organization::Column::ExternalId,
        )
        .await?
        .unwrap_or_default();
        condition = condition.add(service::Column::OrganizationId.eq(id));
    }
    if let Some(after) = modified_after(&params.modified_after)? {
        condition = condition.add(service::Column::UpdatedAt.gte(after));
    }
    let ranked = match params.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            let request = SearchRequest {
                text: Some(text.to_owned()),
                shown: Shown::HITS,
                ..SearchRequest::default()
            };
            let page = crate::relay::PageRequest {
                offset: 0,
                limit: MAX_SEARCH_HITS,
            };
            let results = state
                .search
                .search_in_turn(request, page)
                .await
                .map_err(|e| HsdsError::BadParameter("search", e.to_string()))?;
            let ids: Vec<String> = results.hits.into_iter().map(|h| h.service_id).collect();
            condition = condition.add(service::Column::Id.is_in(ids.clone()));
            Some(ids)
        }
    };
    Ok((condition, ranked))
}

/// Services matching `condition`: ranked by the search when there is one, else by name.
async fn matching_services(
    db: &DatabaseConnection,
    condition: Condition,
    ranked: Option<&[String]>,
    window: Option<(u64, u64)>,
) -> Result<(Vec<service::Model>, u64), HsdsError> {
    let query = service::Entity::find().filter(condition);
    let total = query.clone().count(db).await?;
    let ordered = query
        .order_by_asc(service::Column::NameSearch)
        .order_by_asc(service::Column::Id);
    let found = match (ranked, window) {
        (Some(ranked), _) => {
            let mut all = ordered.all(db).await?;
            let rank: HashMap<&str, usize> = ranked.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
            all.sort_by_key(|s| rank.get(s.id.as_str()).copied().unwrap_or(usize::MAX));
            match window {
                Some((offset, limit)) => all.into_iter().skip(offset as usize).take(limit as usize).collect(),
                None => all,
            }
        }
        (None, Some((offset, limit))) => ordered.offset(offset).limit(limit).all(db).await?,
        (None, None) => ordered.all(db).await?,
    };
    Ok((found, total))
}

async fn services(State(state): State<HsdsState>, HsdsQuery(params): HsdsQuery) -> Result<Response, HsdsError> {
    let paging = Paging::of(&params)?;
    let stream = wants_ndjson(&params)?;
    let minimal = flag("minimal", &params.minimal)?;
    let form = if flag("full", &params.full)? {
        Form::Full
    } else {
        Form::List
    };
    let (condition, ranked) = service_filter(&state, &params).await?;
    let window = (!stream).then(|| (paging.offset(), paging.per_page));
    let (found, total) = matching_services(&state.db, condition, ranked.as_deref(), window).await?;
    let contents: Vec<Value> = if minimal {
        found
            .iter()
            .map(|s| {
                json!({
                    "id": s.external_id.clone().unwrap_or_else(|| s.id.clone()),
                    "name": s.name,
                    "status": documents::status(s.status),
                    "last_modified": s.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })
            })
            .collect()
    } else {
        let catalog = Catalog::load(&state.db, &state.reference, &found, &[]).await?;
        found.iter().map(|s| catalog.service(s, form)).collect()
    };
    Ok(if stream {
        ndjson(contents)
    } else {
        ok(paging.page(total, contents))
    })
}

async fn service_by_id(State(state): State<HsdsState>, Id(id): Id) -> Result<Response, HsdsError> {
    let not_found = || HsdsError::NotFound("service", id.clone());
    let key = record_id::<service::Entity>(&state.db, &id, service::Column::Id, service::Column::ExternalId)
        .await?
        .ok_or_else(not_found)?;
    let found = service::Entity::find_by_id(key)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let catalog = Catalog::load(&state.db, &state.reference, std::slice::from_ref(&found), &[]).await?;
    Ok(ok(catalog.service(&found, Form::Full)))
}

async fn organizations(State(state): State<HsdsState>, HsdsQuery(params): HsdsQuery) -> Result<Response, HsdsError> {
    let paging = Paging::of(&params)?;
    let stream = wants_ndjson(&params)?;
    let full_services = flag("full_service", &params.full_service)?;
    let form = if flag("full", &params.full)? || full_services {
        Form::Full
    } else {
        Form::List
    };
    let mut query = organization::Entity::find();
    if let Some(text) = params
        .search
        .as_deref()
        .map(search_key::normalize)
        .filter(|s| !s.is_empty())
    {
        query = query.filter(organization::Column::NameSearch.contains(text));
    }
    let total = query.clone().count(&state.db).await?;
    let mut ordered = query
        .order_by_asc(organization::Column::NameSearch)
        .order_by_asc(organization::Column::Id);
    if !stream {
        ordered = ordered.offset(paging.offset()).limit(paging.per_page);
    }
    let found = ordered.all(&state.db).await?;
    let ids: Vec<String> = found.iter().map(|o| o.id.clone()).collect();
    let catalog = Catalog::load(&state.db, &state.reference, &[], &ids).await?;
    let contents: Vec<Value> = found
        .iter()
        .map(|o| catalog.organization(o, form, full_services))
        .collect();
    Ok(if stream {
        ndjson(contents)
    } else {
        ok(paging.page(total, contents))
    })
}

async fn organization_by_id(
    State(state): State<HsdsState>,
    Id(id): Id,
    HsdsQuery(params): HsdsQuery,
) -> Result<Response, HsdsError> {
    let not_found = || HsdsError::NotFound("organization", id.clone());
    let key = record_id::<organization::Entity>(
        &state.db,
        &id,
        organization::Column::Id,
        organization::Column::ExternalId,
    )
    .await?
    .ok_or_else(not_found)?;
    let found = organization::Entity::find_by_id(key.clone())
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let catalog = Catalog::load(&state.db, &state.reference, &[], &[key]).await?;
    let full_services = flag("full_service", &params.full_service)?;
    Ok(ok(catalog.organization(&found, Form::Full, full_services)))
}

async fn taxonomies(HsdsQuery(params): HsdsQuery) -> Result<Response, HsdsError> {
    let paging = Paging::of(&params)?;
    let all = vec![documents::taxonomy()];
    if wants_ndjson(&params)? {
        return Ok(ndjson(all));
    }
    let total = all.len() as u64;
    let contents = all
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.per_page as usize)
        .collect();
    Ok(ok(paging.page(total, contents)))
}

async fn taxonomy_by_id(Id(id): Id) -> Result<Response, HsdsError> {
    if id == documents::taxonomy_id() {
        Ok(ok(documents::taxonomy()))
    } else {
        Err(HsdsError::NotFound("taxonomy", id))
    }
}

async fn taxonomy_terms(State(state): State<HsdsState>, HsdsQuery(params): HsdsQuery) -> Result<Response, HsdsError> {
    let paging = Paging::of(&params)?;
    let top_only = flag("top_only", &params.top_only)?;
    let needle = params
        .search
        .as_deref()
        .map(search_key::normalize)
        .filter(|s| !s.is_empty());
    let taxonomy = params.taxonomy_id.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let parent = params.parent_id.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let terms: Vec<Value> = state
        .reference
        .domains()
        .filter(|d| !top_only || d.parent_code.is_none())
        .filter(|_| taxonomy.is_none_or(|t| t == documents::taxonomy_id()))
        .filter(|d| parent.is_none_or(|p| d.parent_code.as_deref().map(documents::term_id).as_deref() == Some(p)))
        .filter(|d| {
            needle.as_deref().is_none_or(|n| {
                [&d.code, &d.label_nl, &d.label_fr, &d.label_en]
                    .iter()
                    .any(|text| search_key::normalize(text).contains(n))
            })
        })
        .map(documents::term_document)
        .collect();
    if wants_ndjson(&params)? {
        return Ok(ndjson(terms));
    }
    let total = terms.len() as u64;
    let contents = terms
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.per_page as usize)
        .collect();
    Ok(ok(paging.page(total, contents)))
}

async fn taxonomy_term_by_id(State(state): State<HsdsState>, Id(id): Id) -> Result<Response, HsdsError> {
    state
        .reference
        .domains()
        .find(|d| documents::term_id(&d.code) == id)
        .map(|d| ok(documents::term_document(d)))
        .ok_or(HsdsError::NotFound("taxonomy term", id))
}

/// Pairs of a service and one of its locations, in service order.
fn pairs(services: &[service::Model], catalog: &Catalog<'_>) -> Vec<(service::Model, location::Model)> {
    services
        .iter()
        .flat_map(|s| {
            catalog
                .locations_of(&s.id)
                .into_iter()
                .map(move |l| (s.clone(), l.clone()))
        })
        .collect()
}

async fn service_at_locations(
    State(state): State<HsdsState>,
    HsdsQuery(params): HsdsQuery,
) -> Result<Response, HsdsError> {
    let paging = Paging::of(&params)?;
    let stream = wants_ndjson(&params)?;
    let form = if flag("full", &params.full)? {
        Form::Full
    } else {
        Form::List
    };
    let (mut condition, ranked) = service_filter(&state, &params).await?;
    let postcode = params.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let proximity = match params.proximity.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        // `inf`, `NaN` and `1e999` are numbers to Rust, not distances.
        Some(text) => match text.parse::<f64>() {
            Ok(metres) if metres.is_finite() && metres > 0.0 && metres <= MAX_PROXIMITY_METRES => {
                if postcode.is_none() {
                    return Err(HsdsError::BadParameter(
                        "proximity",
                        "needs a postcode to measure from".to_owned(),
                    ));
                }
                Some(metres)
            }
            _ => {
                let shown: String = text.chars().take(40).collect();
                return Err(HsdsError::BadParameter(
                    "proximity",
                    format!(
                        "must be a distance in metres above 0 and at most {}, got `{shown}`",
                        MAX_PROXIMITY_METRES as u64
                    ),
                ));
            }
        },
    };
    let mut centre = None;
    if let Some(code) = postcode {
        let known = state
            .reference
            .postal_code(code)
            .ok_or_else(|| HsdsError::BadParameter("postcode", format!("`{code}` is not a known postal code")))?;
        centre = known
            .latitude
            .zip(known.longitude)
            .map(|(lat, lon)| Position::new(lat, lon));
        if proximity.is_none() {
            // Coverage: services whose area covers a municipality of the postcode.
            let mut covers = Condition::any();
            for municipality in state.reference.municipalities_of_postal_code(code) {
                covers = covers.add(
                    crate::listings::serving_municipality(&state.db, &state.reference, municipality)
                        .await
                        .map_err(|e| HsdsError::BadParameter("postcode", e.to_string()))?,
                );
            }
            condition = condition.add(covers);
        }
    }
    let (found, _) = matching_services(&state.db, condition, ranked.as_deref(), None).await?;
    let catalog = Catalog::load(&state.db, &state.reference, &found, &[]).await?;
    let mut all = pairs(&found, &catalog);
    if let (Some(meters), Some(centre)) = (proximity, centre) {
        // Confidential locations are not placed on the map, so they are never "near".
        all.retain(|(_, l)| {
            !l.confidential
                && l.latitude
                    .zip(l.longitude)
                    .is_some_and(|(lat, lon)| distance_km(centre, Position::new(lat, lon)) * 1000.0 <= meters)
        });
    }
    let total = all.len() as u64;
    let window: Vec<&(service::Model, location::Model)> = if stream {
        all.iter().collect()
    } else {
        all.iter()
            .skip(paging.offset() as usize)
            .take(paging.per_page as usize)
            .collect()
    };
    let contents: Vec<Value> = window
        .into_iter()
        .map(|(s, l)| catalog.service_at_location(s, l, form))
        .collect();
    Ok(if stream {
        ndjson(contents)
    } else {
        ok(paging.page(total, contents))
    })
}

async fn service_at_location_by_id(State(state): State<HsdsState>, Id(id): Id) -> Result<Response, HsdsError> {
    // Its id is derived from the service's and the location's; find the pair that gives it.
    let links = service_location::Entity::find().all(&state.db).await?;
    let service_ids: HashSet<String> = links.iter().map(|l| l.service_id.clone()).collect();
    let services = service::Entity::find()
        .filter(service::Column::Id.is_in(service_ids))
        .all(&state.db)
        .await?;
    let catalog = Catalog::load(&state.db, &state.reference, &services, &[]).await?;
    for s in &services {
        for l in catalog.locations_of(&s.id) {
            let document = catalog.service_at_location(s, l, Form::Full);
            if document["id"] == id.as_str() {
                return Ok(ok(document));
            }
        }
    }
    Err(HsdsError::NotFound("service_at_location", id))
}
