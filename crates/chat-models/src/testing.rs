//! Helpers for the services' integration tests (feature `test-util`; never in a release build).

use sqlx::mysql::MySqlConnection;
use sqlx::{Connection as _, Executor as _};

/// Drops the MySQL schema named by `url` (`mysql://…/schema`), first killing the connections
/// still using it: a test that panics leaves its server's pool holding open transactions (its
/// runtime is blocked while the test unwinds), and `DROP DATABASE` would wait on their locks
/// forever. Errors are ignored: this is best-effort cleanup.
pub async fn drop_mysql_schema(url: &str) {
    let Some((server, schema)) = url.rsplit_once('/') else {
        return;
    };
    let Ok(mut conn) = MySqlConnection::connect(server).await else {
        return;
    };
    let _ = conn.execute("SET SESSION lock_wait_timeout = 10").await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
    )
    .bind(schema)
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    for id in ids {
        let _ = conn.execute(format!("KILL {id}").as_str()).await;
    }
    let _ = conn
        .execute(format!("DROP DATABASE IF EXISTS `{}`", schema.replace('`', "``")).as_str())
        .await;
}

/// Drops a MongoDB database (best effort).
pub async fn drop_mongo_database(uri: &str, name: &str) {
    if let Ok(client) = mongodb::Client::with_uri_str(uri).await {
        let _ = client.database(name).drop().await;
    }
}

/// Deletes the Redis keys starting with `prefix` (best effort).
pub async fn delete_redis_keys(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}

/// Runs `cleanup` to completion on a thread and runtime of its own; for `Drop` impls, whose
/// test runtime is blocked while they run.
pub fn block_on_side_thread<F>(cleanup: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let _ = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(cleanup);
        }
    })
    .join();
}
