//! A plan over time: network meetings and goals ticked off, referrals sent for steps and
//! forwarded when declined, the warm hand-off when the family moves from Aalst to Gent, the
//! family's own view, live updates for the circle, statistics for the municipality, and the
//! end: closure, read-only, erasure.

use entity::enums::Role;
use serde_json::{Value, json};

use super::{
    ADD_ACTOR, ADD_DOMAIN, ADD_GOAL, ADD_STEP, ANSWER_TRANSFER, CLOSE, GAPS, ISSUE_CODE, LABEL, NOTE, READ,
    RECORD_MEETING, REVOKE_CODE, TRANSFER, UPDATE_GOAL, UPDATE_STEP, add_goal, admit, cast, create, ok,
    organization_id, plan_input, stored_bytes,
};
use crate::harness::{TestApp, account, code, heard, operate, send, service_id, spawn_app};

const MEETINGS: &str = "query($id: ID!) { supportPlan(id: $id) {
    meetings { id heldOn attending { id } minutes { domain { code } text } decisions { id text meetingId } }
    goals { id domain { code } status steps { id text meetingId } } } }";
const FAMILY: &str = "query($code: String!) { familyView(code: $code) {
    municipality { code } languages { code } labelLanguage coordinator { id }
    actors { domain { code } informalRole service { id } note }
    domainNotes { domain { code } goesWell missing }
    goals { domain { code label(lang: FR) } text status steps { text status dueBy } }
    nextSteps { text dueBy }
    meetings { heldOn minutes { text } } } }";
const REFER: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status } }";
const MOVE: &str = "mutation($id: ID!, $status: ReferralStatus!, $reason: DeclineReason) {
    updateReferralStatus(id: $id, status: $status, reason: $reason) { id status } }";
const FORWARD: &str = "mutation($id: ID!, $service: ID!) { forwardReferral(id: $id, serviceId: $service) {
    id status service { id } needDescription languages { code } } }";
const STEP_REFERRALS: &str = "query($id: ID!) { supportPlan(id: $id) { goals { steps { id
    referrals { id status service { id } forwardedFromId } } } } }";
const STATISTICS: &str = "query($m: String) { planStatistics(municipalityCode: $m) {
    municipality { code } plansOpen domains { domain { code } goals goalsReached shareReached unfilledGaps } } }";

