//! Accounts: `login`, `me`, `logout`, bearer tokens, and what strangers get.

use chrono::{Duration, Utc};
use entity::api_token;
use entity::enums::{Role, TokenKind};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp, spawn_app};

const LOGIN: &str =
    "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token expiresAt } }";
const ME: &str = "{ me { email role organization { name } municipalities { code } } }";

async fn create_account(app: &TestApp, email: &str, role: Role, municipalities: &[&str]) -> Result<(), String> {
    let db = app.connect().await;
    let reference = api::reference::ReferenceData::load(&db).await.unwrap();
    let organization_id =
        matches!(role, Role::OrganizationEditor | Role::Referrer).then(|| seed::demo_id("organization", "ocmw-aalst"));
    api::auth::create_account(
        &db,
        &reference,
        api::auth::NewAccount {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            role,
            municipalities: municipalities.iter().map(|m| (*m).to_owned()).collect(),
            organization_id,
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.graphql(LOGIN, json!({ "email": email, "password": password }))
        .await
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn an_editor_logs_in_sees_itself_and_logs_out() {
    let app = spawn_app().await;
    create_account(&app, "Editor@Aalst.example", Role::MunicipalityEditor, &["41002"])
        .await
        .unwrap();
    // Emails are case-insensitive.
    let response = login(&app, "editor@aalst.example ", PASSWORD).await;
    let token = response["data"]["login"]["token"].as_str().expect("a token").to_owned();
    assert!(
        response["data"]["login"]["expiresAt"].is_string(),
        "session tokens expire"
    );

    let me = app.graphql_as(Some(&token), ME, json!({})).await;
    assert_eq!(
        me["data"]["me"],
        json!({ "email": "editor@aalst.example", "role": "MUNICIPALITY_EDITOR", "organization": null, "municipalities": [{ "code": "41002" }] })
    );
    let logout = app.graphql_as(Some(&token), "mutation { logout }", json!({})).await;
    assert_eq!(logout["data"]["logout"], true);
    let after = app.graphql_as(Some(&token), ME, json!({})).await;
    assert_eq!(code(&after), "UNAUTHENTICATED", "{after:#}");
}

#[tokio::test]
async fn strangers_are_anonymous_and_bad_tokens_are_refused() {
    let app = spawn_app().await;
    let anonymous = app.graphql(ME, json!({})).await;
    assert_eq!(anonymous["data"]["me"], Value::Null);
    let forged = app.graphql_as(Some("smt_forged"), ME, json!({})).await;
    assert_eq!(code(&forged), "UNAUTHENTICATED");
    assert_eq!(forged["data"], Value::Null, "nothing is answered with a bad token");
    let logout = app.graphql("mutation { logout }", json!({})).await;
    assert_eq!(code(&logout), "UNAUTHENTICATED");

    // An expired session token.
    create_account(&app, "referrer@example.org", Role::Referrer, &[])
        .await
        .unwrap();
    let token = login(&app, "referrer@example.org", PASSWORD).await["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = app.connect().await;
    for stored in api_token::Entity::find().all(&db).await.unwrap() {
        assert!(
            !stored.token_hash.contains(&token[4..]),
            "only a hash of the token is stored"
        );
        let mut stored: api_token::ActiveModel = stored.into();
        stored.expires_at = Set(Some(Utc::now() - Duration::minutes(1)));
        stored.update(&db).await.unwrap();
    }
    let expired = app.graphql_as(Some(&token), ME, json!({})).await;
    assert_eq!(code(&expired), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let app = spawn_app().await;
    create_account(&app, "admin@example.org", Role::Admin, &[])
        .await
        .unwrap();
    let wrong_password = login(&app, "admin@example.org", "not the password").await;
    let unknown_email = login(&app, "nobody@example.org", "not the password").await;
    assert_eq!(code(&wrong_password), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
    assert_eq!(code(&unknown_email), "UNAUTHENTICATED");
}

#[tokio::test]
async fn repeated_login_attempts_are_slowed_down() {
    let app = spawn_app().await;
    create_account(&app, "admin@example.org", Role::Admin, &[])
        .await
        .unwrap();
    for _ in 0..5 {
        let response = login(&app, "admin@example.org", "guess").await;
        assert_eq!(code(&response), "UNAUTHENTICATED");
    }
    // Even the right password waits now, and says how long.
    let limited = login(&app, "admin@example.org", PASSWORD).await;
    assert_eq!(code(&limited), "RATE_LIMITED", "{limited:#}");
    assert!(
        limited["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // Unknown emails are limited the same way.
    for _ in 0..5 {
        login(&app, "nobody@example.org", "guess").await;
    }
    assert_eq!(code(&login(&app, "nobody@example.org", "guess").await), "RATE_LIMITED");
}

#[tokio::test]
async fn accounts_are_checked_when_created() {
    let app = spawn_app().await;
    create_account(&app, "editor@example.org", Role::MunicipalityEditor, &["41002"])
        .await
        .unwrap();
    for (email, role, municipalities, says) in [
        ("editor@example.org", Role::Admin, vec![], "already exists"),
        ("not-an-email", Role::Admin, vec![], "not a valid email"),
        (
            "m@example.org",
            Role::MunicipalityEditor,
            vec![],
            "at least one municipality",
        ),
        (
            "m@example.org",
            Role::MunicipalityEditor,
            vec!["99999"],
            "unknown municipality",
        ),
        ("a@example.org", Role::Admin, vec!["41002"], "only municipality editors"),
    ] {
        let error = create_account(&app, email, role, &municipalities).await.unwrap_err();
        assert!(error.contains(says), "{email}: `{error}` should say {says}");
    }
    let db = app.connect().await;
    let reference = api::reference::ReferenceData::load(&db).await.unwrap();
    let weak = api::auth::create_account(
        &db,
        &reference,
        api::auth::NewAccount {
            email: "weak@example.org".to_owned(),
            password: "short".to_owned(),
            role: Role::Admin,
            municipalities: vec![],
            organization_id: None,
        },
    )
    .await
    .unwrap_err();
    assert!(weak.to_string().contains("at least 12 characters"));

    // An API token from `account create --token` does not expire and works as a bearer.
    let account = entity::account::Entity::find().one(&db).await.unwrap().unwrap();
    let (token, expires_at) = api::auth::issue_token(&db, &account.id, TokenKind::Api).await.unwrap();
    assert_eq!(expires_at, None);
    let me = app.graphql_as(Some(&token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "editor@example.org");
}
