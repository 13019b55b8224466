/// How consumed values are packed: the small values of a run of consecutive messages are copied into
/// one buffer and handed out as slices of it, so a batch of small messages costs one allocation
/// rather than one per message, while no kept message keeps more than ``bufferBytes`` alive.
enum PackedValues {
    /// Values up to this size share a buffer with their neighbours; a larger one gets its own.
    static let valueBytes = 16 * 1024
    /// The most bytes one shared buffer holds (unless a single value alone is larger).
    static let bufferBytes = 1024 * 1024

    /// The run of messages from `start` (of `count`) whose packed values share one buffer, and that
    /// buffer's size; `packedLength` gives each message's bytes to pack (zero for one not packed).
    /// A run holds at least one message.
    static func run(from start: Int, count: Int, packedLength: (Int) -> Int) -> (messages: Range<Int>, bytes: Int) {
        var end = start
        var bytes = 0
        while end < count {
            let length = packedLength(end)
            if end > start && bytes + length > bufferBytes { break }
            bytes += length
            end += 1
        }
        return (start..<end, bytes)
    }
}
