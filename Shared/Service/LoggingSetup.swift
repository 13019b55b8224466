import Logging

/// Logging for jobstream's executables: lines to standard error at the chosen level.
public enum LoggingSetup {
    /// Bootstraps swift-log once per process and returns a logger labelled `label`.
    public static func bootstrap(label: String, level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
