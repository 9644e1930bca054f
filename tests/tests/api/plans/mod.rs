//! Support plans: a volunteer of Buddywerking Aalst coordinates the plan of a family in Aalst
//! who speaks Dari; the CAW joins for health and the OCMW for finance, each seeing only its
//! domains; nobody else learns the plan exists; gaps are answered from the map; and nothing
//! the plan says about the family is stored in plain text.

use entity::enums::Role;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, Statement};
use serde_json::{Value, json};

use crate::harness::{TestApp, account, code, nodes, operate, service_id, spawn_app};

mod lifecycle;

const LABEL: &str = "gezin 2026-14";

const CREATE: &str = "mutation($input: CreateSupportPlanInput!) { createSupportPlan(input: $input) {
    id label coordinating municipality { code } languages { code } interpreterNeeded adults childrenAges
    coordinator { name } circle { organization { name } domains { code } coordinator } } }";
const READ: &str = "query($id: ID!) { supportPlan(id: $id) {
    id label municipality { code } languages { code } coordinating visibleDomains { code }
    circle { organization { name } domains { code } status }
    actors { id domain { code } service { id name } informalRole note }
    domainNotes { domain { code } goesWell missing }
    goals { id domain { code } text dueBy steps { id text owner organization { name } status
        events { status note by } } } } }";
const INVITE: &str = "mutation($plan: ID!, $org: ID!, $domains: [String!]!) {
    invitePlanMember(planId: $plan, organizationId: $org, domains: $domains) {
        id status domains { code } consentRecordedBy consentRecordedAt organization { name } } }";
const ANSWER: &str =
    "mutation($id: ID!, $accept: Boolean!) { answerPlanInvitation(id: $id, accept: $accept) { id status } }";
const REMOVE_MEMBER: &str = "mutation($plan: ID!, $org: ID!) {
    removePlanMember(planId: $plan, organizationId: $org) { status removedAt } }";
const ADD_ACTOR: &str = "mutation($plan: ID!, $input: PlanActorInput!) { addPlanActor(planId: $plan, input: $input) { id domain { code } } }";
const REMOVE_ACTOR: &str = "mutation($id: ID!) { removePlanActor(id: $id) { id } }";
const NOTE: &str = "mutation($plan: ID!, $domain: String!, $well: String, $missing: String) {
    setPlanDomainNote(planId: $plan, domain: $domain, goesWell: $well, missing: $missing) { domain { code } missing } }";
const ADD_GOAL: &str =
    "mutation($plan: ID!, $input: PlanGoalInput!) { addPlanGoal(planId: $plan, input: $input) { id text } }";
const ADD_STEP: &str =
    "mutation($goal: ID!, $input: PlanStepInput!) { addPlanStep(goalId: $goal, input: $input) { id status } }";
const UPDATE_STEP: &str = "mutation($id: ID!, $status: PlanStepStatus!, $note: String) {
    updatePlanStep(id: $id, status: $status, note: $note) { id status events { status note by } } }";
const GAPS: &str = "query($plan: ID!) { planGaps(planId: $plan) { domain { code } reason
    services { id name domains { code } languages { language { code } mode } } } }";
const UPDATE_GOAL: &str = "mutation($id: ID!, $status: PlanGoalStatus, $text: String, $due: NaiveDate, $note: String) {
    updatePlanGoal(id: $id, status: $status, text: $text, dueBy: $due, note: $note) {
        id status text dueBy events { status text dueBy note by } } }";
const RECORD_MEETING: &str = "mutation($plan: ID!, $input: PlanMeetingInput!) { recordPlanMeeting(planId: $plan, input: $input) {
    id heldOn attending { id } minutes { domain { code } text } decisions { id text owner organization { id } meetingId } } }";
const TRANSFER: &str = "mutation($plan: ID!, $postal: String, $org: ID!) {
    transferPlan(planId: $plan, toPostalCode: $postal, receivingOrganizationId: $org) {
        id status planId from { id } to { id } toMunicipality { code } } }";
const ANSWER_TRANSFER: &str = "mutation($id: ID!, $accept: Boolean!) { answerPlanTransfer(id: $id, accept: $accept) {
    id status planId followUp { id status service { id } municipality { code } } } }";
const ADD_DOMAIN: &str = "mutation($plan: ID!, $name: String!) { addPlanDomain(planId: $plan, name: $name) { code label own lifeDomain { code } } }";
const ISSUE_CODE: &str = "mutation($plan: ID!) { issueFamilyCode(planId: $plan) { code issuedAt } }";
const REVOKE_CODE: &str = "mutation($plan: ID!) { revokeFamilyCode(planId: $plan) }";
const CLOSE: &str = "mutation($id: ID!, $reason: PlanCloseReason!) { closeSupportPlan(id: $id, reason: $reason) {
    id label closedAt closeReason erasedAt } }";
