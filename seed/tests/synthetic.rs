//! The synthetic map against a real (SQLite) database: the size asked for, every service
//! complete, and the same map for the same seed.

use entity::{organization, service, service_area, service_domain, service_language};
use migration::{Migrator, MigratorTrait};
use sea_orm::{Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};

async fn empty_database(dir: &std::path::Path) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.join("map.sqlite").display());
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    seed::seed_reference_data(&db).await.unwrap();
    db
}

async fn service_names(db: &DatabaseConnection) -> Vec<String> {
    service::Entity::find()
        .order_by_asc(service::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect()
}

#[tokio::test]
async fn generates_complete_services_reproducibly() {
    let dirs = [0, 1].map(|n| std::env::temp_dir().join(format!("socialmap-synthetic-{}-{n}", uuid::Uuid::new_v4())));
    let mut names = Vec::new();
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
        let db = empty_database(dir).await;
        let report = seed::seed_synthetic_map(&db, 503, 7).await.unwrap();
        assert_eq!(report.services, 503);
        assert_eq!(report.organizations, 101);
        assert_eq!(service::Entity::find().count(&db).await.unwrap(), 503);
        assert_eq!(organization::Entity::find().count(&db).await.unwrap(), 101);
        // Every service has an area, a domain and Dutch.
        assert_eq!(service_area::Entity::find().count(&db).await.unwrap(), 503);
        assert!(service_domain::Entity::find().count(&db).await.unwrap() >= 503);
        assert!(service_language::Entity::find().count(&db).await.unwrap() >= 503);
        names.push(service_names(&db).await);

        let again = seed::seed_synthetic_map(&db, 10, 7).await;
        assert!(again.is_err(), "a second map is refused, not mixed in");
        db.close().await.unwrap();
    }
    assert_eq!(names[0], names[1], "the same seed gives the same map");
    for dir in dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
}
