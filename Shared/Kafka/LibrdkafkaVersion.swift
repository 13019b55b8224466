/// The librdkafka linked into this process, and the oldest one jobstream runs on.
public enum LibrdkafkaVersion {
    /// 2.2.0 in librdkafka's `0xMMmmrrxx` form. Older versions (Debian 12 ships 2.0.2) mis-parse the
    /// tagged fields of current brokers' ApiVersion responses ("Local: Read underflow").
    public static let minimum: Int32 = 0x0202_00FF

    /// The linked library's version number, `0xMMmmrrxx`.
    public static var linked: Int32 { RDKafkaClient.linkedVersion.number }

    /// The linked library's version text, e.g. "2.8.0".
    public static var linkedText: String { RDKafkaClient.linkedVersion.text }

    /// Whether a version number (`0xMMmmrrxx`) is new enough. Pre-releases of 2.2.0 are not.
    public static func isSupported(_ version: Int32) -> Bool {
        version >= minimum
    }

    /// Throws, saying what to install, when the linked library is too old.
    public static func requireSupported() throws {
        try requireSupported(version: linked, text: linkedText)
    }

    /// The check behind ``requireSupported()``, for any version number.
    public static func requireSupported(version: Int32, text: String) throws {
        guard isSupported(version) else {
            throw KafkaError(
                .unsupportedLibrary,
                """
                librdkafka \(text) is linked, but jobstream needs 2.2 or newer (older versions fail against \
                current brokers with "ApiVersionRequest failed: Local: Read underflow"). Run `make librdkafka` \
                to build 2.8.0 into .local/librdkafka and rebuild, or install librdkafka-dev 2.2 or newer.
                """)
        }
    }
}