const ACCESS_LOG: &str = "query($id: ID!) { supportPlan(id: $id) { accessLog { organization { name } by at } } }";

fn organization_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Organization, &seed::demo_id("organization", key)).0
}

/// The people around one family's plan.
struct Cast {
    /// A volunteer of Buddywerking Aalst: coordinates the plan.
    coordinator: String,
    /// CAW Oost-Vlaanderen, invited for health.
    caw: String,
    /// OCMW Aalst, invited for finance.
    ocmw: String,
    /// A referrer at an organization outside the circle.
    stranger: String,
    admin: String,
    /// Aalst's municipality editor.
    aalst: String,
}

async fn cast(app: &TestApp) -> Cast {
    Cast {
        coordinator: account(
            app,
            "vrijwilliger@buddy.example",
            Role::Referrer,
            None,
            Some("buddywerking-vluchtelingen-aalst"),
        )
        .await,
        caw: account(
            app,
            "onthaal@caw.example",
            Role::OrganizationEditor,
            None,
            Some("caw-oost-vlaanderen"),
        )
        .await,
        ocmw: account(
            app,
            "maatschappelijk@ocmw.example",
            Role::Referrer,
            None,
            Some("ocmw-aalst"),
        )
        .await,
        stranger: account(
            app,
            "iemand@woonpunt.example",
            Role::Referrer,
            None,
            Some("woonpunt-nieuwkomers-aalst"),
        )
        .await,
        admin: account(app, "admin@x.org", Role::Admin, None, None).await,
        aalst: account(app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await,
    }
}

fn plan_input(changes: Value) -> Value {
    let mut input = json!({
        "label": LABEL, "postalCode": "9300", "languages": ["prs"], "interpreterNeeded": true,
        "adults": 2, "childrenAges": [4, 9], "consentGiven": true,
    });
    input
        .as_object_mut()
        .unwrap()
        .extend(changes.as_object().unwrap().clone());
    json!({ "input": input })
}

/// `data` of a request that must succeed.
async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.graphql_as(Some(token), query, variables).await;
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"].clone()
}

async fn create(app: &TestApp, token: &str, label: &str) -> String {
    let created = ok(app, token, CREATE, plan_input(json!({ "label": label }))).await;
    created["createSupportPlan"]["id"].as_str().unwrap().to_owned()
}

/// Invites the organization for `domains` and has it accept; returns the invitation id.
async fn admit(app: &TestApp, cast: &Cast, plan: &str, key: &str, member: &str, domains: &[&str]) -> String {
    let invited = ok(
        app,
        &cast.coordinator,
        INVITE,
        json!({ "plan": plan, "org": organization_id(key), "domains": domains }),
    )
    .await;
    let id = invited["invitePlanMember"]["id"].clone();
    let answered = ok(app, member, ANSWER, json!({ "id": id, "accept": true })).await;
    assert_eq!(answered["answerPlanInvitation"]["status"], "ACTIVE");
    id.as_str().unwrap().to_owned()
}

async fn add_goal(app: &TestApp, token: &str, plan: &str, domain: &str, text: &str) -> String {
    let goal = ok(
        app,
        token,
        ADD_GOAL,
        json!({ "plan": plan, "input": { "domain": domain, "text": text, "dueBy": "2027-03-01" } }),
    )
    .await;
    goal["addPlanGoal"]["id"].as_str().unwrap().to_owned()
}

