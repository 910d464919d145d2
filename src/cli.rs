//! Command-line definitions. Every option is also readable from the
//! environment (and so from `.env`), flags first.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration::parse_duration;
use crate::redis::TrimMode;
use crate::redis::config::RedisInputs;

#[derive(Debug, Parser)]
#[command(name = "streamlab", version, about = "A terminal lab and console for Redis Streams", long_about = None)]
// clap's own -h/-V would sit alone under "Options" above the headings: they
// are defined in GlobalArgs instead, under "General".
#[command(disable_help_flag = true, disable_version_flag = true)]
pub struct Cli {
    // The dashboard's options first: they are what `streamlab` alone runs.
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Read environment variables from this file instead of ./.env
    #[arg(long, global = true, help_heading = "Connection", value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Redis URL: redis://[user:password@]host:port[/db], rediss:// for TLS
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
    /// Redis host, used when no URL is given
    #[arg(long, global = true, help_heading = "Connection", env = "REDIS_HOST")]
    pub host: Option<String>,
    /// Redis port, used with --host
    #[arg(long, global = true, help_heading = "Connection", env = "REDIS_PORT")]
    pub port: Option<String>,
    /// ACL user name
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_USERNAME"
    )]
    pub username: Option<String>,
    /// Password (prefer the environment or .env: flags show in `ps`)
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Use TLS with --host (same as a rediss:// URL)
    #[arg(long, global = true, help_heading = "Connection", env = "REDIS_TLS")]
    pub tls: bool,
    /// PEM file of a private CA that signed the server's certificate
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_CA_CERT",
        value_name = "PEM"
    )]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the server's certificate host name (insecure; warns)
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_TLS_INSECURE"
    )]
    pub tls_insecure: bool,
    /// Redis Cluster: auto detects it (INFO), false treats the server as a single node
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_CLUSTER",
        value_name = "auto|true|false"
    )]
    pub cluster: Option<String>,
    /// Redis Sentinel: the sentinels' addresses (the master is asked of them)
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_SENTINEL",
        value_name = "HOST:PORT,..."
    )]
    pub sentinel: Option<String>,
    /// Redis Sentinel: the master's name as the sentinels know it
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_SENTINEL_MASTER",
        value_name = "NAME"
    )]
    pub sentinel_master: Option<String>,
    /// Redis Sentinel: the sentinels' ACL user (the data nodes keep --username)
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_SENTINEL_USERNAME"
    )]
    pub sentinel_username: Option<String>,
    /// Redis Sentinel: the sentinels' password (prefer the environment or .env)
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "REDIS_SENTINEL_PASSWORD",
        hide_env_values = true
    )]
    pub sentinel_password: Option<String>,
    /// Stream key
    #[arg(
        long,
        global = true,
        help_heading = "Stream",
        env = "STREAMLAB_STREAM",
        default_value = "tasks"
    )]
    pub stream: String,
    /// Whether `--stream` (or STREAMLAB_STREAM) was given, not defaulted.
    #[arg(skip)]
    pub stream_given: bool,
    /// Consumer group (default `workers`; `produce` creates it only when given)
    #[arg(long, global = true, help_heading = "Stream", env = "STREAMLAB_GROUP")]
    pub group: Option<String>,
    /// Write logs to this file (never to the screen)
    #[arg(
        long,
        global = true,
        help_heading = "General",
        env = "STREAMLAB_LOG_FILE",
        value_name = "PATH"
    )]
    pub log_file: Option<PathBuf>,
    /// The lab: never start a private redis-server when 127.0.0.1:6379 does not answer
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "STREAMLAB_NO_EMBEDDED"
    )]
    pub no_embedded: bool,
    /// Print help
    #[arg(short, long, global = true, help_heading = "General", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Print the version
    #[arg(short = 'V', long, help_heading = "General", action = clap::ArgAction::Version)]
    pub version: Option<bool>,
}

