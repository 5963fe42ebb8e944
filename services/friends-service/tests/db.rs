//! The friends schema against a real MariaDB (`TEST_MYSQL_URL` or `DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_models::ErrorCode;
use friends_service::db::relationships::{count_outgoing, fetch_facts, insert_request};
use friends_service::domain::{Relationship, SendDecision};
use sqlx::migrate::MigrateDatabase as _;
use sqlx::{MySql, MySqlPool};
use uuid::Uuid;

/// A migrated schema of its own, dropped when the test ends (even on panic).
struct TestDb {
    pool: MySqlPool,
    url: String,
}

impl TestDb {
    async fn new() -> Self {
        let base = ["TEST_MYSQL_URL", "DATABASE_URL"]
            .iter()
            .find_map(|name| std::env::var(name).ok())
            .expect("set TEST_MYSQL_URL (scripts/test.sh does it for you)");
        let url = format!(
            "{}/test_friends_{}",
            base.trim_end_matches('/'),
            Uuid::new_v4().simple()
        );
        MySql::create_database(&url).await.unwrap();
        let pool = MySqlPool::connect(&url).await.unwrap();
        friends_service::MIGRATOR.run(&pool).await.unwrap();
        Self { pool, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let url = self.url.clone();
        chat_models::testing::block_on_side_thread(async move {
            chat_models::testing::drop_mysql_schema(&url).await;
        });
    }
}

#[tokio::test]
async fn concurrent_requests_between_a_pair_leave_exactly_one_pending() {
    let db = TestDb::new().await;
    for _ in 0..10 {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Four racers, both directions, each on its own connection.
        let attempts = (0..4).map(|i| {
            let pool = db.pool.clone();
            let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
            async move {
                let mut conn = pool.acquire().await.unwrap();
                insert_request(&mut conn, from, to).await
            }
        });
        let results = futures::future::join_all(attempts).await;

        let won = results.iter().filter(|result| result.is_ok()).count();
        assert_eq!(won, 1, "{results:?}");
        for lost in results.iter().filter_map(|result| result.as_ref().err()) {
            assert_eq!(lost.code(), ErrorCode::RequestAlreadySent);
        }
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM friend_requests WHERE status = 'pending' AND (sender_uuid = ? OR sender_uuid = ?)")
            .bind(a.to_string())
            .bind(b.to_string())
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(pending, 1);
    }
}

#[tokio::test]
async fn facts_read_each_side_of_a_pair() {
    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.unwrap();
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());

    assert_eq!(
        fetch_facts(&mut conn, ann, bob)
            .await
            .unwrap()
            .relationship(),
        Relationship::None
    );

    let request_id = insert_request(&mut conn, ann, bob).await.unwrap();
    assert_eq!(
        fetch_facts(&mut conn, ann, bob)
            .await
            .unwrap()
            .relationship(),
        Relationship::Outgoing { request_id }
    );
    let bobs_view = fetch_facts(&mut conn, bob, ann)
        .await
        .unwrap()
        .relationship();
    assert_eq!(bobs_view, Relationship::Incoming { request_id });
    // Bob asking back accepts Ann's request rather than making a second one.
    let decision = friends_service::domain::decide_send(bobs_view, 0, 100).unwrap();
    assert_eq!(decision, SendDecision::AcceptTheirs { request_id });
    assert_eq!(count_outgoing(&mut conn, ann).await.unwrap(), 1);
    assert_eq!(count_outgoing(&mut conn, bob).await.unwrap(), 0);

    sqlx::query("INSERT INTO friendships (user_uuid, friend_uuid) VALUES (?, ?), (?, ?)")
        .bind(ann.to_string())
        .bind(bob.to_string())
        .bind(bob.to_string())
        .bind(ann.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE friend_requests SET status = 'accepted' WHERE request_id = ?")
        .bind(request_id)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        fetch_facts(&mut conn, bob, ann)
            .await
            .unwrap()
            .relationship(),
        Relationship::Friends
    );

    sqlx::query("INSERT INTO blocks (blocker_uuid, blocked_uuid) VALUES (?, ?)")
        .bind(bob.to_string())
        .bind(ann.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        fetch_facts(&mut conn, bob, ann)
            .await
            .unwrap()
            .relationship(),
        Relationship::Blocked
    );
    assert_eq!(
        fetch_facts(&mut conn, ann, bob)
            .await
            .unwrap()
            .relationship(),
        Relationship::BlockedBy
    );
}

#[tokio::test]
async fn the_schema_refuses_requests_to_oneself() {
    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.unwrap();
    let me = Uuid::new_v4();
    // The pair CHECK (low < high) fails for a self-pair: the database itself refuses it.
    assert!(insert_request(&mut conn, me, me).await.is_err());
}