fn codes(values: &Value, path: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[path]["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_coordinator_builds_a_plan_and_each_member_sees_only_its_domains() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let created = ok(&app, &cast.coordinator, CREATE, plan_input(json!({}))).await["createSupportPlan"].clone();
    assert_eq!(created["label"], LABEL);
    assert_eq!(created["municipality"]["code"], "41002", "9300 is Aalst");
    assert_eq!(created["languages"], json!([{ "code": "prs" }]));
    assert_eq!(created["coordinating"], true);
    assert_eq!(created["coordinator"]["name"], "Buddywerking Vluchtelingen Aalst");
    assert_eq!(created["circle"].as_array().unwrap().len(), 1);
    assert_eq!(created["circle"][0]["coordinator"], true);
    assert_eq!(created["circle"][0]["domains"].as_array().unwrap().len(), 14);
    let plan = created["id"].as_str().unwrap().to_owned();

    // The family agreed to share health with the CAW; until it accepts, the CAW reads nothing.
    let invited = ok(
        &app,
        &cast.coordinator,
        INVITE,
        json!({ "plan": plan, "org": organization_id("caw-oost-vlaanderen"), "domains": ["health"] }),
    )
    .await["invitePlanMember"]
        .clone();
    assert_eq!(invited["status"], "INVITED");
    assert_eq!(invited["domains"], json!([{ "code": "health" }]));
    assert_eq!(invited["consentRecordedBy"], "vrijwilliger@buddy.example");
    assert!(invited["consentRecordedAt"].is_string());
    let early = app.graphql_as(Some(&cast.caw), READ, json!({ "id": plan })).await;
    assert_eq!(code(&early), "NOT_FOUND", "an invitation is not yet access: {early:#}");
    let waiting = ok(
        &app,
        &cast.caw,
        "{ planInvitations { id domains { code } invitedBy { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(waiting["planInvitations"][0]["id"], invited["id"]);
    assert_eq!(
        waiting["planInvitations"][0]["invitedBy"]["name"],
        "Buddywerking Vluchtelingen Aalst"
    );
    let accepted = ok(&app, &cast.caw, ANSWER, json!({ "id": invited["id"], "accept": true })).await;
    assert_eq!(accepted["answerPlanInvitation"]["status"], "ACTIVE");
    admit(&app, &cast, &plan, "ocmw-aalst", &cast.ocmw, &["finance"]).await;

    // The coordinator draws the network map and writes the action plan with the family.
    for input in [
        json!({ "domain": "health", "serviceId": service_id("caw-ov-jac"), "note": "gesprekken bij het JAC" }),
        json!({ "domain": "finance", "serviceId": service_id("ocmw-aalst-leefloon") }),
        json!({ "domain": "informal_network", "informalRole": "buurvrouw", "note": "helpt met brieven" }),
    ] {
        ok(
            &app,
            &cast.coordinator,
            ADD_ACTOR,
            json!({ "plan": plan, "input": input }),
        )
        .await;
    }
    for (domain, well, missing) in [
        (
            "health",
            "de huisarts kent het gezin",
            "psychosociale hulp voor de oudste",
        ),
        ("finance", "leefloon loopt", "overzicht van de schulden"),
        ("housing", "", "een woning met drie slaapkamers"),
    ] {
        ok(
            &app,
            &cast.coordinator,
            NOTE,
            json!({ "plan": plan, "domain": domain, "well": well, "missing": missing }),
        )
        .await;
    }
    let health_goal = add_goal(
        &app,
        &cast.coordinator,
        &plan,
        "health",
        "De oudste zet de stap naar psychosociale hulp",
    )
    .await;
    let finance_goal = add_goal(&app, &cast.coordinator, &plan, "finance", "Zelf de papieren beheren").await;
    let housing_goal = add_goal(
        &app,
        &cast.coordinator,
        &plan,
        "housing",
        "Een huis met genoeg slaapkamers",
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        ADD_STEP,
        json!({ "goal": housing_goal, "input": { "text": "Inschrijven bij de sociale huisvesting", "owner": "FAMILY" } }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        ADD_STEP,
        json!({ "goal": health_goal, "input": { "text": "Eerste gesprek bij het JAC", "owner": "ORGANIZATION",
            "organizationId": organization_id("caw-oost-vlaanderen") } }),
    )
    .await;

    // The CAW sees health only; the OCMW finance only; the coordinator everything.
    let seen_by = async |token: &str| ok(&app, token, READ, json!({ "id": plan })).await["supportPlan"].clone();
    let caw = seen_by(&cast.caw).await;
    assert_eq!(caw["label"], LABEL);
    assert_eq!(caw["coordinating"], false);
    assert_eq!(caw["visibleDomains"], json!([{ "code": "health" }]));
    assert_eq!(codes(&caw["actors"], "domain"), vec!["health"]);
    assert_eq!(caw["actors"][0]["service"]["id"], service_id("caw-ov-jac"));
    assert_eq!(codes(&caw["domainNotes"], "domain"), vec!["health"]);
    assert_eq!(caw["domainNotes"][0]["missing"], "psychosociale hulp voor de oudste");
    assert_eq!(codes(&caw["goals"], "domain"), vec!["health"]);
    assert_eq!(
        caw["goals"][0]["steps"][0]["organization"]["name"],
        "CAW Oost-Vlaanderen (demo)"
    );
    let circle: Vec<(String, Vec<String>)> = caw["circle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["organization"]["name"].as_str().unwrap().to_owned(),
                m["domains"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["code"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(circle.len(), 3, "{circle:?}");
    let expected = [
        ("CAW Oost-Vlaanderen (demo)", "health"),
        ("OCMW Aalst – Sociale dienst", "finance"),
    ];
    for (name, domain) in expected {
        assert!(
            circle.contains(&(name.to_owned(), vec![domain.to_owned()])),
            "{circle:?}"
        );
    }

    let ocmw = seen_by(&cast.ocmw).await;
    assert_eq!(codes(&ocmw["actors"], "domain"), vec!["finance"]);
    assert_eq!(codes(&ocmw["domainNotes"], "domain"), vec!["finance"]);
    assert_eq!(codes(&ocmw["goals"], "domain"), vec!["finance"]);
    assert_eq!(ocmw["goals"][0]["text"], "Zelf de papieren beheren");

    let all = seen_by(&cast.coordinator).await;
    assert_eq!(
        codes(&all["actors"], "domain"),
        vec!["health", "finance", "informal_network"]
    );
    assert_eq!(all["actors"][2]["informalRole"], "buurvrouw");
    assert_eq!(codes(&all["goals"], "domain"), vec!["health", "finance", "housing"]);
    assert_eq!(all["goals"][2]["dueBy"], "2027-03-01");

    // A member works in its own domains: the OCMW takes a step and ticks it off.
    let step = ok(
        &app,
        &cast.ocmw,
        ADD_STEP,
        json!({ "goal": finance_goal, "input": { "text": "Budgetgesprek plannen", "owner": "ORGANIZATION" } }),
    )
    .await["addPlanStep"]["id"]
        .clone();
    let done = ok(
        &app,
        &cast.ocmw,
        UPDATE_STEP,
        json!({ "id": step, "status": "DONE", "note": "gesprek gehad op 3 december" }),
    )
    .await["updatePlanStep"]
        .clone();
    assert_eq!(done["status"], "DONE");
    assert_eq!(
        done["events"],
        json!([
            { "status": "OPEN", "note": null, "by": "maatschappelijk@ocmw.example" },
            { "status": "DONE", "note": "gesprek gehad op 3 december", "by": "maatschappelijk@ocmw.example" },
        ])
    );
    // …but not in the others: a domain it was not admitted to is refused, and a goal there
    // does not exist for it.
    let other_domain = app
        .graphql_as(
            Some(&cast.ocmw),
            ADD_GOAL,
            json!({ "plan": plan, "input": { "domain": "housing", "text": "x" } }),
        )
        .await;
    assert_eq!(code(&other_domain), "FORBIDDEN", "{other_domain:#}");
    let other_goal = app
        .graphql_as(
            Some(&cast.ocmw),
            ADD_STEP,
            json!({ "goal": housing_goal, "input": { "text": "x", "owner": "FAMILY" } }),
        )
        .await;
    assert_eq!(code(&other_goal), "NOT_FOUND", "{other_goal:#}");
    let not_member = app
        .graphql_as(
            Some(&cast.coordinator),
            ADD_STEP,
            json!({ "goal": housing_goal, "input": { "text": "x", "owner": "ORGANIZATION",
                "organizationId": organization_id("ocmw-aalst") } }),
        )
        .await;
    assert_eq!(
        not_member["errors"][0]["extensions"]["field"], "organizationId",
        "the OCMW is not in the circle for housing: {not_member:#}"
    );
    let invite_again = app
        .graphql_as(
            Some(&cast.caw),
            INVITE,
            json!({ "plan": plan, "org": organization_id("woonpunt-nieuwkomers-aalst"), "domains": ["housing"] }),
        )
        .await;
    assert_eq!(code(&invite_again), "FORBIDDEN", "only the coordinator invites");

    // Every read was logged; the coordinator lists them, members may not.
    let log = ok(&app, &cast.coordinator, ACCESS_LOG, json!({ "id": plan })).await["supportPlan"]["accessLog"].clone();
    let readers: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["organization"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        readers.len(),
        4,
        "the CAW, the OCMW, the coordinator, and this read: {log:#}"
    );
    assert_eq!(readers[0], "Buddywerking Vluchtelingen Aalst", "newest first");
    assert!(readers.contains(&"CAW Oost-Vlaanderen (demo)"));
    assert!(readers.contains(&"OCMW Aalst – Sociale dienst"));
    assert!(log.as_array().unwrap().iter().any(|e| e["by"] == "onthaal@caw.example"));
    let member_log = app.graphql_as(Some(&cast.caw), ACCESS_LOG, json!({ "id": plan })).await;
    assert_eq!(code(&member_log), "FORBIDDEN", "{member_log:#}");

    let list = ok(
        &app,
        &cast.ocmw,
        "{ supportPlans(first: 10) { totalCount edges { node { id label } } } }",
        json!({}),
    )
    .await;
    assert_eq!(list["supportPlans"]["totalCount"], 1);
    assert_eq!(nodes(&list["supportPlans"])[0]["id"], plan.as_str());
}

#[tokio::test]
async fn a_plan_needs_the_familys_consent_and_no_more_than_its_place_languages_and_household() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plans = async || {
        entity::support_plan::Entity::find()
            .count(&app.connect().await)
            .await
            .unwrap()
    };
    for (changes, field) in [
        (json!({ "consentGiven": false }), "consentGiven"),
        (json!({ "label": " \u{200b} " }), "label"),
        (json!({ "label": "x".repeat(200) }), "label"),
        (json!({ "postalCode": "1234567" }), "postalCode"),
        (json!({ "postalCode": null }), "municipalityCode"),
        (json!({ "languages": [] }), "languages"),
        (json!({ "adults": 0 }), "adults"),
        (json!({ "childrenAges": [4, 19] }), "childrenAges"),
    ] {
        let response = app
            .graphql_as(Some(&cast.coordinator), CREATE, plan_input(changes.clone()))
            .await;
        assert_eq!(code(&response), "BAD_USER_INPUT", "{changes}: {response:#}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{changes}: {response:#}"
        );
    }
    assert_eq!(plans().await, 0, "no refused plan was stored");
    let by_code = ok(
        &app,
        &cast.coordinator,
        CREATE,
        plan_input(json!({ "postalCode": null, "municipalityCode": "41002" })),
    )
    .await;
    assert_eq!(by_code["createSupportPlan"]["municipality"]["code"], "41002");
    for (who, token, expected) in [
        ("anonymous", None, "UNAUTHENTICATED"),
        ("an admin", Some(cast.admin.as_str()), "FORBIDDEN"),
        ("a municipality editor", Some(cast.aalst.as_str()), "FORBIDDEN"),
    ] {
        let response = app.graphql_as(token, CREATE, plan_input(json!({}))).await;
        assert_eq!(code(&response), expected, "{who}: {response:#}");
    }
    assert_eq!(plans().await, 1);
}

/// Builds an operation's variables around the id it is tried with.
type Variables = Box<dyn Fn(&str) -> Value>;

/// How many rows every plan table holds: a refusal must write none, not even to the access log.
async fn plan_rows(app: &TestApp) -> Vec<u64> {
    let db = app.connect().await;
    vec![
        entity::support_plan::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_member::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_actor::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_domain_note::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        entity::support_plan_goal::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_step::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_step_event::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        entity::support_plan_access::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_goal_event::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        entity::support_plan_meeting::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_minute::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_transfer::Entity::find().count(&db).await.unwrap(),
        entity::referral::Entity::find().count(&db).await.unwrap(),
        entity::support_plan_domain::Entity::find().count(&db).await.unwrap(),
    ]
}

#[tokio::test]
async fn strangers_admins_and_municipality_editors_get_not_found_on_every_plan_query_and_mutation() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    let goal = add_goal(&app, &cast.coordinator, &plan, "housing", "Een huis").await;
    let step = ok(
        &app,
        &cast.coordinator,
        ADD_STEP,
        json!({ "goal": goal, "input": { "text": "Inschrijven", "owner": "FAMILY" } }),
    )
    .await["addPlanStep"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let actor = ok(
        &app,
        &cast.coordinator,
        ADD_ACTOR,
        json!({ "plan": plan, "input": { "domain": "informal_network", "informalRole": "buur" } }),
    )
    .await["addPlanActor"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An invitation the stranger could try to answer: it is not theirs.
    let invitation = ok(
        &app,
        &cast.coordinator,
        INVITE,
        json!({ "plan": plan, "org": organization_id("huis-van-het-kind-aalst"), "domains": ["parenting"] }),
    )
    .await["invitePlanMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A transfer offer the stranger could try to answer: it is not theirs either.
    let transfer = ok(
        &app,
        &cast.coordinator,
        TRANSFER,
        json!({ "plan": plan, "postal": "9000", "org": organization_id("ocmw-gent") }),
    )
    .await["transferPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Each operation with the id it takes, tried with the real id and with an unknown one.
    let operations: Vec<(&str, &str, &str, Variables)> = vec![
        ("supportPlan", READ, &plan, Box::new(|id| json!({ "id": id }))),
        ("planGaps", GAPS, &plan, Box::new(|id| json!({ "plan": id }))),
        (
            "invitePlanMember",
            INVITE,
            &plan,
            Box::new(
                |id| json!({ "plan": id, "org": organization_id("woonpunt-nieuwkomers-aalst"), "domains": ["housing"] }),
            ),
        ),
        (
            "removePlanMember",
            REMOVE_MEMBER,
            &plan,
            Box::new(|id| json!({ "plan": id, "org": organization_id("buddywerking-vluchtelingen-aalst") })),
        ),
        (
            "addPlanActor",
            ADD_ACTOR,
            &plan,
            Box::new(|id| json!({ "plan": id, "input": { "domain": "housing", "informalRole": "buur" } })),
        ),
        (
            "setPlanDomainNote",
            NOTE,
            &plan,
            Box::new(|id| json!({ "plan": id, "domain": "housing", "missing": "x" })),
        ),
        (
            "addPlanGoal",
            ADD_GOAL,
            &plan,
            Box::new(|id| json!({ "plan": id, "input": { "domain": "housing", "text": "x" } })),
        ),
        (
            "removePlanActor",
            REMOVE_ACTOR,
            &actor,
            Box::new(|id| json!({ "id": id })),
        ),
        (
            "addPlanStep",
            ADD_STEP,
            &goal,
            Box::new(|id| json!({ "goal": id, "input": { "text": "x", "owner": "FAMILY" } })),
        ),
        (
            "updatePlanStep",
            UPDATE_STEP,
            &step,
            Box::new(|id| json!({ "id": id, "status": "DONE" })),
        ),
        (
            "answerPlanInvitation",
            ANSWER,
            &invitation,
            Box::new(|id| json!({ "id": id, "accept": true })),
        ),
        (
            "updatePlanGoal",
            UPDATE_GOAL,
            &goal,
            Box::new(|id| json!({ "id": id, "status": "REACHED" })),
        ),
        (
            "recordPlanMeeting",
            RECORD_MEETING,
            &plan,
            Box::new(|id| json!({ "plan": id, "input": { "heldOn": "2026-11-20", "minutes": [{ "text": "x" }] } })),
        ),
        (
            "transferPlan",
            TRANSFER,
            &plan,
            Box::new(|id| json!({ "plan": id, "postal": "9000", "org": organization_id("ocmw-gent") })),
        ),
        (
            "answerPlanTransfer",
            ANSWER_TRANSFER,
            &transfer,
            Box::new(|id| json!({ "id": id, "accept": true })),
        ),
        (
            "addPlanDomain",
            ADD_DOMAIN,
            &plan,
            Box::new(|id| json!({ "plan": id, "name": "Rijbewijs" })),
        ),
        (
            "issueFamilyCode",
            ISSUE_CODE,
            &plan,
            Box::new(|id| json!({ "plan": id })),
        ),
        (
            "revokeFamilyCode",
            REVOKE_CODE,
            &plan,
            Box::new(|id| json!({ "plan": id })),
        ),
        (
            "closeSupportPlan",
            CLOSE,
            &plan,
            Box::new(|id| json!({ "id": id, "reason": "OTHER" })),
        ),
    ];

    let before = plan_rows(&app).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    for (who, token) in [
        ("another organization", Some(cast.stranger.as_str())),
        ("an admin", Some(cast.admin.as_str())),
        ("the municipality's editor", Some(cast.aalst.as_str())),
        ("anonymous", None),
    ] {
        // The same refusal over a WebSocket.
        let mut socket = app.websocket_ready(token).await;
        for (name, query, id, variables) in &operations {
            let over_ws = operate(&mut socket, name, query, variables(id)).await;
            assert_eq!(over_ws["type"], "error", "{who}, {name} over WebSocket: {over_ws:#}");
            assert_eq!(
                over_ws["payload"][0]["extensions"]["code"], "NOT_FOUND",
                "{who}, {name} over WebSocket: {over_ws:#}"
            );
            let response = app.graphql_as(token, query, variables(id)).await;
            assert_eq!(code(&response), "NOT_FOUND", "{who}, {name}: {response:#}");
            let message = response["errors"][0]["message"].as_str().unwrap().replace(*id, "");
            let missing = app.graphql_as(token, query, variables(&unknown)).await;
            let missing = missing["errors"][0]["message"]
                .as_str()
                .unwrap()
                .replace(unknown.as_str(), "");
            assert_eq!(
                message, missing,
                "{who}, {name}: an existing plan looks like a missing one"
            );
            assert!(!message.contains(LABEL) && !message.contains("huis"), "{message}");
        }
    }
    assert_eq!(plan_rows(&app).await, before, "nothing was written after a refusal");

    let list = "{ supportPlans { totalCount } }";
    assert_eq!(
        ok(&app, &cast.stranger, list, json!({})).await["supportPlans"]["totalCount"],
        0
    );
    assert_eq!(
        code(&app.graphql_as(Some(&cast.admin), list, json!({})).await),
        "FORBIDDEN"
    );
    assert_eq!(code(&app.graphql(list, json!({})).await), "UNAUTHENTICATED");
    assert_eq!(
        ok(&app, &cast.coordinator, list, json!({})).await["supportPlans"]["totalCount"],
        1
    );
}

#[tokio::test]
async fn withdrawing_the_familys_consent_ends_a_members_access_at_once() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    add_goal(&app, &cast.caw, &plan, "health", "Rust vinden").await;
    assert_eq!(
        ok(&app, &cast.caw, READ, json!({ "id": plan })).await["supportPlan"]["goals"][0]["text"],
        "Rust vinden"
    );

    let removed = ok(
        &app,
        &cast.coordinator,
        REMOVE_MEMBER,
        json!({ "plan": plan, "org": organization_id("caw-oost-vlaanderen") }),
    )
    .await;
    assert_eq!(removed["removePlanMember"]["status"], "REMOVED");
    assert!(removed["removePlanMember"]["removedAt"].is_string());
    for (query, variables) in [
        (READ, json!({ "id": plan })),
        (GAPS, json!({ "plan": plan })),
        (
            ADD_GOAL,
            json!({ "plan": plan, "input": { "domain": "health", "text": "x" } }),
        ),
    ] {
        let response = app.graphql_as(Some(&cast.caw), query, variables).await;
        assert_eq!(code(&response), "NOT_FOUND", "{response:#}");
    }
    let list = ok(&app, &cast.caw, "{ supportPlans { totalCount } }", json!({})).await;
    assert_eq!(list["supportPlans"]["totalCount"], 0);

    // The coordinator keeps the history of consent: who, when, which domains, and the withdrawal.
    let history = ok(
        &app,
        &cast.coordinator,
        "query($id: ID!) { supportPlan(id: $id) { circle { organization { name } }
            invitations { organization { name } domains { code } status consentRecordedBy removedAt } } }",
        json!({ "id": plan }),
    )
    .await["supportPlan"]
        .clone();
    assert_eq!(history["circle"].as_array().unwrap().len(), 1, "{history:#}");
    assert_eq!(history["invitations"][0]["status"], "REMOVED");
    assert_eq!(history["invitations"][0]["domains"], json!([{ "code": "health" }]));
    assert_eq!(
        history["invitations"][0]["consentRecordedBy"],
        "vrijwilliger@buddy.example"
    );
    // With new consent, it can be invited again.
    let again = ok(
        &app,
        &cast.coordinator,
        INVITE,
        json!({ "plan": plan, "org": organization_id("caw-oost-vlaanderen"), "domains": ["health", "finance"] }),
    )
    .await;
    assert_eq!(again["invitePlanMember"]["status"], "INVITED");
}

#[tokio::test]
async fn plan_gaps_suggest_services_that_cover_the_family_and_speak_its_language() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    add_goal(
        &app,
        &cast.coordinator,
        &plan,
        "housing",
        "Een huis met genoeg slaapkamers",
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        NOTE,
        json!({ "plan": plan, "domain": "health", "missing": "psychosociale hulp" }),
    )
    .await;
    // Helped in education already: no gap there, though a goal is set.
    add_goal(
        &app,
        &cast.coordinator,
        &plan,
        "education",
        "Een school voor de jongste",
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        ADD_ACTOR,
        json!({ "plan": plan, "input": { "domain": "education", "serviceId": service_id("okan-aalst-onthaalklas") } }),
    )
    .await;

    let gaps = ok(&app, &cast.coordinator, GAPS, json!({ "plan": plan })).await["planGaps"].clone();
    assert_eq!(codes(&gaps, "domain"), vec!["housing", "health"], "{gaps:#}");
    assert_eq!(gaps[0]["reason"], "GOAL_WITHOUT_ACTOR");
    assert_eq!(gaps[1]["reason"], "MISSING_WITHOUT_ACTOR");
    let housing = gaps[0]["services"].as_array().unwrap();
    assert!(!housing.is_empty());
    let ids: Vec<&str> = housing.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&service_id("woonpunt-aalst-woonzoekhulp").as_str()),
        "Woonpunt Aalst helps in Dari: {housing:#?}"
    );
    for service in housing {
        assert!(
            service["domains"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"].as_str().unwrap().starts_with("housing")),
            "{service:#}"
        );
        assert!(
            service["languages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["language"]["code"] == "prs"),
            "speaks Dari, by staff or an interpreter: {service:#}"
        );
    }
    // The housing services that cover Aalst and work in Dari, by staff or an interpreter;
    // not OCMW Leuven or CAW Oost-Brabant (Dari, elsewhere), not Welkom in Affligem's
    // furniture (Aalst, no Dari), not Dendermonde or Gent.
    let fitting: Vec<String> = [
        "woonpunt-aalst-woonzoekhulp",
        "woonpunt-aalst-woonclub",
        "ocmw-aalst-huurwaarborg",
        "huurdersbond-ov-huuradvies",
        "huurdersbond-ov-infosessies",
        "caw-ov-onthaal",
    ]
    .iter()
    .map(|key| service_id(key))
    .collect();
    assert_eq!(ids.len(), 5, "five suggestions, best first: {ids:?}");
    for id in &ids {
        assert!(fitting.iter().any(|f| f == id), "{id} does not serve Aalst in Dari");
    }
    for outside in [
        "ocmw-leuven-woonbegeleiding",
        "caw-ob-onthaal",
        "welkom-affligem-meubels",
        "ocmw-dendermonde-woonbegeleiding",
        "svk-gent-sociale-huur",
    ] {
        assert!(!ids.contains(&service_id(outside).as_str()), "{outside}");
    }
    // Staff who speak Dari rank above an interpreter arranged.
    let first_mode = housing[0]["languages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["language"]["code"] == "prs")
        .unwrap()["mode"]
        .clone();
    assert_eq!(first_mode, "STAFF", "{housing:#?}");

    // Once a service helps with housing, housing is no longer a gap.
    ok(
        &app,
        &cast.coordinator,
        ADD_ACTOR,
        json!({ "plan": plan, "input": { "domain": "housing", "serviceId": service_id("woonpunt-aalst-woonzoekhulp") } }),
    )
    .await;
    let gaps = ok(&app, &cast.coordinator, GAPS, json!({ "plan": plan })).await["planGaps"].clone();
    assert_eq!(codes(&gaps, "domain"), vec!["health"]);

    // Each planGaps runs a search per gap: it counts as five searches, so a request holds two.
    let aliased: String = (0..3)
        .map(|i| format!("g{i}: planGaps(planId: $plan) {{ reason }} "))
        .collect();
    let flood = app
        .graphql_as(
            Some(&cast.coordinator),
            &format!("query($plan: ID!) {{ {aliased} }}"),
            json!({ "plan": plan }),
        )
        .await;
    assert_eq!(
        flood["errors"][0]["extensions"]["reason"], "TOO_MANY_SEARCHES",
        "{flood:#}"
    );

    // A member sees the gaps of its domains only.
    admit(&app, &cast, &plan, "ocmw-aalst", &cast.ocmw, &["finance"]).await;
    let theirs = ok(&app, &cast.ocmw, GAPS, json!({ "plan": plan })).await;
    assert_eq!(theirs["planGaps"], json!([]));
}

/// The raw bytes the database keeps: the SQLite files, or every column of the plan tables
/// on PostgreSQL.
async fn stored_bytes(app: &TestApp) -> String {
    let url = app.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap();
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(file) = std::fs::read(format!("{path}{suffix}")) {
                bytes.extend(file);
            }
        }
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let db = app.connect().await;
    let mut text = String::new();
    for table in [
        "support_plan",
        "support_plan_member",
        "support_plan_actor",
        "support_plan_domain_note",
        "support_plan_goal",
        "support_plan_step",
        "support_plan_step_event",
        "support_plan_access",
        "support_plan_goal_event",
        "support_plan_meeting",
        "support_plan_minute",
        "support_plan_transfer",
        "support_plan_domain",
    ] {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("SELECT coalesce(string_agg(t::text, ' '), '') AS dump FROM {table} t"),
            ))
            .await
            .unwrap()
            .unwrap();
        text.push_str(&row.try_get::<String>("", "dump").unwrap());
    }
    text
}

#[tokio::test]
async fn the_database_never_holds_a_plans_label_goals_steps_or_notes_in_plain_text() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, "Zebravink-plan").await;
    let goal = add_goal(&app, &cast.coordinator, &plan, "housing", "Zebravink-doel: een woning").await;
    let step = ok(
        &app,
        &cast.coordinator,
        ADD_STEP,
        json!({ "goal": goal, "input": { "text": "Zebravink-stap: inschrijven", "owner": "FAMILY" } }),
    )
    .await["addPlanStep"]["id"]
        .clone();
    ok(
        &app,
        &cast.coordinator,
        UPDATE_STEP,
        json!({ "id": step, "status": "DONE", "note": "Zebravink-verslag" }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        NOTE,
        json!({ "plan": plan, "domain": "housing", "well": "Zebravink-goed", "missing": "Zebravink-mist" }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        ADD_ACTOR,
        json!({ "plan": plan, "input": { "domain": "informal_network", "informalRole": "Zebravink-rol", "note": "Zebravink-notitie" } }),
    )
    .await;
    let read = ok(&app, &cast.coordinator, READ, json!({ "id": plan })).await;
    assert_eq!(read["supportPlan"]["label"], "Zebravink-plan", "the circle reads it");
    assert_eq!(read["supportPlan"]["actors"][0]["informalRole"], "Zebravink-rol");

    let stored = stored_bytes(&app).await;
    assert!(stored.contains(&plan), "the plan is stored");
    assert!(!stored.contains("Zebravink"), "plan content is stored in plain text");
}