/// The command line as clap sees it, with the global flags that a
/// subcommand ignores hidden from its help: `info` reads the server, not a
/// stream, and `exporter` every stream; `bench` makes its own streams (`--stream` names their prefix)
/// and groups. They are still accepted there, so a script that passes them
/// to every subcommand keeps working.
pub fn definition() -> clap::Command {
    use clap::CommandFactory;
    let cmd = Cli::command();
    // clap copies a global flag into each subcommand that lacks one of that
    // name when it builds the command, so copies put there first take its
    // place: all of them, in order, since a help lists its headings in the
    // order their flags come.
    let globals_hiding = |ignored: &[&str]| -> Vec<clap::Arg> {
        cmd.get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| {
                let ignored = ignored.contains(&a.get_id().as_str());
                a.clone().hide(ignored || a.is_hide_set())
            })
            .collect()
    };
    let (info, bench, read) = (
        globals_hiding(&["stream", "group"]),
        globals_hiding(&["group"]),
        globals_hiding(&["group"]),
    );
    // The exporter lists every stream (`--match`), never one.
    let exporter = globals_hiding(&["stream", "group"]);
    cmd.clone()
        .mut_subcommand("info", |s| s.args(info))
        .mut_subcommand("bench", |s| s.args(bench))
        .mut_subcommand("read", |s| s.args(read))
        .mut_subcommand("exporter", |s| s.args(exporter))
}

/// Parse the command line like `Cli::try_parse_from`, also noting which
/// values were given rather than defaulted.
pub fn parse_from(argv: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = definition().try_get_matches_from(argv)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let own = matches.subcommand().map_or(&matches, |(_, m)| m);
    cli.global.stream_given = matches!(
        own.value_source("stream"),
        Some(clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable)
    );
    Ok(cli)
}

impl GlobalArgs {
    pub fn group(&self) -> String {
        self.group.clone().unwrap_or_else(|| "workers".to_owned())
    }

