import Logging
import Synchronization

/// Logging for jobstream's executables: lines to standard error at the chosen level, as text or
/// as JSON objects (``JSONLogHandler``).
public enum LoggingSetup {
    private static let bootstrapped = Mutex(false)

    /// Bootstraps swift-log on the first call in a process (later calls keep that setup) and
    /// returns a logger labelled `label` at `level`.
    public static func bootstrap(label: String, level: Logger.Level, format: LogFormat = .text) -> Logger {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                switch format {
                case .text:
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = .trace  // each Logger sets its own level
                    return handler
                case .json:
                    var handler = JSONLogHandler(label: label)
                    handler.logLevel = .trace
                    return handler
                }
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
