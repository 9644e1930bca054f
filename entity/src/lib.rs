//! sea-orm entities of the social map: reference tables (seeded, read-only for users) and
//! the map itself (organizations, services, locations and what hangs off them).

pub mod enums;
pub mod search_key;

pub mod language;
pub mod life_domain;
pub mod life_domain_synonym;
pub mod municipality;
pub mod postal_code;
pub mod postal_code_municipality;
pub mod province;
pub mod region;

pub mod account;
pub mod account_municipality;
pub mod api_token;
pub mod audit_entry;
pub mod change_log;
pub mod location;
pub mod organization;
pub mod referral;
pub mod referral_event;
pub mod service;
pub mod service_area;
pub mod service_domain;
pub mod service_language;
pub mod service_location;
pub mod service_target_group;
pub mod service_translation;
pub mod suggestion;
pub mod support_plan;
pub mod support_plan_access;
pub mod support_plan_actor;
pub mod support_plan_domain;
pub mod support_plan_domain_note;
pub mod support_plan_goal;
pub mod support_plan_goal_event;
pub mod support_plan_meeting;
pub mod support_plan_member;
pub mod support_plan_minute;
pub mod support_plan_step;
pub mod support_plan_step_event;
pub mod support_plan_transfer;
