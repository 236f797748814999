//! The closed set of outcome kinds and the event a worker sends for each invocation. Kinds stay
//! typed from the worker to the report so that no count depends on comparing error texts.

/// How one invocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A 2xx answer with no platform error marker.
    Success,
    /// 429 Too Many Requests.
    Throttled,
    /// Any other status that is not 2xx (kept by code in the status table).
    HttpError,
    /// A 2xx answer that the platform marks as a failure of the function itself
    /// (Lambda's `X-Amz-Function-Error`).
    FunctionError,
    /// No complete answer within `--timeout`.
    Timeout,
    /// The TCP (or TLS) connection could not be set up.
    ConnectError,
    /// The connection broke or the answer was malformed.
    IoError,
    /// Still in flight when the stop and its grace period were over.
    Cancelled,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::Success,
        Kind::Throttled,
        Kind::HttpError,
        Kind::FunctionError,
        Kind::Timeout,
        Kind::ConnectError,
        Kind::IoError,
        Kind::Cancelled,
    ];

    /// Number of kinds, for per-kind count arrays.
    pub const COUNT: usize = Kind::ALL.len();

    /// The snake_case key used in JSON reports.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::Throttled => "throttled",
            Kind::HttpError => "http_error",
            Kind::FunctionError => "function_error",
            Kind::Timeout => "timeout",
            Kind::ConnectError => "connect_error",
            Kind::IoError => "io_error",
            Kind::Cancelled => "cancelled",
        }
    }

    /// The words used in the text report and on stderr.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::Throttled => "throttled",
            Kind::HttpError => "http error",
            Kind::FunctionError => "function error",
            Kind::Timeout => "timeout",
            Kind::ConnectError => "connect error",
            Kind::IoError => "io error",
            Kind::Cancelled => "cancelled",
        }
    }

    /// Position in [`Kind::ALL`], for indexing count arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses a JSON key back into a kind.
    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// The classified result of one invocation, as a worker reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Index of the worker that made the invocation.
    pub worker: u32,
    /// Index of the operation in the run's operation list.
    pub operation: u16,
    /// Index of the function in the run's function list.
    pub function: u16,
    /// How it ended.
    pub kind: Kind,
    /// HTTP status, 0 when no answer was received.
    pub status: u16,
    /// Time from the send to the end of the answer, in microseconds.
    pub latency_us: u64,
    /// When it ended, in microseconds since the measurement began (the end of the warm-up);
    /// warm-up outcomes have 0.
    pub end_us: u64,
    /// Response body bytes read.
    pub bytes: u64,
    /// Open model only: time from when the invocation was due to the end of its answer
    /// (latency corrected for coordinated omission); 0 in the closed model.
    pub corrected_us: u64,
    /// Open model only: how long after its due time the invocation was sent.
    pub late_us: u64,
    /// What went wrong, for the error table; `None` for successes and plain status errors.
    pub detail: Option<Box<str>>,
    /// The init duration in microseconds when the platform's log tail marked a cold start.
    pub init_us: Option<u32>,
    /// True when this invocation had to open a new connection.
    pub connected: bool,
    /// True when it was sent during the warm-up, which keeps it out of the statistics.
    pub warmup: bool,
    /// Sent a second time on a new connection because the server had closed the reused one
    /// without reading the first.
    pub resent: bool,
    /// The body was longer than `--max-body` and was cut there.
    pub truncated: bool,
}

/// What flows over the channel from the workers (and the engine) to the collector.
#[derive(Debug)]
pub enum Event {
    /// One invocation ended.
    Outcome(Outcome),
    /// An invocation was still in flight when the run was cut after its grace period.
    Cancelled {
        /// Index of the worker.
        worker: u32,
        /// Index of the operation it was running.
        operation: u16,
        /// Index of the function it was invoking.
        function: u16,
    },
    /// Nothing more will be sent; the collector finishes its stats.
    Finish,
}