    pub fn redis_inputs(&self) -> RedisInputs {
        RedisInputs {
            url: self.url.clone(),
            host: self.host.clone(),
            port: self.port.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            tls: self.tls,
            ca_cert: self.ca_cert.clone(),
            tls_insecure: self.tls_insecure,
            cluster: self.cluster.clone(),
            sentinel: self.sentinel.clone(),
            sentinel_master: self.sentinel_master.clone(),
            sentinel_username: self.sentinel_username.clone(),
            sentinel_password: self.sentinel_password.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add tasks to the stream (XADD), a count or at a rate
    Produce(ProduceArgs),
    /// The basic single consumer (XREAD after an id, offset saved)
    Consume(ConsumeArgs),
    /// A consumer-group worker (XREADGROUP, XACK, XAUTOCLAIM, dead letters)
    Worker(WorkerArgs),
    /// A read-only console: the dashboard without embedded parts, writing nothing
    Watch(WatchArgs),
    /// Print what Redis reports about the stream and its groups
    Monitor(MonitorArgs),
    /// Which server this is (version, features) and queue-safety advice from INFO
    Info(InfoArgs),
    /// Trim the stream: XTRIM MAXLEN or MINID, --safe (only what every group is done with) or --acked (Redis 8.2)
    Trim(TrimArgs),
    /// Inspect or replay the dead-letter stream `<stream>:dead`
    Dlq(DlqArgs),
    /// Measure produce, drain and end-to-end throughput and latency
    Bench(BenchArgs),
    /// Print the stream's entries, read-only (XRANGE; --follow waits for new ones with XREAD)
    Read(ReadArgs),
    /// A group's pending entries (PEL): list them, or ack, claim, requeue or dead-letter them
    Pending(PendingArgs),
    /// Serve every stream's figures as Prometheus metrics on /metrics (read-only)
    Exporter(ExporterArgs),
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Produce options")]
pub struct ProduceArgs {
    /// How many tasks to add (default 10; with --rate, stop after this many)
    #[arg(long, env = "STREAMLAB_COUNT", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub count: Option<u64>,
    /// Tasks per second; runs until Ctrl-C (or --count when also given)
    #[arg(long, env = "STREAMLAB_RATE", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Keep about this many entries (XADD MAXLEN ~)
    #[arg(long, env = "STREAMLAB_MAXLEN", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "minid")]
    pub maxlen: Option<u64>,
    /// Remove entries with ids below this one as tasks are added (XADD MINID ~)
    #[arg(long, env = "STREAMLAB_MINID", value_name = "ID")]
    pub minid: Option<String>,
    #[command(flatten)]
    pub trim_mode: TrimModeArgs,
    /// Payload size in bytes
    #[arg(long, env = "STREAMLAB_PAYLOAD_BYTES", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=16_777_216))]
    pub payload_bytes: u64,
    #[command(flatten)]
    pub partitioning: PartitionArgs,
    /// Add the entries of `streamlab read --json` lines from FILE (- for stdin): their fields, with new ids
    #[arg(long, value_name = "FILE", conflicts_with_all = ["count", "rate", "payload_bytes"])]
    pub from_file: Option<PathBuf>,
    /// With --from-file: keep each entry's id when it is above the stream's last id
    #[arg(long, requires = "from_file")]
    pub keep_ids: bool,
}

/// `--trim-mode`: what a trim does about the entries' references in the
/// groups' PELs (Redis 8.2).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct TrimModeArgs {
    /// Redis 8.2+: keepref leaves removed entries' ids in the PELs, delref removes them too, acked removes only what every group has read and acked
    #[arg(
        long = "trim-mode",
        env = "STREAMLAB_TRIM_MODE",
        value_enum,
        value_name = "keepref|delref|acked"
    )]
    pub mode: Option<TrimModeArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrimModeArg {
    Keepref,
    Delref,
    Acked,
}

impl TrimModeArgs {
    pub fn mode(self) -> Option<TrimMode> {
        self.mode.map(|m| match m {
            TrimModeArg::Keepref => TrimMode::KeepRef,
            TrimModeArg::Delref => TrimMode::DelRef,
            TrimModeArg::Acked => TrimMode::Acked,
        })
    }
}

/// Partitioned streams, for the commands that may create a stream.
#[derive(Debug, Clone, Default, Args)]
pub struct PartitionArgs {
    /// Create the stream as N stream keys spread over the cluster's masters (only when it does not exist yet)
    #[arg(long, env = "STREAMLAB_PARTITIONS", value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub partitions: Option<u64>,
    /// Send entries with the same value of this field to the same partition (default: round-robin)
    #[arg(long, env = "STREAMLAB_PARTITION_BY", value_name = "FIELD", value_parser = ["kind", "payload", "created_ms", "seq"])]
    pub partition_by: Option<String>,
}

pub fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of tasks per second"))?;
    if !(r.is_finite() && r > 0.0 && r <= 10_000_000.0) {
        return Err(format!(
            "rate {s} is out of range: use a number above 0 and at most 10000000"
        ));
    }
    Ok(r)
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a probability"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!(
            "{s} is not a probability: use a number from 0 to 1"
        ));
    }
    Ok(p)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Text,
    Json,
    None,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Consume options")]
pub struct ConsumeArgs {
    /// Start: '$' (new entries only), 0-0 (the backlog), saved (the saved offset, else '$'), or an id
    #[arg(long, env = "STREAMLAB_FROM", default_value = "saved")]
    pub from: String,
    /// Consumer name (its offset is saved under <stream>:offset:<name>)
    #[arg(long, env = "STREAMLAB_CONSUMER", default_value = "basic")]
    pub name: String,
    /// Entries per XREAD
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub count: u64,
    /// BLOCK per XREAD
    #[arg(long, default_value = "2s", value_parser = block_arg)]
    pub block: Duration,
    /// Print JSON lines instead of text
    #[arg(long)]
    pub json: bool,
    /// Stop after this many entries
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Do not save the offset
    #[arg(long)]
    pub no_save: bool,
}

