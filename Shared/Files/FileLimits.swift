import JobstreamCSV

/// The bounds an uploaded backfill file is held to, set per validator (each has a setting; the
/// README's "Limits and failure behaviour" lists them). A file past one fails its job with a reason
/// that names the limit, before the validator holds more of it than the limit in memory or on disk.
public struct FileLimits: Sendable, Hashable {
    /// Bytes of a field, fields of a record, bytes of a record.
    public var csv: CSVReader.Limits
    /// Bytes of the uploaded file (a `.csv`, or a `.zip`).
    public var fileBytes: Int64
    /// Bytes of the `.csv` inside a zip, once unpacked.
    public var unpackedBytes: Int64
    /// How many times larger than its packed size the `.csv` inside a zip may be.
    public var compressionRatio: Int64
    /// The longest unpacking a zip may take.
    public var unpackTime: Duration

    public init(
        csv: CSVReader.Limits = .standard, fileBytes: Int64 = 4 << 30, unpackedBytes: Int64 = 4 << 30,
        compressionRatio: Int64 = 200, unpackTime: Duration = .seconds(900)
    ) {
        self.csv = csv
        self.fileBytes = fileBytes
        self.unpackedBytes = unpackedBytes
        self.compressionRatio = compressionRatio
        self.unpackTime = unpackTime
    }

    public static let standard = FileLimits()
}
