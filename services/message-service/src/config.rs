//! Configuration, from environment variables (or the matching `--flags`), read once at start-up.

use std::net::SocketAddr;

use chat_models::config::{CommonConfig, MongoConfig, UserServiceConfig};
use chat_models::ratelimit::RateLimit;

/// message-service settings.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "message-service",
    version,
    about = "Conversations, messages and read state of the chat platform"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "MESSAGE_SERVICE_ADDR", default_value = "0.0.0.0:5003")]
    pub addr: SocketAddr,

    /// Base URL of friends-service (who may talk to whom).
    #[arg(
        long,
        env = "FRIENDS_SERVICE_URL",
        default_value = "http://127.0.0.1:5002"
    )]
    pub friends_service_url: String,

    /// Seconds a profile or a friendship answered by the other services, or a session found
    /// not signed out, is remembered (0: asked every time). Changes announced on the event
    /// stream are forgotten at once; this bounds how long a missed announcement can leave one
    /// stale.
    #[arg(long, env = "DIRECTORY_CACHE_TTL_SECS", default_value_t = 30)]
    pub directory_cache_ttl_secs: u64,

    /// Most members a group may have, its admin included.
    #[arg(long, env = "MAX_GROUP_MEMBERS", default_value_t = 100)]
    pub max_group_members: usize,

    /// Largest WebSocket frame a client may send, in bytes.
    #[arg(long, env = "WS_MAX_FRAME_BYTES", default_value_t = 16_384)]
    pub ws_max_frame_bytes: usize,

    /// Frames queued per socket before it is closed as too slow to read.
    #[arg(long, env = "WS_SEND_QUEUE", default_value_t = 256)]
    pub ws_send_queue: usize,

    /// Seconds between server pings.
    #[arg(long, env = "WS_PING_INTERVAL_SECS", default_value_t = 20)]
    pub ws_ping_interval_secs: u64,

    /// Seconds without any frame or pong after which a socket is closed.
    #[arg(long, env = "WS_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub ws_idle_timeout_secs: u64,

    /// Seconds to send `authenticate` when the upgrade carried no token.
    #[arg(long, env = "WS_AUTH_TIMEOUT_SECS", default_value_t = 5)]
    pub ws_auth_timeout_secs: u64,

    /// Most sockets one user may hold on this instance (more are refused with
    /// `too_many_sockets`).
    #[arg(long, env = "WS_MAX_SOCKETS_PER_USER", default_value_t = 16)]
    pub ws_max_sockets_per_user: usize,

    /// Messages one user may send (`N/SECONDS`: N at once, refilled evenly over the window),
    /// over HTTP and WebSockets together, on this instance.
    #[arg(long, env = "MESSAGE_RATE_LIMIT", default_value = "30/10")]
    pub message_rate_limit: RateLimit,

    /// Typing announcements one user may cause (`N/SECONDS`); renewals of a `typing.start`
    /// within half its lifetime are coalesced and do not count.
    #[arg(long, env = "TYPING_RATE_LIMIT", default_value = "20/10")]
    pub typing_rate_limit: RateLimit,

    /// Milliseconds a `typing.start` lasts unless renewed.
    #[arg(long, env = "TYPING_TTL_MS", default_value_t = 5_000)]
    pub typing_ttl_ms: u64,

    /// Seconds a socket counts as present after its last heartbeat (several ping intervals).
    #[arg(long, env = "PRESENCE_TTL_SECS", default_value_t = 70)]
    pub presence_ttl_secs: u64,

    /// Most sends to one conversation stored in one transaction: sends arriving while the
    /// conversation's previous transaction runs wait for it and are stored together (1: a
    /// transaction per send, concurrent ones conflicting and retrying).
    #[arg(long, env = "SEND_BATCH_MAX", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub send_batch_max: u16,

    /// Most conversations whose sends one transaction stores: batches of other conversations
    /// arriving while this instance's transactions run (`SEND_SHARED_AT_ONCE`) wait and share
    /// the next one (one commit for all; 1: a transaction per conversation).
    #[arg(long, env = "SEND_SHARED_MAX", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub send_shared_max: u16,

    /// Shared transactions of sends running at once on this instance: a batch arriving while
    /// fewer run starts one, else it waits for the next.
    #[arg(long, env = "SEND_SHARED_AT_ONCE", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub send_shared_at_once: u16,

    /// Instances take turns (a lease in Redis) at storing one conversation's sends instead of
    /// running conflicting transactions (`false`: no turns, conflicts retried).
    #[arg(long, env = "SEND_TURNS", default_value_t = true, action = clap::ArgAction::Set)]
    pub send_turns: bool,

    /// Most messages one `resume` replays per conversation.
    #[arg(long, env = "RESUME_MAX_MESSAGES", default_value_t = 500)]
    pub resume_max_messages: i64,

    /// Fetch a preview of the first link of new messages.
    #[arg(long, env = "LINK_PREVIEWS", default_value_t = true, action = clap::ArgAction::Set)]
    pub link_previews: bool,

    /// Comma-separated `ip:port` pairs previews may fetch although they are not public
    /// addresses. For tests only: refused with `APP_ENV=production`.
    #[arg(long, env = "LINK_PREVIEW_UNSAFE_ALLOW", value_delimiter = ',')]
    pub link_preview_unsafe_allow: Vec<String>,

    /// Directory of this instance's search index (each instance needs its own). Unset: the
    /// index is kept in memory and rebuilt from MongoDB at every start.
    #[arg(long, env = "SEARCH_INDEX_DIR")]
    pub search_index_dir: Option<std::path::PathBuf>,

    /// An OpenSearch server to search on instead (one index shared by every instance), e.g.
    /// `http://opensearch:9200`. Unset: the embedded index.
    #[arg(long, env = "SEARCH_URL")]
    pub search_url: Option<String>,

    /// Path of the VAPID private key (P-256, PEM) that signs web pushes; create one with
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out vapid.pem`.
    /// Unset (and no `VAPID_PRIVATE_KEY`): no web push.
    #[arg(long, env = "VAPID_PRIVATE_KEY_FILE")]
    pub vapid_private_key_file: Option<std::path::PathBuf>,

    /// The same key inline, for platforms that inject secrets as variables.
    #[arg(long, env = "VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<secrecy::SecretString>,

    /// Who push services may contact about our pushes (`mailto:` or `https:`).
    #[arg(
        long,
        env = "VAPID_SUBJECT",
        default_value = "mailto:webpush@localhost"
    )]
    pub vapid_subject: String,

    /// Seconds a push service keeps a notification for a browser that is offline.
    #[arg(long, env = "PUSH_TTL_SECS", default_value_t = 86_400)]
    pub push_ttl_secs: u64,

    /// Comma-separated `ip:port` pairs pushes may be sent to although they are not public
    /// `https` addresses. For tests only: refused with `APP_ENV=production`.
    #[arg(long, env = "PUSH_UNSAFE_ALLOW", value_delimiter = ',')]
    pub push_unsafe_allow: Vec<String>,

    /// This service's address as browsers reach it: attachment and group-picture URLs start
    /// with it.
    #[arg(
        long,
        env = "MESSAGE_SERVICE_PUBLIC_URL",
        default_value = "http://localhost:5003"
    )]
    pub public_url: String,

    /// Largest attachment, in bytes.
    #[arg(long, env = "ATTACHMENT_MAX_BYTES", default_value_t = 25_000_000)]
    pub attachment_max_bytes: u64,

    /// Largest group picture, in bytes.
    #[arg(long, env = "GROUP_PICTURE_MAX_BYTES", default_value_t = 5_000_000)]
    pub group_picture_max_bytes: u64,

    /// Bytes of attachments one user may keep.
    #[arg(long, env = "STORAGE_QUOTA_BYTES", default_value_t = 1_000_000_000)]
    pub storage_quota_bytes: u64,

    /// Seconds an upload may wait to be attached to a message before it is removed.
    #[arg(long, env = "UPLOAD_UNATTACHED_TTL_SECS", default_value_t = 3_600)]
    pub upload_unattached_ttl_secs: u64,

    /// Where files are kept.
    #[command(flatten)]
    pub storage: chat_files::StorageConfig,

    /// MongoDB (conversations, messages, read state, presence).
    #[command(flatten)]
    pub mongo: MongoConfig,

    /// How to reach user-service.
    #[command(flatten)]
    pub users: UserServiceConfig,

    /// Settings every service shares.
    #[command(flatten)]
    pub common: CommonConfig,
}

impl Config {
    /// Refuses to start with unusable settings.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.common.validate()?;
        if self.max_group_members < 2 {
            anyhow::bail!("MAX_GROUP_MEMBERS must be at least 2");
        }
        if self.ws_ping_interval_secs == 0 || self.presence_ttl_secs <= self.ws_ping_interval_secs {
            anyhow::bail!(
                "PRESENCE_TTL_SECS must exceed WS_PING_INTERVAL_SECS (and both be above 0)"
            );
        }
        if self.ws_max_sockets_per_user == 0 {
            anyhow::bail!("WS_MAX_SOCKETS_PER_USER must be at least 1");
        }
        if self.resume_max_messages < 1 {
            anyhow::bail!("RESUME_MAX_MESSAGES must be at least 1");
        }
        if self.common.app_env == chat_models::config::AppEnv::Production
            && !self.link_preview_unsafe_allow.is_empty()
        {
            anyhow::bail!(
                "LINK_PREVIEW_UNSAFE_ALLOW is for tests; unset it with APP_ENV=production"
            );
        }
        if self.common.app_env == chat_models::config::AppEnv::Production
            && !self.push_unsafe_allow.is_empty()
        {
            anyhow::bail!("PUSH_UNSAFE_ALLOW is for tests; unset it with APP_ENV=production");
        }
        if self.attachment_max_bytes == 0 || self.group_picture_max_bytes == 0 {
            anyhow::bail!("ATTACHMENT_MAX_BYTES and GROUP_PICTURE_MAX_BYTES must be above 0");
        }
        if self.upload_unattached_ttl_secs == 0 {
            anyhow::bail!("UPLOAD_UNATTACHED_TTL_SECS must be at least 1");
        }
        url::Url::parse(&self.public_url)
            .map_err(|_| anyhow::anyhow!("MESSAGE_SERVICE_PUBLIC_URL must be an absolute URL"))?;
        if self.push_ttl_secs > 2_419_200 {
            anyhow::bail!("PUSH_TTL_SECS is at most 2419200 (four weeks)");
        }
        Ok(())
    }

    /// The VAPID key PEM, from the inline variable or the file; `None`: push is off.
    pub fn vapid_private_key_pem(&self) -> anyhow::Result<Option<secrecy::SecretString>> {
        chat_models::config::key_pem(
            self.vapid_private_key.as_ref(),
            self.vapid_private_key_file.as_deref(),
            "VAPID_PRIVATE_KEY_FILE",
        )
    }
}

impl chat_models::service::ServiceConfig for Config {
    fn common(&self) -> &CommonConfig {
        &self.common
    }
}