fn block_arg(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(1) || d > Duration::from_secs(60) {
        return Err(format!(
            "block {s} is out of range: use 1ms to 60s (short blocks keep shutdown quick)"
        ));
    }
    Ok(d)
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Worker options")]
pub struct WorkerArgs {
    /// Consumer name (default: <host>-<pid>)
    #[arg(long, env = "STREAMLAB_CONSUMER")]
    pub name: Option<String>,
    #[command(flatten)]
    pub tuning: WorkerTuning,
    /// Simulated work per task
    #[arg(long, env = "STREAMLAB_WORK_MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub work_ms: u64,
    /// Probability that a task fails (stays pending, retried)
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub fail_rate: f64,
    /// Probability that the worker crashes mid-task (exits without acking)
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub crash_rate: f64,
    /// How to report events on stdout
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    pub events: EventsFormat,
}

/// Group-worker settings shared by `worker` and the dashboard.
#[derive(Debug, Clone, Args)]
pub struct WorkerTuning {
    /// Entries per XREADGROUP (default 100; the dashboard's workers 10)
    #[arg(long = "read-count", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub read_count: Option<u64>,
    /// BLOCK per XREADGROUP
    #[arg(long, default_value = "2s", value_parser = block_arg)]
    pub block: Duration,
    /// How often to run XAUTOCLAIM
    #[arg(long, env = "STREAMLAB_CLAIM_EVERY", value_parser = duration_arg)]
    pub claim_every: Option<Duration>,
    /// Idle time after which XAUTOCLAIM takes an entry from its consumer
    #[arg(long, env = "STREAMLAB_MIN_IDLE", value_parser = duration_arg)]
    pub min_idle: Option<Duration>,
    /// Entries per XAUTOCLAIM
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub claim_count: u64,
    /// Deliveries after which an entry goes to <stream>:dead
    #[arg(long, env = "STREAMLAB_MAX_DELIVERIES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_deliveries: u64,
    /// Redis 8.2+: ack with XACKDEL ... ACKED, so an entry leaves the stream once every group has acked it
    #[arg(long, env = "STREAMLAB_ACK_DELETE")]
    pub ack_delete: bool,
}

/// The thresholds of the consumer diagnosis and the poison flag, shared by
/// `monitor`, `watch` and the dashboard.
#[derive(Debug, Clone, Args)]
pub struct DiagnosisArgs {
    /// A consumer whose oldest pending entry is idle this long is stalled (it stopped reading) or leaking (it reads on)
    #[arg(long, env = "STREAMLAB_STUCK_AFTER", default_value = "5m", value_parser = stuck_arg)]
    pub stuck_after: Duration,
    /// An entry delivered this many times is poison (flagged, never touched)
    #[arg(long, env = "STREAMLAB_POISON_AFTER", default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub poison_after: u64,
}

fn stuck_arg(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!(
            "stuck-after {s} is too short: use 1s or more (entries in flight are idle for a moment)"
        ));
    }
    Ok(d)
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Monitor options")]
pub struct MonitorArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Poll once and exit
    #[arg(long)]
    pub once: bool,
    /// Time between polls
    #[arg(long, default_value = "1s", value_parser = interval_arg)]
    pub interval: Duration,
    /// Also fetch this many entries of the group's PEL per poll (as the dashboard does)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=200))]
    pub pel_page: Option<u64>,
    /// Stop after this many polls
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub polls: Option<u64>,
    /// Every stream, one row each (with --once: the complete scan)
    #[arg(long, conflicts_with = "pel_page")]
    pub all: bool,
    /// With --all: only streams whose key matches this glob (SCAN MATCH)
    #[arg(long = "match", value_name = "PATTERN", requires = "all")]
    pub pattern: Option<String>,
    #[command(flatten)]
    pub diagnosis: DiagnosisArgs,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Info options")]
pub struct InfoArgs {
    /// Print JSON: {"server", "memory", "advice": [{"level", "topic", "message"}]}
    #[arg(long)]
    pub json: bool,
}

