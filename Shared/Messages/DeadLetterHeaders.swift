/// The headers a dead-lettered message carries, besides its original key, value and headers.
public enum DeadLetterHeaders {
    /// Why the message could not be decoded or handled.
    public static let error = "jobstream.dead-letter.error"
    /// Where it was read from.
    public static let originalTopic = "jobstream.dead-letter.topic"
    public static let originalPartition = "jobstream.dead-letter.partition"
    public static let originalOffset = "jobstream.dead-letter.offset"
    /// The consumer group that gave up on it.
    public static let consumerGroup = "jobstream.dead-letter.group"
    /// When, as an RFC 3339 time.
    public static let failedAt = "jobstream.dead-letter.time"
}

extension DeadLetterHeaders {
    /// Set when the original value did not fit in the dead letter and was cut: its size in bytes and
    /// its SHA-256 (hex), so the original can be found and checked on its own topic.
    public static let originalValueBytes = "jobstream.dead-letter.original-bytes"
    public static let originalValueSHA256 = "jobstream.dead-letter.original-sha256"
    /// Set when the original headers did not fit either: how many there were.
    public static let originalHeadersDropped = "jobstream.dead-letter.original-headers-dropped"
}
