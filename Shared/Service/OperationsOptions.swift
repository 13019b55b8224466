import ArgumentParser

/// The options of a long-running service for operating it: its configuration file, its log format
/// and its operations port (metrics, health, readiness).
public struct OperationsOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "A configuration file of key = value lines, with the names of these options.",
            discussion: "Defaults to $JOBSTREAM_CONFIG. Flags win over the environment, which wins over the file.",
            valueName: "file"))
    public var config: String?

    @Option(
        name: .customLong("log-format"),
        help: ArgumentHelp(
            "Log lines as text, or as one JSON object per line for log collectors.",
            valueName: "text|json"))
    public var logFormat: LogFormat = Settings.value("log-format", default: .text)

    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp(
            "Serve /metrics (Prometheus), /health and /ready on this port (0 picks a free one).",
            discussion: "No operations port unless given.", valueName: "port"))
    var metricsPortOption: Int?

    /// The operations port: the flag, else the environment or the configuration file, else none.
    public var metricsPort: Int? { metricsPortOption ?? Settings.value("metrics-port") }

    @Option(
        name: .customLong("metrics-host"), help: ArgumentHelp("The address the operations port listens on.", valueName: "address")
    )
    public var metricsHost: String = Settings.value("metrics-host", default: "127.0.0.1")

    @Option(
        name: .customLong("statistics-interval"),
        help: ArgumentHelp(
            "Seconds between librdkafka's statistics (consumer lag, queues, broker round trips) in /metrics.",
            valueName: "seconds"))
    public var statisticsInterval: Int = Settings.value("statistics-interval", default: 5)

    public init() {}

    public func validate() throws {
        if let metricsPort, !(0...65_535).contains(metricsPort) {
            throw ValidationError("--metrics-port \(metricsPort) is not a port number (0 to 65535)")
        }
        guard statisticsInterval >= 1 else {
            throw ValidationError("--statistics-interval \(statisticsInterval): give at least 1 second")
        }
        guard !metricsHost.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--metrics-host is empty") }
        try Settings.validate()  // a bad metrics-port in the environment or the file, read above
        try Settings.validate()
    }
}

/// How log lines are written.
public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// swift-log's text lines.
    case text
    /// One JSON object per line: time, level, label, message and metadata.
    case json
}