fn interval_arg(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(50) || d > Duration::from_secs(3600) {
        return Err(format!("interval {s} is out of range: use 50ms to 1h"));
    }
    Ok(d)
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Trim options")]
#[command(group(clap::ArgGroup::new("how").required(true).args(["maxlen", "minid", "safe", "acked"])))]
pub struct TrimArgs {
    /// Remove only what every group has delivered and acked (XTRIM MINID
    /// to the lowest group position); refused when a position is unknown
    #[arg(long)]
    pub safe: bool,
    /// Redis 8.2+: remove every entry that every group has read and acked
    /// (XTRIM MAXLEN = 0 ACKED), also those after one a group still holds
    #[arg(long)]
    pub acked: bool,
    /// Keep about this many entries (exactly with --exact)
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..))]
    pub maxlen: Option<u64>,
    /// Trim to exactly --maxlen (slower than the default approximate trim)
    #[arg(long, requires = "maxlen")]
    pub exact: bool,
    /// Remove entries with ids below this one
    #[arg(long)]
    pub minid: Option<String>,
    /// Show what --safe, --acked or --minid would remove, and remove nothing
    #[arg(long, conflicts_with = "maxlen")]
    pub dry_run: bool,
    #[command(flatten)]
    pub trim_mode: TrimModeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub action: DlqAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum DlqAction {
    /// List dead letters, oldest first
    #[command(next_help_heading = "List options")]
    List {
        /// How many dead letters to list
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        count: u64,
        /// Print JSON lines
        #[arg(long)]
        json: bool,
    },
    /// Put dead letters back on the stream as new tasks and remove them from the DLQ
    #[command(next_help_heading = "Replay options")]
    Replay {
        /// How many dead letters to replay, oldest first
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        count: u64,
    },
}

#[derive(Debug, Clone, Args)]
pub struct PendingArgs {
    #[command(subcommand)]
    pub action: PendingAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum PendingAction {
    /// List the entries (oldest first): id, consumer, idle, deliveries, deleted
    #[command(next_help_heading = "List options")]
    List {
        #[command(flatten)]
        select: PendingSelect,
        /// One JSON line per entry: {"id", "consumer", "idle_ms", "deliveries", "deleted"}
        #[arg(long)]
        json: bool,
    },
    /// XACK them: they leave the PEL and are never delivered again
    #[command(next_help_heading = "Ack options")]
    Ack {
        #[command(flatten)]
        select: PendingSelect,
        #[command(flatten)]
        write: PendingWrite,
    },
    /// XCLAIM them to a consumer (useful when it reads its own PEL again)
    #[command(next_help_heading = "Claim options")]
    Claim {
        #[command(flatten)]
        select: PendingSelect,
        /// The consumer that takes them (XCLAIM creates it if the group has none of that name)
        #[arg(long, value_name = "CONSUMER")]
        to: String,
        #[command(flatten)]
        write: PendingWrite,
    },
    /// Add a copy of each (same fields, byte for byte) and XACK the original in one MULTI/EXEC: readers of `>` get it again
    #[command(next_help_heading = "Requeue options")]
    Requeue {
        #[command(flatten)]
        select: PendingSelect,
        /// One JSON line per entry: {"from": "<old id>", "to": "<new id>"}
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        write: PendingWrite,
    },
    /// Copy each to <stream>:dead with the reason and XACK it, as the worker does
    #[command(next_help_heading = "Dead-letter options")]
    DeadLetter {
        #[command(flatten)]
        select: PendingSelect,
        #[command(flatten)]
        write: PendingWrite,
    },
}

/// Which pending entries a `pending` subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct PendingSelect {
    /// Only this consumer's entries
    #[arg(long, value_name = "NAME")]
    pub consumer: Option<String>,
    /// Only entries idle at least this long (e.g. 5m, 4m30s)
    #[arg(long, value_parser = duration_arg, value_name = "DURATION")]
    pub min_idle: Option<Duration>,
    /// Only entries delivered at least this many times
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub min_deliveries: Option<u64>,
    /// Only these ids, comma separated; `-` reads them from stdin (one or more a line)
    #[arg(long, value_name = "ID,...|-")]
    pub ids: Option<String>,
    /// At most this many entries (default: all, read 500 at a time)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Only entries whose stream entry is gone (XDEL, a KEEPREF trim): `pending ack --deleted` clears these dangling references
    #[arg(long)]
    pub deleted: bool,
}