fn gap_services(gaps: &Value, domain: &str) -> Vec<String> {
    gaps["planGaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["domain"]["code"] == domain)
        .map(|g| {
            g["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn add_step(app: &TestApp, token: &str, goal: &str, input: Value) -> String {
    let step = ok(app, token, ADD_STEP, json!({ "goal": goal, "input": input })).await;
    step["addPlanStep"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_meeting_keeps_minutes_per_domain_and_its_decisions_join_the_action_plan() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    admit(&app, &cast, &plan, "ocmw-aalst", &cast.ocmw, &["finance"]).await;
    let health = add_goal(&app, &cast.coordinator, &plan, "health", "Naar de huisarts durven gaan").await;
    add_goal(&app, &cast.coordinator, &plan, "finance", "Schulden afbetalen").await;

    let input = json!({
        "heldOn": "2026-11-20",
        "attendingOrganizationIds": [organization_id("caw-oost-vlaanderen"), organization_id("ocmw-aalst")],
        "minutes": [
            { "domain": "health", "text": "Moeder wil een vrouwelijke huisarts" },
            { "domain": "finance", "text": "Afbetalingsplan met de energieleverancier" },
            { "text": "Volgende netwerktafel in januari" },
        ],
        "decisions": [{ "goalId": health, "text": "Afspraak bij het wijkgezondheidscentrum",
            "owner": "ORGANIZATION", "organizationId": organization_id("caw-oost-vlaanderen"), "dueBy": "2026-12-15" }],
    });
    let recorded = ok(
        &app,
        &cast.coordinator,
        RECORD_MEETING,
        json!({ "plan": plan, "input": input }),
    )
    .await;
    let meeting = &recorded["recordPlanMeeting"];
    assert_eq!(
        meeting["attending"].as_array().unwrap().len(),
        3,
        "the recorder is counted in"
    );
    assert_eq!(meeting["minutes"].as_array().unwrap().len(), 3);
    assert_eq!(meeting["decisions"][0]["meetingId"], meeting["id"]);

    // Each member reads the items of its domains and the general ones; the decision is a step.
    let texts = |read: &Value| -> Vec<String> {
        read["supportPlan"]["meetings"][0]["minutes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let caw = ok(&app, &cast.caw, MEETINGS, json!({ "id": plan })).await;
    assert_eq!(
        texts(&caw),
        [
            "Moeder wil een vrouwelijke huisarts",
            "Volgende netwerktafel in januari"
        ]
    );
    assert_eq!(
        caw["supportPlan"]["meetings"][0]["decisions"].as_array().unwrap().len(),
        1
    );
    let step = &caw["supportPlan"]["goals"][0]["steps"][0];
    assert_eq!(step["text"], "Afspraak bij het wijkgezondheidscentrum");
    assert_eq!(step["meetingId"], meeting["id"]);
    let ocmw = ok(&app, &cast.ocmw, MEETINGS, json!({ "id": plan })).await;
    assert_eq!(
        texts(&ocmw),
        [
            "Afbetalingsplan met de energieleverancier",
            "Volgende netwerktafel in januari"
        ]
    );
    assert_eq!(ocmw["supportPlan"]["meetings"][0]["decisions"], json!([]));
    let all = ok(&app, &cast.coordinator, MEETINGS, json!({ "id": plan })).await;
    assert_eq!(texts(&all).len(), 3);

    // A member writes only in its domains; the table holds the circle only; no meeting ahead.
    let refused = [
        (
            &cast.ocmw,
            json!({ "heldOn": "2026-11-20", "minutes": [{ "domain": "health", "text": "x" }] }),
            "FORBIDDEN",
        ),
        (
            &cast.coordinator,
            json!({ "heldOn": "2026-11-20", "attendingOrganizationIds": [organization_id("woonpunt-nieuwkomers-aalst")] }),
            "BAD_USER_INPUT",
        ),
        (&cast.coordinator, json!({ "heldOn": "2099-01-01" }), "BAD_USER_INPUT"),
        (
            &cast.ocmw,
            json!({ "heldOn": "2026-11-20", "decisions": [{ "goalId": health, "text": "x", "owner": "FAMILY" }] }),
            "BAD_USER_INPUT",
        ),
    ];
    for (token, input, expected) in refused {
        let response = app
            .graphql_as(Some(token), RECORD_MEETING, json!({ "plan": plan, "input": input }))
            .await;
        assert_eq!(code(&response), expected, "{response:#}");
    }
    let after = ok(&app, &cast.coordinator, MEETINGS, json!({ "id": plan })).await;
    assert_eq!(
        after["supportPlan"]["meetings"].as_array().unwrap().len(),
        1,
        "a refused meeting wrote nothing"
    );

    // At the next meeting the goal is ticked off, with the history kept.
    let reached = ok(
        &app,
        &cast.caw,
        UPDATE_GOAL,
        json!({ "id": health, "status": "REACHED", "note": "Vaste huisarts gevonden" }),
    )
    .await;
    let goal = &reached["updatePlanGoal"];
    assert_eq!(goal["status"], "REACHED");
    assert_eq!(goal["events"][0]["status"], "REACHED");
    assert_eq!(goal["events"][0]["note"], "Vaste huisarts gevonden");
    assert_eq!(goal["events"][0]["by"], "onthaal@caw.example");
    let reworded = ok(
        &app,
        &cast.coordinator,
        UPDATE_GOAL,
        json!({ "id": health, "text": "Zelf afspraken maken bij de huisarts", "due": "2027-06-30" }),
    )
    .await;
    assert_eq!(
        reworded["updatePlanGoal"]["text"],
        "Zelf afspraken maken bij de huisarts"
    );
    assert_eq!(
        reworded["updatePlanGoal"]["events"][1]["text"],
        "Zelf afspraken maken bij de huisarts"
    );
    assert_eq!(reworded["updatePlanGoal"]["events"][1]["dueBy"], "2027-06-30");
    // A reached goal is no gap any more; the OCMW does not see the health goal at all.
    let gaps = ok(&app, &cast.coordinator, GAPS, json!({ "plan": plan })).await;
    let domains: Vec<&str> = gaps["planGaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["domain"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["finance"]);
    let stranger = app
        .graphql_as(
            Some(&cast.ocmw),
            UPDATE_GOAL,
            json!({ "id": health, "status": "DROPPED" }),
        )
        .await;
    assert_eq!(code(&stranger), "NOT_FOUND", "{stranger:#}");
    let nothing = app
        .graphql_as(Some(&cast.caw), UPDATE_GOAL, json!({ "id": health }))
        .await;
    assert_eq!(code(&nothing), "BAD_USER_INPUT", "{nothing:#}");
}

#[tokio::test]
async fn a_need_outside_the_life_domains_gets_a_domain_of_the_familys_own() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    let by_member = app
        .graphql_as(
            Some(&cast.caw),
            ADD_DOMAIN,
            json!({ "plan": plan, "name": "Rijbewijs halen" }),
        )
        .await;
    assert_eq!(code(&by_member), "FORBIDDEN", "{by_member:#}");
    let added = ok(
        &app,
        &cast.coordinator,
        ADD_DOMAIN,
        json!({ "plan": plan, "name": "Rijbewijs halen" }),
    )
    .await;
    assert_eq!(
        added["addPlanDomain"],
        json!({ "code": "plan:1", "label": "Rijbewijs halen", "own": true, "lifeDomain": null })
    );
    add_goal(
        &app,
        &cast.coordinator,
        &plan,
        "plan:1",
        "Slagen voor het theorie-examen",
    )
    .await;
    let unknown = app
        .graphql_as(
            Some(&cast.coordinator),
            ADD_GOAL,
            json!({ "plan": plan, "input": { "domain": "plan:7", "text": "x" } }),
        )
        .await;
    assert_eq!(code(&unknown), "BAD_USER_INPUT", "{unknown:#}");

    // Members are admitted to it by its code, and only they see it.
    admit(&app, &cast, &plan, "ocmw-aalst", &cast.ocmw, &["finance", "plan:1"]).await;
    let query = "query($id: ID!) { supportPlan(id: $id) { visibleDomains { code label own }
        goals { text domain { code label own } } } }";
    let ocmw = ok(&app, &cast.ocmw, query, json!({ "id": plan })).await;
    assert_eq!(
        ocmw["supportPlan"]["goals"],
        json!([{ "text": "Slagen voor het theorie-examen", "domain": { "code": "plan:1", "label": "Rijbewijs halen", "own": true } }])
    );
    let visible: Vec<&str> = ocmw["supportPlan"]["visibleDomains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(visible, ["finance", "plan:1"]);
    let caw = ok(&app, &cast.caw, query, json!({ "id": plan })).await;
    assert_eq!(caw["supportPlan"]["goals"], json!([]));

    // A goal there with nobody helping is a gap like any other.
    let gaps = ok(&app, &cast.coordinator, GAPS, json!({ "plan": plan })).await;
    let own = gaps["planGaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["domain"]["code"] == "plan:1")
        .cloned();
    assert_eq!(
        own.map(|g| g["reason"].clone()),
        Some(json!("GOAL_WITHOUT_ACTOR")),
        "{gaps:#}"
    );
    assert!(
        !stored_bytes(&app).await.contains("Rijbewijs"),
        "an own domain's name is sealed"
    );
}

#[tokio::test]
async fn a_step_carries_its_referral_and_a_declined_one_is_forwarded_without_retyping() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    let goal = add_goal(
        &app,
        &cast.coordinator,
        &plan,
        "housing",
        "Een woning met twee slaapkamers",
    )
    .await;
    let step = add_step(
        &app,
        &cast.coordinator,
        &goal,
        json!({ "text": "Aanmelden bij het woonpunt", "owner": "ORGANIZATION" }),
    )
    .await;
    let referral = json!({
        "serviceId": service_id("woonpunt-aalst-woonzoekhulp"), "needCode": "housing.search",
        "needDescription": "Gezin van vier zoekt een woning", "postalCode": "9300", "languages": ["prs"],
        "consentGiven": true, "planStepId": step,
    });
    let sent = ok(&app, &cast.coordinator, REFER, json!({ "input": referral })).await;
    let first = sent["createReferral"]["id"].as_str().unwrap().to_owned();

    // A step of a plan the referrer is not in cannot carry its referral.
    let mut foreign = referral.clone();
    foreign["serviceId"] = json!(service_id("huurdersbond-ov-huuradvies"));
    let refused = app
        .graphql_as(Some(&cast.ocmw), REFER, json!({ "input": foreign }))
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused:#}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "planStepId", "{refused:#}");

    // Only a declined (or expired) referral is forwarded, by its referrer.
    let early = app
        .graphql_as(
            Some(&cast.coordinator),
            FORWARD,
            json!({ "id": first, "service": service_id("huurdersbond-ov-huuradvies") }),
        )
        .await;
    assert_eq!(code(&early), "BAD_USER_INPUT", "{early:#}");
    ok(&app, &cast.stranger, MOVE, json!({ "id": first, "status": "RECEIVED" })).await;
    let decline = json!({ "id": first, "status": "DECLINED", "reason": "NO_CAPACITY" });
    ok(&app, &cast.stranger, MOVE, decline).await;
    let by_service = app
        .graphql_as(
            Some(&cast.stranger),
            FORWARD,
            json!({ "id": first, "service": service_id("huurdersbond-ov-huuradvies") }),
        )
        .await;
    assert_eq!(code(&by_service), "NOT_FOUND", "{by_service:#}");
    let mut socket = app.websocket_ready(Some(&cast.stranger)).await;
    let over_ws = operate(
        &mut socket,
        "forward",
        FORWARD,
        json!({ "id": first, "service": service_id("huurdersbond-ov-huuradvies") }),
    )
    .await;
    assert_eq!(over_ws["payload"][0]["extensions"]["code"], "NOT_FOUND", "{over_ws:#}");
    let forwarded = ok(
        &app,
        &cast.coordinator,
        FORWARD,
        json!({ "id": first, "service": service_id("huurdersbond-ov-huuradvies") }),
    )
    .await;
    let second = &forwarded["forwardReferral"];
    assert_eq!(second["status"], "SENT");
    assert_eq!(second["needDescription"], "Gezin van vier zoekt een woning");
    assert_eq!(second["languages"][0]["code"], "prs");

    // The step shows both, each with where it stands; the circle sees no family details there.
    let read = ok(&app, &cast.coordinator, STEP_REFERRALS, json!({ "id": plan })).await;
    let referrals = &read["supportPlan"]["goals"][0]["steps"][0]["referrals"];
    assert_eq!(referrals[0]["id"], first.as_str());
    assert_eq!(referrals[0]["status"], "DECLINED");
    assert_eq!(referrals[1]["id"], second["id"]);
    assert_eq!(referrals[1]["status"], "SENT");
    assert_eq!(referrals[1]["forwardedFromId"], first.as_str());
}

#[tokio::test]
async fn a_transfer_from_aalst_to_gent_hands_the_plan_over_and_ends_the_old_circles_access() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let gent = account(
        &app,
        "sociaal@ocmw-gent.example",
        Role::Referrer,
        None,
        Some("ocmw-gent"),
    )
    .await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    let housing = add_goal(&app, &cast.coordinator, &plan, "housing", "Een woning vinden").await;
    let step = add_step(
        &app,
        &cast.coordinator,
        &housing,
        json!({ "text": "Woonzoekhulp", "owner": "FAMILY" }),
    )
    .await;
    let referral = json!({
        "serviceId": service_id("woonpunt-aalst-woonzoekhulp"), "needCode": "housing.search",
        "needDescription": "Zoekt een woning", "postalCode": "9300", "languages": ["prs"],
        "consentGiven": true, "planStepId": step,
    });
    let sent = ok(&app, &cast.coordinator, REFER, json!({ "input": referral })).await;
    let before = ok(&app, &cast.coordinator, GAPS, json!({ "plan": plan })).await;
    assert!(
        gap_services(&before, "housing").contains(&service_id("woonpunt-aalst-woonzoekhulp")),
        "{before:#}"
    );

    // Only the coordinator offers it, and only to an organization serving the new place.
    let offer = |org: &str| json!({ "plan": plan, "postal": "9000", "org": organization_id(org) });
    let by_member = app.graphql_as(Some(&cast.caw), TRANSFER, offer("ocmw-gent")).await;
    assert_eq!(code(&by_member), "FORBIDDEN", "{by_member:#}");
    let elsewhere = app
        .graphql_as(Some(&cast.coordinator), TRANSFER, offer("ocmw-aalst"))
        .await;
    assert_eq!(code(&elsewhere), "BAD_USER_INPUT", "{elsewhere:#}");
    assert_eq!(elsewhere["errors"][0]["extensions"]["field"], "receivingOrganizationId");
    let offered = ok(&app, &cast.coordinator, TRANSFER, offer("ocmw-gent")).await;
    let transfer = &offered["transferPlan"];
    assert_eq!(transfer["status"], "OFFERED");
    assert_eq!(transfer["toMunicipality"]["code"], "44021");

    // Gent sees the offer, not the plan, until it accepts.
    let waiting = ok(&app, &gent, "{ planTransfers { id planId from { id } } }", json!({})).await;
    assert_eq!(waiting["planTransfers"][0]["id"], transfer["id"]);
    let early = app.graphql_as(Some(&gent), READ, json!({ "id": plan })).await;
    assert_eq!(code(&early), "NOT_FOUND", "{early:#}");
    let not_theirs = app
        .graphql_as(
            Some(&cast.caw),
            ANSWER_TRANSFER,
            json!({ "id": transfer["id"], "accept": true }),
        )
        .await;
    assert_eq!(code(&not_theirs), "NOT_FOUND", "{not_theirs:#}");
    let accepted = ok(
        &app,
        &gent,
        ANSWER_TRANSFER,
        json!({ "id": transfer["id"], "accept": true }),
    )
    .await;
    let accepted = &accepted["answerPlanTransfer"];
    assert_eq!(accepted["status"], "ACCEPTED");
    // The referral the step sent in Aalst is still open: Gent follows it up.
    assert_eq!(accepted["followUp"][0]["id"], sent["createReferral"]["id"]);
    assert_eq!(accepted["followUp"][0]["status"], "SENT");
    assert_eq!(accepted["followUp"][0]["municipality"]["code"], "41002");

    let read = ok(&app, &gent, READ, json!({ "id": plan })).await;
    assert_eq!(read["supportPlan"]["coordinating"], true);
    assert_eq!(read["supportPlan"]["municipality"]["code"], "44021");
    assert_eq!(
        read["supportPlan"]["goals"][0]["text"], "Een woning vinden",
        "the plan travels whole"
    );
    let circle = read["supportPlan"]["circle"].as_array().unwrap();
    assert_eq!(circle.len(), 1, "only Gent is in the circle now: {circle:#?}");
    for (who, token) in [("the old coordinator", &cast.coordinator), ("the CAW", &cast.caw)] {
        let gone = app.graphql_as(Some(token), READ, json!({ "id": plan })).await;
        assert_eq!(code(&gone), "NOT_FOUND", "{who}: {gone:#}");
    }

    // The gaps now suggest services covering Gent, in Dari, and none for Aalst only.
    let after = ok(&app, &gent, GAPS, json!({ "plan": plan })).await;
    let suggested = gap_services(&after, "housing");
    assert!(
        suggested.contains(&service_id("huurdersbond-ov-huuradvies")),
        "{after:#}"
    );
    for aalst_only in [
        "woonpunt-aalst-woonzoekhulp",
        "woonpunt-aalst-woonclub",
        "ocmw-aalst-huurwaarborg",
    ] {
        assert!(!suggested.contains(&service_id(aalst_only)), "{aalst_only}: {after:#}");
    }
    let again = app
        .graphql_as(
            Some(&gent),
            ANSWER_TRANSFER,
            json!({ "id": transfer["id"], "accept": true }),
        )
        .await;
    assert_eq!(code(&again), "BAD_USER_INPUT", "an offer is answered once: {again:#}");
}

#[tokio::test]
async fn the_family_opens_its_own_plan_with_a_code_until_it_is_revoked() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    let goal = add_goal(&app, &cast.coordinator, &plan, "housing", "Een woning vinden").await;
    add_step(
        &app,
        &cast.coordinator,
        &goal,
        json!({ "text": "Bezoek aan het woonpunt", "owner": "FAMILY", "dueBy": "2099-01-10" }),
    )
    .await;
    add_step(
        &app,
        &cast.coordinator,
        &goal,
        json!({ "text": "Zonder datum", "owner": "FAMILY" }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        ADD_ACTOR,
        json!({ "plan": plan, "input": { "domain": "informal_network", "informalRole": "buddy", "note": "Helpt met brieven" } }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        NOTE,
        json!({ "plan": plan, "domain": "housing", "missing": "Een grotere woning" }),
    )
    .await;

    // Only the coordinator gives the family its code; strangers learn nothing.
    let by_member = app
        .graphql_as(Some(&cast.caw), ISSUE_CODE, json!({ "plan": plan }))
        .await;
    assert_eq!(code(&by_member), "FORBIDDEN", "{by_member:#}");
    let first = ok(&app, &cast.coordinator, ISSUE_CODE, json!({ "plan": plan })).await["issueFamilyCode"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(first.len() >= 40, "a code is long: {first}");

    // Read-only, everything, no account: the family's view.
    let seen = app.graphql(FAMILY, json!({ "code": first })).await;
    assert!(seen.get("errors").is_none(), "{seen:#}");
    let view = &seen["data"]["familyView"];
    assert_eq!(view["municipality"]["code"], "41002");
    assert_eq!(view["labelLanguage"], "PRS", "Dari, whose labels come from Persian");
    assert_eq!(view["goals"][0]["text"], "Een woning vinden");
    assert_eq!(view["goals"][0]["domain"]["label"], "Logement");
    assert_eq!(view["goals"][0]["steps"].as_array().unwrap().len(), 2);
    assert_eq!(
        view["nextSteps"],
        json!([{ "text": "Bezoek aan het woonpunt", "dueBy": "2099-01-10" }])
    );
    assert_eq!(view["actors"][0]["informalRole"], "buddy");
    assert_eq!(view["domainNotes"][0]["missing"], "Een grotere woning");
    let log = ok(
        &app,
        &cast.coordinator,
        "query($id: ID!) { supportPlan(id: $id) { accessLog { family } } }",
        json!({ "id": plan }),
    )
    .await;
    assert!(
        log["supportPlan"]["accessLog"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["family"] == true),
        "the family's read is logged: {log:#}"
    );

    // A family that reads French gets its labels in French.
    let french = ok(
        &app,
        &cast.coordinator,
        super::CREATE,
        plan_input(json!({ "label": "gezin fr", "languages": ["fr", "ar"] })),
    )
    .await;
    let french_plan = french["createSupportPlan"]["id"].as_str().unwrap().to_owned();
    let french_code = ok(&app, &cast.coordinator, ISSUE_CODE, json!({ "plan": french_plan })).await["issueFamilyCode"]
        ["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let fr = app.graphql(FAMILY, json!({ "code": french_code })).await;
    assert_eq!(fr["data"]["familyView"]["labelLanguage"], "FR", "{fr:#}");

    // A new code replaces the old one; a revoked code opens nothing; neither does a guess.
    let second = ok(&app, &cast.coordinator, ISSUE_CODE, json!({ "plan": plan })).await["issueFamilyCode"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for (what, tried) in [
        ("the replaced code", first.as_str()),
        ("a guess", "gezin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let refused = app.graphql(FAMILY, json!({ "code": tried })).await;
        assert_eq!(code(&refused), "NOT_FOUND", "{what}: {refused:#}");
        assert!(!refused.to_string().contains("woning"), "{what}: {refused:#}");
    }
    let mut socket = app.websocket_ready(None).await;
    let over_ws = operate(&mut socket, "family", FAMILY, json!({ "code": first })).await;
    assert_eq!(over_ws["payload"][0]["extensions"]["code"], "NOT_FOUND", "{over_ws:#}");
    assert_eq!(
        app.graphql(FAMILY, json!({ "code": second })).await["data"]["familyView"]["goals"][0]["text"],
        "Een woning vinden"
    );
    assert_eq!(
        ok(&app, &cast.coordinator, REVOKE_CODE, json!({ "plan": plan })).await["revokeFamilyCode"],
        true
    );
    let revoked = app.graphql(FAMILY, json!({ "code": second })).await;
    assert_eq!(code(&revoked), "NOT_FOUND", "{revoked:#}");

    // Ten attempts a minute per address, right or wrong, over either transport: this test
    // made seven so far.
    let mut limited = Value::Null;
    for _ in 0..5 {
        limited = app.graphql(FAMILY, json!({ "code": french_code })).await;
    }
    assert_eq!(code(&limited), "RATE_LIMITED", "{limited:#}");
    assert_eq!(
        limited["errors"][0]["extensions"]["reason"], "TOO_MANY_CODE_ATTEMPTS",
        "{limited:#}"
    );
}

#[tokio::test]
async fn members_hear_of_changes_in_their_domains_as_they_happen() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, LABEL).await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    let health = add_goal(&app, &cast.coordinator, &plan, "health", "Een huisarts").await;
    let step = add_step(
        &app,
        &cast.coordinator,
        &health,
        json!({ "text": "Bellen", "owner": "FAMILY" }),
    )
    .await;

    let mut caw = app.websocket_ready(Some(&cast.caw)).await;
    send(
        &mut caw,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { planUpdates { planId change domain { code } subjectId } }" } }),
    )
    .await;
    let (app_ref, coordinator, step_ref) = (&app, cast.coordinator.as_str(), step.as_str());
    let first = heard(&mut caw, move || async move {
        let note = json!({ "id": step_ref, "status": "OPEN", "note": "nog niet" });
        ok(app_ref, coordinator, UPDATE_STEP, note).await;
    })
    .await;
    let update = &first["payload"]["data"]["planUpdates"];
    assert_eq!(update["planId"], plan.as_str(), "{first:#}");
    assert_eq!(update["change"], "STEP");
    assert_eq!(update["domain"]["code"], "health");
    assert_eq!(update["subjectId"], step.as_str());

    // A finance goal is not the CAW's to hear of; the next health change is.
    add_goal(&app, &cast.coordinator, &plan, "finance", "Schulden").await;
    ok(
        &app,
        &cast.coordinator,
        UPDATE_GOAL,
        json!({ "id": health, "status": "REACHED" }),
    )
    .await;
    let next = crate::harness::receive(&mut caw).await;
    let update = &next["payload"]["data"]["planUpdates"];
    assert_eq!(update["change"], "GOAL", "{next:#}");
    assert_eq!(update["subjectId"], health.as_str());

    // Once the family withdraws its consent, the CAW hears nothing more of the plan but
    // its own removal.
    ok(
        &app,
        &cast.coordinator,
        super::REMOVE_MEMBER,
        json!({ "plan": plan, "org": organization_id("caw-oost-vlaanderen") }),
    )
    .await;
    let removed = crate::harness::receive(&mut caw).await;
    assert_eq!(
        removed["payload"]["data"]["planUpdates"]["change"], "INVITATION",
        "{removed:#}"
    );
    // Out of the circle, the CAW hears nothing of the plan: the next it hears is its own
    // new invitation, not the goal set before it.
    ok(
        &app,
        &cast.coordinator,
        ADD_GOAL,
        json!({ "plan": plan, "input": { "domain": "health", "text": "Tandarts" } }),
    )
    .await;
    let invitation = ok(
        &app,
        &cast.coordinator,
        super::INVITE,
        json!({ "plan": plan, "org": organization_id("caw-oost-vlaanderen"), "domains": ["health"] }),
    )
    .await;
    let next = crate::harness::receive(&mut caw).await;
    let update = &next["payload"]["data"]["planUpdates"];
    assert_eq!(update["change"], "INVITATION", "{next:#}");
    assert_eq!(update["subjectId"], invitation["invitePlanMember"]["id"], "{next:#}");

    // An organization invited hears of its invitation.
    let mut ocmw = app.websocket_ready(Some(&cast.ocmw)).await;
    send(
        &mut ocmw,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { planUpdates { planId change } }" } }),
    )
    .await;
    let (plan_ref, org) = (plan.as_str(), organization_id("ocmw-aalst"));
    let org = org.as_str();
    let invited = heard(&mut ocmw, move || async move {
        // Withdrawn and sent again, so that each try tells the OCMW something.
        let member = json!({ "plan": plan_ref, "org": org });
        let _ = app_ref
            .graphql_as(Some(coordinator), super::REMOVE_MEMBER, member)
            .await;
        let invite = json!({ "plan": plan_ref, "org": org, "domains": ["finance"] });
        ok(app_ref, coordinator, super::INVITE, invite).await;
    })
    .await;
    let update = &invited["payload"]["data"]["planUpdates"];
    assert_eq!(update["planId"], plan.as_str(), "{invited:#}");
    assert_eq!(update["change"], "INVITATION", "{invited:#}");
}

#[tokio::test]
async fn a_closed_plan_is_read_only_and_erasure_leaves_only_counts() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let plan = create(&app, &cast.coordinator, "Kraanvogel-plan").await;
    admit(&app, &cast, &plan, "caw-oost-vlaanderen", &cast.caw, &["health"]).await;
    let goal = add_goal(&app, &cast.coordinator, &plan, "health", "Kraanvogel-doel").await;
    add_step(
        &app,
        &cast.coordinator,
        &goal,
        json!({ "text": "Kraanvogel-stap", "owner": "FAMILY" }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        RECORD_MEETING,
        json!({ "plan": plan, "input": { "heldOn": "2026-11-20", "minutes": [{ "domain": "health", "text": "Kraanvogel-verslag" }] } }),
    )
    .await;
    ok(
        &app,
        &cast.coordinator,
        UPDATE_GOAL,
        json!({ "id": goal, "status": "REACHED", "note": "Kraanvogel-noot" }),
    )
    .await;
    let stored = stored_bytes(&app).await;
    assert!(
        !stored.contains("Kraanvogel"),
        "minutes and goal changes are sealed too"
    );

    let by_member = app
        .graphql_as(Some(&cast.caw), CLOSE, json!({ "id": plan, "reason": "GOALS_REACHED" }))
        .await;
    assert_eq!(code(&by_member), "FORBIDDEN", "{by_member:#}");
    let closed = ok(
        &app,
        &cast.coordinator,
        CLOSE,
        json!({ "id": plan, "reason": "GOALS_REACHED" }),
    )
    .await;
    assert_eq!(closed["closeSupportPlan"]["closeReason"], "GOALS_REACHED");
    assert!(closed["closeSupportPlan"]["closedAt"].is_string());

    // Readable by its circle, changed by nobody.
    let read = ok(&app, &cast.caw, READ, json!({ "id": plan })).await;
    assert_eq!(read["supportPlan"]["goals"][0]["text"], "Kraanvogel-doel");
    for (name, query, variables) in [
        (
            "addPlanGoal",
            ADD_GOAL,
            json!({ "plan": plan, "input": { "domain": "health", "text": "x" } }),
        ),
        ("updatePlanGoal", UPDATE_GOAL, json!({ "id": goal, "status": "OPEN" })),
        ("closeSupportPlan", CLOSE, json!({ "id": plan, "reason": "OTHER" })),
        ("issueFamilyCode", ISSUE_CODE, json!({ "plan": plan })),
    ] {
        let refused = app.graphql_as(Some(&cast.coordinator), query, variables).await;
        assert_eq!(code(&refused), "CONFLICT", "{name}: {refused:#}");
        assert_eq!(
            refused["errors"][0]["extensions"]["reason"], "PLAN_CLOSED",
            "{name}: {refused:#}"
        );
    }

    // Erased after the retention time: nobody reads it, the counts stay.
    let db = app.connect().await;
    let now = chrono::Utc::now();
    assert_eq!(api::plans::erase_closed(&db, now, 180).await.unwrap(), 0);
    assert_eq!(
        api::plans::erase_closed(&db, now + chrono::Duration::days(181), 180)
            .await
            .unwrap(),
        1
    );
    for token in [&cast.coordinator, &cast.caw] {
        let gone = app.graphql_as(Some(token), READ, json!({ "id": plan })).await;
        assert_eq!(code(&gone), "NOT_FOUND", "{gone:#}");
    }
    let list = ok(&app, &cast.coordinator, "{ supportPlans { totalCount } }", json!({})).await;
    assert_eq!(list["supportPlans"]["totalCount"], 0);
    use sea_orm::{EntityTrait, PaginatorTrait};
    let erased = entity::support_plan::Entity::find_by_id(plan.as_str())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (erased.label.as_str(), erased.adults, erased.children_ages.as_str()),
        ("", 0, "[]")
    );
    let goal = entity::support_plan_goal::Entity::find_by_id(goal.as_str())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (goal.text.as_str(), goal.domain.as_str()),
        ("", "health"),
        "the goal's domain and status stay"
    );
    assert_eq!(goal.status, entity::support_plan_goal::GoalStatus::Reached);
    assert_eq!(entity::support_plan_minute::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(entity::support_plan_access::Entity::find().count(&db).await.unwrap(), 0);

    // Consent withdrawn: erased at once.
    let withdrawn = create(&app, &cast.coordinator, LABEL).await;
    let closed = ok(
        &app,
        &cast.coordinator,
        CLOSE,
        json!({ "id": withdrawn, "reason": "CONSENT_WITHDRAWN" }),
    )
    .await;
    assert!(closed["closeSupportPlan"]["erasedAt"].is_string(), "{closed:#}");
    assert_eq!(closed["closeSupportPlan"]["label"], "");
    let gone = app
        .graphql_as(Some(&cast.coordinator), READ, json!({ "id": withdrawn }))
        .await;
    assert_eq!(code(&gone), "NOT_FOUND", "{gone:#}");
}

#[tokio::test]
async fn plan_statistics_count_per_municipality_and_hide_counts_below_five() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let gent_editor = account(&app, "gent@x.org", Role::MunicipalityEditor, Some("44021"), None).await;
    for n in 0..6 {
        let plan = create(&app, &cast.coordinator, &format!("gezin {n}")).await;
        let goal = add_goal(&app, &cast.coordinator, &plan, "housing", "Een woning").await;
        if n < 5 {
            ok(
                &app,
                &cast.coordinator,
                UPDATE_GOAL,
                json!({ "id": goal, "status": "REACHED" }),
            )
            .await;
        }
        if n < 2 {
            add_goal(&app, &cast.coordinator, &plan, "health", "Een huisarts").await;
        }
    }
    let expected = json!([{
        "municipality": { "code": "41002" }, "plansOpen": 6,
        "domains": [{ "domain": { "code": "housing" }, "goals": 6, "goalsReached": 5,
            "shareReached": 5.0 / 6.0, "unfilledGaps": null }],
    }]);
    for token in [&cast.admin, &cast.aalst] {
        let seen = ok(&app, token, STATISTICS, json!({ "m": "41002" })).await;
        assert_eq!(seen["planStatistics"], expected, "{seen:#}");
    }
    let all = ok(&app, &cast.admin, STATISTICS, json!({})).await;
    assert_eq!(all["planStatistics"], expected);
    let rendered = all.to_string();
    assert!(
        !rendered.contains("health") && !rendered.contains("gezin"),
        "{rendered}"
    );
    for (who, token) in [
        ("another municipality's editor", &gent_editor),
        ("a referrer", &cast.coordinator),
    ] {
        let refused = app.graphql_as(Some(token), STATISTICS, json!({ "m": "41002" })).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{who}: {refused:#}");
        let mut socket = app.websocket_ready(Some(token)).await;
        let over_ws = operate(&mut socket, "statistics", STATISTICS, json!({ "m": "41002" })).await;
        assert_eq!(
            over_ws["payload"][0]["extensions"]["code"], "FORBIDDEN",
            "{who}: {over_ws:#}"
        );
    }
}