/// How a writing `pending` subcommand is confirmed.
#[derive(Debug, Clone, Args)]
pub struct PendingWrite {
    /// Print the exact commands it would send, and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do it without asking (needed when stdin is not a terminal)
    #[arg(long, conflicts_with = "dry_run")]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Bench options")]
pub struct BenchArgs {
    /// Tasks per throughput phase
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub tasks: u64,
    /// Group workers draining in parallel
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub workers: u64,
    /// Producer connections adding in parallel
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub producers: u64,
    /// XADDs per pipelined batch
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// Entries per XREADGROUP in the drain
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub read_count: u64,
    /// Offered rate of the latency phase (tasks/s)
    #[arg(long, default_value = "2000", value_parser = parse_rate)]
    pub rate: f64,
    /// Length of the latency phase
    #[arg(long = "latency-for", default_value = "5s", value_parser = duration_arg)]
    pub latency_for: Duration,
    /// Threads of the async runtime (1 leaves the other cores to a local Redis)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub client_threads: u64,
    /// Spread each throughput phase over N partition keys (placed over the cluster's masters)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub partitions: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// Phases to run, for profiling one path (a drain still fills its stream)
    #[arg(
        long,
        hide = true,
        value_enum,
        value_delimiter = ',',
        default_value = "produce,drain,e2e,latency"
    )]
    pub phases: Vec<BenchPhase>,
}

/// A phase of `streamlab bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchPhase {
    Produce,
    Drain,
    E2e,
    Latency,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Read options")]
pub struct ReadArgs {
    /// First entry: an id (or its milliseconds), -, an RFC 3339 time, a local time (2026-12-05 07:58) or an age (15m: that long ago)
    #[arg(long, default_value = "-", value_name = "POSITION")]
    pub from: String,
    /// Last entry, in the same forms as --from (+ is the newest)
    #[arg(long, default_value = "+", value_name = "POSITION")]
    pub to: String,
    /// Only the N newest entries (of those that match), printed oldest first
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub last: Option<u64>,
    /// Stop after printing N entries
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Newest first
    #[arg(long)]
    pub reverse: bool,
    /// Only entries with a field FIELD whose value matches the glob (repeatable: all must hold)
    #[arg(long = "match", value_name = "FIELD=GLOB")]
    pub matches: Vec<String>,
    /// Only entries where some field name or value contains TEXT
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// After the range, wait for new entries (XREAD BLOCK; no group, nothing written)
    #[arg(long)]
    pub follow: bool,
    /// One JSON object per line: {"stream", "id", "ms", "fields": [[name, value], ...]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Watch options")]
pub struct WatchArgs {
    /// Enable the admin actions (ack, claim, dead-letter, delete a consumer, trim, XGROUP SETID and DESTROY), each confirmed
    #[arg(long)]
    pub allow_writes: bool,
    /// Only streams whose key matches this glob on the overview (SCAN MATCH)
    #[arg(long = "match", value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Time between polls of Redis
    #[arg(long, env = "STREAMLAB_REFRESH", default_value = "500ms", value_parser = interval_arg)]
    pub refresh: Duration,
    #[command(flatten)]
    pub diagnosis: DiagnosisArgs,
}

/// Options of the dashboard (no subcommand).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Dashboard options")]
pub struct DashboardArgs {
    /// Group workers to start
    #[arg(long, env = "STREAMLAB_WORKERS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=64))]
    pub workers: u64,
    /// Time between polls of Redis
    #[arg(long, env = "STREAMLAB_REFRESH", default_value = "500ms", value_parser = interval_arg)]
    pub refresh: Duration,
    /// Rate of continuous production when started with `r` (tasks/s)
    #[arg(long = "produce-rate", env = "STREAMLAB_PRODUCE_RATE", default_value = "20", value_parser = parse_rate)]
    pub produce_rate: f64,
    /// Start continuous production at once
    #[arg(long)]
    pub produce: bool,
    /// The lab's producer keeps about this many entries (XADD MAXLEN ~)
    #[arg(long, env = "STREAMLAB_MAXLEN", value_parser = clap::value_parser!(u64).range(1..))]
    pub maxlen: Option<u64>,
    #[command(flatten)]
    pub trim_mode: TrimModeArgs,
    /// Run the lab (producer, basic consumer, workers: they add, read and
    /// ack entries) even on a stream streamlab did not create
    #[arg(long)]
    pub lab: bool,
    /// Simulated work per task for the embedded workers
    #[arg(long = "dashboard-work-ms", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub work_ms: u64,
    /// Start the lab with a pathology on its stream: crash, poison, stall, leak or backlog (README "Lab scenarios")
    #[arg(long, value_name = "NAME", value_parser = ["crash", "poison", "stall", "leak", "backlog"])]
    pub scenario: Option<String>,
    #[command(flatten)]
    pub partitioning: PartitionArgs,
    #[command(flatten)]
    pub tuning: WorkerTuning,
    #[command(flatten)]
    pub diagnosis: DiagnosisArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn produce_group_is_explicit_only() {
        let cli =
            Cli::try_parse_from(["streamlab", "produce", "--group", "g1", "--count", "5"]).unwrap();
        assert_eq!(cli.global.group.as_deref(), Some("g1"));
        assert!(matches!(
            cli.command,
            Some(Command::Produce(ProduceArgs { count: Some(5), .. }))
        ));
    }

    #[test]
    fn zero_durations_need_no_unit() {
        let cli = Cli::try_parse_from(["streamlab", "worker", "--min-idle", "0"]).unwrap();
        let Some(Command::Worker(w)) = cli.command else {
            panic!("not a worker: {:?}", cli.command)
        };
        assert_eq!(w.tuning.min_idle, Some(Duration::ZERO));
    }

    #[test]
    fn absurd_values_are_rejected() {
        for args in [
            vec!["streamlab", "produce", "--count", "0"],
            vec!["streamlab", "produce", "--rate", "-3"],
            vec!["streamlab", "worker", "--fail-rate", "2"],
            vec!["streamlab", "worker", "--min-idle", "forever"],
            vec!["streamlab", "worker", "--min-idle", "1000"],
            vec!["streamlab", "trim"],
        ] {
            assert!(Cli::try_parse_from(&args).is_err(), "{args:?}");
        }
    }
}

/// `--listen` unless given: loopback only, on a port outside the range
/// the Prometheus exporters' port list allocates (docs/decisions.md).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:19121";

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Exporter options")]
pub struct ExporterArgs {
    /// Address and port to serve /metrics on: HOST:PORT, :PORT for every interface, [::1]:PORT
    #[arg(long, env = "STREAMLAB_LISTEN", value_name = "ADDR", default_value = DEFAULT_LISTEN, value_parser = listen_arg)]
    pub listen: std::net::SocketAddr,
    /// Only streams whose key matches this glob (SCAN MATCH)
    #[arg(long = "match", value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Time between polls of Redis (each refreshes a share of the streams; scrapes send no command)
    #[arg(long, default_value = "1s", value_parser = interval_arg)]
    pub interval: Duration,
    /// Leave out the per-consumer series (streamlab_consumer_*)
    #[arg(long)]
    pub no_consumer_metrics: bool,
    #[command(flatten)]
    pub diagnosis: DiagnosisArgs,
}

/// `--listen`: an IP address and port, `:PORT` (every interface), or
/// `localhost:PORT`.
fn listen_arg(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    let wrong = || {
        format!(
            "listen address {s} is not HOST:PORT: use e.g. {DEFAULT_LISTEN}, :19121 (every interface) or [::1]:19121"
        )
    };
    if let Some(port) = s.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| wrong())?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| wrong())?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse().map_err(|_| wrong())
}
